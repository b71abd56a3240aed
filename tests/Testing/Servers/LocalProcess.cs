using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;

namespace TradeEngine.Testing.Servers;

/// <summary>
/// A server process started from a locally installed package, optionally as another user (<c>runuser -u</c>)
/// because PostgreSQL and RabbitMQ refuse to run as root. Its output is kept (the tail, for error messages),
/// and the whole process tree is killed on <see cref="Kill"/>, on dispose, and when the test process exits.
/// </summary>
/// <remarks>
/// A test host that dies without running its exit handlers (a crash, SIGKILL) is covered by a watchdog: a small
/// <c>sh</c> per server that blocks reading a pipe only the test host holds open; when the host is gone the read
/// returns and the watchdog kills the server's process tree.
/// </remarks>
public sealed class LocalProcess : IDisposable
{
    private const int KeptOutputLines = 200;
    private static readonly ConcurrentDictionary<LocalProcess, byte> Running = new();
    private const string WatchdogScript =
        "read -r _; " +
        "pids=$(ps -e -o pid= -o ppid= | awk -v root=\"$1\" '{ parent[$1] = $2 } END { found[root] = 1; " +
        "do { changed = 0; for (c in parent) if (!(c in found) && (parent[c] in found)) { found[c] = 1; changed = 1 } } " +
        "while (changed); for (p in found) print p }'); " +
        "kill -KILL $pids 2>/dev/null; exit 0";

    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();
    private Process? _watchdog;

    static LocalProcess()
    {
        // A test run that ends without disposing its fixtures must not leave servers behind.
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            foreach (var p in Running.Keys)
            {
                p.Kill();
            }
        };
    }

    private LocalProcess(Process process) => _process = process;

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>The last lines the process wrote to stdout and stderr.</summary>
    public string OutputTail => string.Join(Environment.NewLine, _output);

    /// <summary>
    /// <see cref="OutputTail"/> of a process that has exited, once its last lines are read: its exit can be seen before the
    /// readers (on other threads) have taken what it wrote last, and a server's reason for exiting ("could not bind")
    /// is in those lines. Waits for the end of its output for at most <paramref name="wait"/> (a child may hold the pipe).
    /// </summary>
    public async Task<string> OutputTailAfterExitAsync(TimeSpan wait)
    {
        using var cts = new CancellationTokenSource(wait);
        try
        {
            // WaitForExitAsync returns once the process has exited and its redirected output has reached its end.
            await _process.WaitForExitAsync(cts.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Its output is still held open: what was read is what there is.
        }

        return OutputTail;
    }

    /// <summary>True when this process runs as root, so servers must be started as their own user.</summary>
    public static bool IsRoot => Environment.UserName == "root";

    /// <summary>Starts <paramref name="fileName"/> as <paramref name="user"/> (when we are root) with the given environment.</summary>
    public static LocalProcess Start(
        string fileName,
        IEnumerable<string> arguments,
        string? user = null,
        IReadOnlyDictionary<string, string>? environment = null,
        string? workingDirectory = null)
    {
        var info = CreateStartInfo(fileName, arguments, user, environment, workingDirectory);
        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var local = new LocalProcess(process);
        process.OutputDataReceived += (_, e) => local.Keep(e.Data);
        process.ErrorDataReceived += (_, e) => local.Keep(e.Data);
        if (!process.Start())
        {
            throw new InvalidOperationException($"Could not start {fileName}.");
        }

        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        Running[local] = 0;
        local._watchdog = StartWatchdog(process.Id);
        return local;
    }

    /// <summary>Runs a command to completion and throws with its output when it fails.</summary>
    public static async Task<string> RunAsync(
        string fileName,
        IEnumerable<string> arguments,
        string? user = null,
        IReadOnlyDictionary<string, string>? environment = null,
        TimeSpan? timeout = null)
    {
        var info = CreateStartInfo(fileName, arguments, user, environment, workingDirectory: null);
        using var process = new Process { StartInfo = info };
        var output = new StringBuilder();
        process.OutputDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.ErrorDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(cts.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{fileName} did not finish in time: {output}");
        }

        return process.ExitCode == 0
            ? output.ToString()
            : throw new InvalidOperationException($"{fileName} {string.Join(' ', info.ArgumentList)} exited with {process.ExitCode}: {output}");
    }

    /// <summary>
    /// Kills the process and every child it started, at once (SIGKILL), and returns once all of them are gone (at most
    /// 10 s): a SIGKILLed process still runs until the kernel has torn it down, which on a loaded machine can be after
    /// the call that sent the signal returns, and until then it holds its ports (a broker's epmd, say).
    /// </summary>
    public void Kill()
    {
        StopWatchdog();
        try
        {
            if (!_process.HasExited)
            {
                var tree = ProcessTree(_process.Id);
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(10_000);
                // Any descendant the kill did not reach (reparented once its parent died first) is killed by its PID, if
                // that PID is still the same process (its start time): a PID freed meanwhile may be someone else's now.
                foreach (var member in tree.Skip(1).Where(IsAlive))
                {
                    KillQuietly(member.Pid);
                }

                var deadline = Stopwatch.StartNew();
                while (tree.Any(IsAlive) && deadline.Elapsed < TimeSpan.FromSeconds(10))
                {
                    Thread.Sleep(20);
                }
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }

        Running.TryRemove(this, out _);
    }

    private static void KillQuietly(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            process.Kill();
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            // Gone meanwhile, or not ours to kill.
        }
    }

    /// <summary>
    /// <paramref name="root"/> and its descendants, from /proc, each with its start time (only <paramref name="root"/>
    /// where there is no /proc).
    /// </summary>
    private static List<(int Pid, string? Started)> ProcessTree(int root)
    {
        var processes = new Dictionary<int, (int Parent, string Started)>();
        if (Directory.Exists("/proc"))
        {
            foreach (var directory in Directory.EnumerateDirectories("/proc"))
            {
                if (int.TryParse(Path.GetFileName(directory), out var pid) && Stat(pid) is { } stat
                    && int.TryParse(stat[1], out var parent))
                {
                    processes[pid] = (parent, stat[19]);
                }
            }
        }

        var tree = new List<(int Pid, string? Started)> { (root, processes.TryGetValue(root, out var r) ? r.Started : null) };
        for (var i = 0; i < tree.Count; i++)
        {
            var pid = tree[i].Pid;
            tree.AddRange(processes.Where(p => p.Value.Parent == pid && !tree.Exists(t => t.Pid == p.Key)).Select(p => (p.Key, (string?)p.Value.Started)));
        }

        return tree;
    }

    /// <summary>
    /// Whether the process is alive and is the one recorded (same start time): a zombie (Z) or exiting (X) process
    /// counts as dead, and so does a PID now used by another process.
    /// </summary>
    private static bool IsAlive((int Pid, string? Started) member) =>
        Stat(member.Pid) is { } stat && stat[0] is not ("Z" or "X") && (member.Started is null || stat[19] == member.Started);

    /// <summary>
    /// The fields of /proc/pid/stat after "pid (comm) " (the name may hold spaces and parentheses): [0] the state,
    /// [1] the parent's pid, ..., [19] the start time; null when the process is gone.
    /// </summary>
    private static string[]? Stat(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var end = stat.LastIndexOf(')');
            var fields = end < 0 || end + 2 > stat.Length ? [] : stat[(end + 2)..].Split(' ');
            return fields.Length > 19 ? fields : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    public void Dispose()
    {
        Kill();
        _process.Dispose();
    }

    private static Process? StartWatchdog(int pid)
    {
        var info = new ProcessStartInfo("/bin/sh")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = false,
            RedirectStandardError = false,
            UseShellExecute = false,
            WorkingDirectory = "/",
        };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add(WatchdogScript);
        info.ArgumentList.Add("te-watchdog");
        info.ArgumentList.Add(pid.ToString(System.Globalization.CultureInfo.InvariantCulture));
        try
        {
            // Never written to: the pipe closes when the test host ends, however it ends.
            return Process.Start(info);
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }

    private void StopWatchdog()
    {
        var watchdog = Interlocked.Exchange(ref _watchdog, null);
        if (watchdog is null)
        {
            return;
        }

        try
        {
            if (!watchdog.HasExited)
            {
                watchdog.Kill();
                watchdog.WaitForExit(5_000);
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }

        watchdog.Dispose();
    }

    private void Keep(string? line)
    {
        if (line is null)
        {
            return;
        }

        _output.Enqueue(line);
        while (_output.Count > KeptOutputLines && _output.TryDequeue(out _))
        {
        }
    }

    private static ProcessStartInfo CreateStartInfo(
        string fileName,
        IEnumerable<string> arguments,
        string? user,
        IReadOnlyDictionary<string, string>? environment,
        string? workingDirectory)
    {
        var info = new ProcessStartInfo
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = false,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Path.GetTempPath(),
        };

        if (user is not null && IsRoot)
        {
            // runuser resets the environment's user fields; everything else is passed through env.
            info.FileName = "runuser";
            info.ArgumentList.Add("-u");
            info.ArgumentList.Add(user);
            info.ArgumentList.Add("--");
            info.ArgumentList.Add("env");
            foreach (var (key, value) in environment ?? new Dictionary<string, string>())
            {
                info.ArgumentList.Add($"{key}={value}");
            }

            info.ArgumentList.Add(fileName);
        }
        else
        {
            info.FileName = fileName;
            foreach (var (key, value) in environment ?? new Dictionary<string, string>())
            {
                info.Environment[key] = value;
            }
        }

        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        return info;
    }
}
