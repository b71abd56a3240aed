using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace TradeEngine.AppHost.Infrastructure;

internal static class LocalProcess
{
    /// <summary>Runs a preparation command (initdb, chown) to completion; throws with its output when it fails.</summary>
    public static void Run(string fileName, IEnumerable<string> args, string? standardInput = null)
    {
        var psi = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = standardInput is not null,
            UseShellExecute = false,
        };
        foreach (var arg in args)
        {
            psi.ArgumentList.Add(arg);
        }

        using var process = Process.Start(psi) ?? throw new InvalidOperationException($"Could not start {fileName}.");
        if (standardInput is not null)
        {
            process.StandardInput.Write(standardInput);
            process.StandardInput.Close();
        }

        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            process.Kill(entireProcessTree: true);
            throw new InvalidOperationException($"{fileName} did not finish in 2 minutes.");
        }

        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"{fileName} {string.Join(' ', psi.ArgumentList)} failed with exit code {process.ExitCode}: {stderr.Result}{stdout.Result}");
        }
    }

    /// <summary>The lowest port <see cref="FreePort"/> chooses from.</summary>
    internal const int LowestPort = 20000;

    private static readonly HashSet<int> Given = [];

    /// <summary>
    /// A TCP port free on 127.0.0.1 right now, for a local server that binds it a moment later. It is chosen below the
    /// kernel's ephemeral range (<c>net.ipv4.ip_local_port_range</c>, from 32768 by default), never by the kernel: a port
    /// the kernel picks is released before the server binds it, and the kernel may hand it straight to another process's
    /// outgoing connection or <c>bind(0)</c> in that moment (the test suite's projects start dozens of servers and
    /// thousands of connections beside the AppHost), and then the server exits at start with the port taken. No port is
    /// given twice by one AppHost. Another process may still bind the port first (one choosing below the range itself);
    /// the server then exits, which the end-to-end fixture reports with the server's output.
    /// </summary>
    public static int FreePort() => FreePortBelow(EphemeralRangeStart());

    /// <summary><see cref="FreePort"/> with the ephemeral range's start given.</summary>
    internal static int FreePortBelow(int ephemeralStart)
    {
        if (ephemeralStart - LowestPort >= 1000)
        {
            return FreePortIn(LowestPort, ephemeralStart);
        }

        // A machine whose ephemeral range leaves no room below it: the kernel's choice.
        lock (Given)
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            var chosen = ((IPEndPoint)listener.LocalEndpoint).Port;
            Given.Add(chosen);
            return chosen;
        }
    }

    /// <summary>
    /// A port in [<paramref name="low"/>, <paramref name="high"/>) that binds on 127.0.0.1 now and was not given before:
    /// the range is walked from a random place in it, so two AppHosts choosing at once rarely meet.
    /// </summary>
    internal static int FreePortIn(int low, int high)
    {
        lock (Given)
        {
            var count = high - low;
            var offset = Random.Shared.Next(count);
            for (var i = 0; i < count; i++)
            {
                var port = low + ((offset + i) % count);
                if (!Given.Contains(port) && CanBind(port))
                {
                    Given.Add(port);
                    return port;
                }
            }
        }

        throw new InvalidOperationException($"No TCP port from {low} to {high - 1} is free on 127.0.0.1.");
    }

    /// <summary>The first port of the kernel's ephemeral range (32768 where it cannot be read).</summary>
    internal static int EphemeralRangeStart()
    {
        const int Default = 32768;
        try
        {
            var text = File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range");
            var first = text.Split((char[])[' ', '\t', '\n'], StringSplitOptions.RemoveEmptyEntries).FirstOrDefault();
            return int.TryParse(first, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var start) && start is > 1024 and <= 65535
                ? start
                : Default;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return Default;
        }
    }

    private static bool CanBind(int port)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            socket.Bind(new IPEndPoint(IPAddress.Loopback, port));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>Where a local server's data goes when its folder is closed to the user it runs as (see <see cref="StateDirectory"/>).</summary>
    public const string FallbackBase = "/var/lib/tradeengine";

    /// <summary>
    /// The directory the AppHost keeps local server data in: <c>AppHost/.tradeengine/NAME</c> (git-ignored), or under
    /// <c>TRADEENGINE_STATE_DIR</c>. A server that runs as its own user (PostgreSQL as <c>postgres</c>, RabbitMQ as
    /// <c>rabbitmq</c>, when the AppHost runs as root) must be able to reach it: when a folder above it is closed to other
    /// users (a clone under <c>/root</c>, mode 700), that server's data goes to <c>/var/lib/tradeengine/HASH/NAME</c>
    /// instead, HASH naming the state folder it stands for. /var/lib, not /var/tmp: only root can create folders there
    /// (nobody can plant one, or links in it, before the AppHost does), and nothing cleans it up behind the cluster.
    /// </summary>
    public static string StateDirectory(string appHostDirectory, string name, bool forOtherUser = false) =>
        StateDirectoryIn(
            Environment.GetEnvironmentVariable("TRADEENGINE_STATE_DIR") is { Length: > 0 } configured
                ? configured
                : Path.Combine(appHostDirectory, ".tradeengine"),
            name, forOtherUser, FallbackBase);

    /// <summary><see cref="StateDirectory"/> with its state folder and fallback base given.</summary>
    internal static string StateDirectoryIn(string root, string name, bool forOtherUser, string fallbackBase)
    {
        root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(root));
        if (forOtherUser && !SearchableByOthers(root))
        {
            var hash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(root)))[..12];
            Console.WriteLine($"{root} is closed to other users: the {name} server's data is kept in {Path.Combine(fallbackBase, hash, name)}");
            root = Path.Combine(fallbackBase, hash);
        }

        var dir = Path.Combine(root, name);
        // The folders this call creates: a restrictive umask (027, 077) would make them closed to the server's user.
        var created = new List<string>();
        for (var folder = dir; folder is not null && !Directory.Exists(folder); folder = Path.GetDirectoryName(folder))
        {
            created.Add(folder);
        }

        Directory.CreateDirectory(dir);
        if (forOtherUser && !OperatingSystem.IsWindows())
        {
            const UnixFileMode Pass = UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;
            foreach (var folder in created.Append(root).Append(dir).Distinct())
            {
                var mode = File.GetUnixFileMode(folder);
                if ((mode & Pass) != Pass)
                {
                    File.SetUnixFileMode(folder, mode | Pass);
                }
            }
        }

        return dir;
    }

    /// <summary>
    /// Writes <paramref name="path"/> as a new file with <paramref name="mode"/> from its creation: the text goes to a
    /// fresh name (created exclusively, so no link there is followed) that is then renamed over the path (a rename
    /// replaces a link rather than writing through it).
    /// </summary>
    public static void WriteNewFile(string path, string text, UnixFileMode mode)
    {
        var fresh = $"{path}.{Guid.NewGuid():N}";
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = mode;
        }

        try
        {
            using (var file = new StreamWriter(fresh, new System.Text.UTF8Encoding(encoderShouldEmitUTF8Identifier: false), options))
            {
                file.Write(text);
            }

            File.Move(fresh, path, overwrite: true);
        }
        finally
        {
            File.Delete(fresh);
        }
    }

    /// <summary>Whether every existing folder on the way to <paramref name="path"/> lets other users pass (o+x).</summary>
    internal static bool SearchableByOthers(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            return true;
        }

        for (var dir = new DirectoryInfo(Path.GetFullPath(path)); dir is not null; dir = dir.Parent)
        {
            // A folder still to be created is opened for passing once created (StateDirectoryIn).
            if (dir.Exists && (File.GetUnixFileMode(dir.FullName) & UnixFileMode.OtherExecute) == 0)
            {
                return false;
            }
        }

        return true;
    }
}
