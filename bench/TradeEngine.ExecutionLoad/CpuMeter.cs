using System.Diagnostics;
using System.Globalization;

namespace TradeEngine.ExecutionLoad;

/// <summary>
/// The CPU the measured window used: the machine's (every service, the simulator, PostgreSQL, RabbitMQ and the clients
/// share it) from <c>/proc/stat</c>, and this process's. A run whose machine is busy nearly all the window is bound by
/// CPU: its clients (a closed loop) then wait in proportion to the CPU a round trip costs, whatever the code's path.
/// </summary>
internal sealed class CpuMeter
{
    private readonly (long Busy, long Total)? _machine = ReadMachine();
    private readonly TimeSpan _process = Process.GetCurrentProcess().TotalProcessorTime;
    private readonly long _started = Stopwatch.GetTimestamp();

    /// <summary>A line for the report: the machine's and this process's share of the window, and CPU per round trip.</summary>
    public string Describe(int roundTrips)
    {
        var wall = Stopwatch.GetElapsedTime(_started);
        var cores = Environment.ProcessorCount;
        var process = Process.GetCurrentProcess().TotalProcessorTime - _process;
        var line = string.Create(CultureInfo.InvariantCulture,
            $"CPU while measuring: this process {process / wall / cores:P0} of {cores} cores ({process.TotalMilliseconds / roundTrips:F2} ms a round trip)");
        if (_machine is not { } before || ReadMachine() is not { } after || after.Total == before.Total)
        {
            return line + "; the machine's share is not readable here";
        }

        // /proc/stat counts in ticks over all cores: busy ÷ total is the share of the machine, and busy ticks ÷ ticks a
        // second (100 on Linux, USER_HZ) the CPU time.
        var share = (double)(after.Busy - before.Busy) / (after.Total - before.Total);
        var machineMs = (after.Busy - before.Busy) * 10.0;
        return line + string.Create(CultureInfo.InvariantCulture,
            $"; the machine {share:P0} busy ({machineMs / roundTrips:F2} ms a round trip, every process)");
    }

    /// <summary>The first line of /proc/stat: busy and total ticks (idle and iowait are not busy); null off Linux.</summary>
    private static (long Busy, long Total)? ReadMachine()
    {
        try
        {
            var fields = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields[0] != "cpu" || fields.Length < 8)
            {
                return null;
            }

            // user nice system idle iowait irq softirq steal (guest time is already in user).
            var ticks = fields.Skip(1).Take(8).Select(f => long.Parse(f, CultureInfo.InvariantCulture)).ToArray();
            var total = ticks.Sum();
            return (total - ticks[3] - ticks[4], total);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return null;
        }
    }
}
