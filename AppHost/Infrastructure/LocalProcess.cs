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

    /// <summary>A TCP port free on 127.0.0.1 right now.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>
    /// The directory the AppHost keeps local server data in: <c>AppHost/.tradeengine/NAME</c> (git-ignored), or under
    /// <c>TRADEENGINE_STATE_DIR</c>. A server that runs as its own user (PostgreSQL as <c>postgres</c>, RabbitMQ as
    /// <c>rabbitmq</c>, when the AppHost runs as root) must be able to reach it: when a folder above it is closed to other
    /// users (a clone under <c>/root</c>, mode 700), that server's data goes to <c>/var/tmp/tradeengine-HASH/NAME</c>
    /// instead, one folder per AppHost directory, kept between runs as the default one is.
    /// </summary>
    public static string StateDirectory(string appHostDirectory, string name, bool forOtherUser = false)
    {
        var root = Environment.GetEnvironmentVariable("TRADEENGINE_STATE_DIR") is { Length: > 0 } configured
            ? configured
            : Path.Combine(appHostDirectory, ".tradeengine");
        if (forOtherUser && !SearchableByOthers(root))
        {
            var hash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(
                System.Text.Encoding.UTF8.GetBytes(Path.GetFullPath(appHostDirectory))))[..12];
            root = Path.Combine("/var/tmp", "tradeengine-" + hash);
        }

        var dir = Path.Combine(root, name);
        Directory.CreateDirectory(dir);
        return dir;
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
            // A folder still to be created gets the default mode (0777 less the umask), which lets others pass.
            if (dir.Exists && (File.GetUnixFileMode(dir.FullName) & UnixFileMode.OtherExecute) == 0)
            {
                return false;
            }
        }

        return true;
    }
}
