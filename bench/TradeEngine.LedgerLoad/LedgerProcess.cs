using Grpc.Net.Client;
using TradeEngine.Testing.Hosting;

namespace TradeEngine.LedgerLoad;

/// <summary>
/// The Ledger as production runs it: its own process (tests/Testing's <see cref="ServiceProcess"/>: environment
/// Production, 127.0.0.1, configured through the Aspire keys). The load generator, its gRPC client and the measuring
/// consumer then neither share the Ledger's thread pool and GC nor count in its CPU time.
/// </summary>
internal sealed class LedgerProcess : IAsyncDisposable
{
    private const string PassThroughPrefix = "LEDGERLOAD_LEDGER_";
    private readonly ServiceProcess _process;

    private LedgerProcess(ServiceProcess process) => _process = process;

    public GrpcChannel Channel => _process.Channel;

    /// <summary>CPU time (user + system) the Ledger process has used so far.</summary>
    public TimeSpan CpuTime => _process.CpuTime;

    public static async Task<LedgerProcess> StartAsync(string database, string eventBus, bool relay = true)
    {
        var environment = new Dictionary<string, string?>
        {
            ["ConnectionStrings__ledgerdb"] = database,
            ["ConnectionStrings__eventbus"] = eventBus,
            ["Ledger__Outbox__RelayEnabled"] = relay ? "true" : "false",
        };
        // Runtime knobs to try on the Ledger alone: LEDGERLOAD_LEDGER_DOTNET_gcServer=0 sets DOTNET_gcServer=0 for it.
        foreach (var (name, value) in Environment.GetEnvironmentVariables().Cast<System.Collections.DictionaryEntry>()
                     .Select(e => ((string)e.Key, (string?)e.Value)).Where(e => e.Item1.StartsWith(PassThroughPrefix, StringComparison.Ordinal)))
        {
            environment[name[PassThroughPrefix.Length..]] = value;
        }

        return new LedgerProcess(await ServiceProcess.StartAsync("TradeEngine.Ledger.dll", environment, line => Console.WriteLine($"  [ledger] {line}")));
    }

    public ValueTask DisposeAsync() => _process.DisposeAsync();
}
