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

    /// <summary>The directory the AppHost keeps local server data in (git-ignored).</summary>
    public static string StateDirectory(string appHostDirectory, string name)
    {
        var root = Environment.GetEnvironmentVariable("TRADEENGINE_STATE_DIR") is { Length: > 0 } configured
            ? configured
            : Path.Combine(appHostDirectory, ".tradeengine");
        var dir = Path.Combine(root, name);
        Directory.CreateDirectory(dir);
        return dir;
    }
}
