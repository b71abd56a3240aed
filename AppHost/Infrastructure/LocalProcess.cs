using System.Diagnostics;
using TradeEngine.Infrastructure;

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
    internal const int LowestPort = LoopbackPorts.AppHostLow;

    /// <summary>
    /// A TCP port free on 127.0.0.1 right now, for a local server that binds it a moment later: chosen below the kernel's
    /// ephemeral range, from <see cref="LowestPort"/> (<see cref="LoopbackPorts"/> says why). Another process may still
    /// bind the port first (one choosing below the range itself); the server then exits, which the end-to-end fixture
    /// reports with the server's output.
    /// </summary>
    public static int FreePort() => FreePortBelow(EphemeralRangeStart());

    /// <summary><see cref="FreePort"/> with the ephemeral range's start given.</summary>
    internal static int FreePortBelow(int ephemeralStart) => LoopbackPorts.FreeBelow(LowestPort, int.MaxValue, ephemeralStart);

    /// <inheritdoc cref="LoopbackPorts.FreeIn"/>
    internal static int FreePortIn(int low, int high) => LoopbackPorts.FreeIn(low, high);

    /// <inheritdoc cref="LoopbackPorts.EphemeralRangeStart"/>
    internal static int EphemeralRangeStart() => LoopbackPorts.EphemeralRangeStart();

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
