using System.Globalization;

namespace TradeEngine.LedgerLoad;

/// <summary>
/// CPU time of a process and every process below it, from <c>/proc/PID/stat</c> (user + system time, and that of its
/// children already waited for). A local PostgreSQL is a postmaster with one backend per connection, a local RabbitMQ
/// a shell script with the Erlang VM under it: the tree is the server. Linux only; null elsewhere or without a root.
/// </summary>
internal static class ProcessTreeCpu
{
    // /proc reports times in clock ticks of USER_HZ, which the Linux ABI fixes at 100 a second.
    private const double TicksPerSecond = 100;

    public static TimeSpan? Read(int? root)
    {
        if (root is not { } rootId || !Directory.Exists("/proc"))
        {
            return null;
        }

        var parents = new Dictionary<int, int>();
        var ticks = new Dictionary<int, long>();
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                continue;
            }

            string stat;
            try
            {
                stat = File.ReadAllText(Path.Combine(directory, "stat"));
            }
            catch (IOException)
            {
                continue; // the process ended meanwhile
            }

            // "pid (comm) state ppid … utime stime cutime cstime …": comm may hold spaces and parentheses, so the fields
            // are counted from after its last ')'. After it: [0] state, [1] ppid, [11] utime, [12] stime, [13] cutime, [14] cstime.
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            parents[pid] = int.Parse(fields[1], CultureInfo.InvariantCulture);
            ticks[pid] = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)
                + long.Parse(fields[13], CultureInfo.InvariantCulture) + long.Parse(fields[14], CultureInfo.InvariantCulture);
        }

        long total = 0;
        foreach (var (pid, own) in ticks)
        {
            for (var at = pid; at > 1; at = parents.GetValueOrDefault(at))
            {
                if (at == rootId)
                {
                    total += own;
                    break;
                }
            }
        }

        return TimeSpan.FromSeconds(total / TicksPerSecond);
    }
}
