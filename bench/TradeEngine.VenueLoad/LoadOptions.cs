using System.Globalization;

namespace TradeEngine.VenueLoad;

/// <summary>Command line: --requests N (per target, default 50000), --seconds S (per target, default 20), --concurrency C (default 8), --warmup N.</summary>
internal sealed record LoadOptions(int Requests, TimeSpan Duration, int Concurrency, int Warmup, string? PaperDll)
{
    public const int MaxRequests = 1_000_000;
    public static readonly TimeSpan MaxDuration = TimeSpan.FromMinutes(5);

    public static LoadOptions Parse(string[] args)
    {
        int requests = 50_000, seconds = 20, concurrency = 8, warmup = 5_000;
        string? paperDll = null;
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            var value = args[i + 1];
            switch (args[i])
            {
                case "--requests": requests = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--seconds": seconds = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--concurrency": concurrency = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--warmup": warmup = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--paper-dll": paperDll = value; break;
                default: throw new ArgumentException($"unknown option {args[i]}");
            }
        }

        if (requests is < 1 or > MaxRequests || seconds < 1 || TimeSpan.FromSeconds(seconds) > MaxDuration || concurrency is < 1 or > 512 || warmup < 0)
        {
            throw new ArgumentException("requests 1..1,000,000, seconds 1..300, concurrency 1..512, warmup ≥ 0");
        }

        return new LoadOptions(requests, TimeSpan.FromSeconds(seconds), concurrency, warmup, paperDll);
    }
}
