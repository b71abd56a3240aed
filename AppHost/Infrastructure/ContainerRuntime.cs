using System.Diagnostics;

namespace TradeEngine.AppHost.Infrastructure;

/// <summary>Does a container runtime answer? Decides between container resources and local server executables.</summary>
internal static class ContainerRuntime
{
    public static bool IsAvailable()
    {
        // TRADEENGINE_LOCAL_SERVERS=true forces the local fallback even where Docker runs.
        if (string.Equals(Environment.GetEnvironmentVariable("TRADEENGINE_LOCAL_SERVERS"), "true", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        foreach (var runtime in new[] { "docker", "podman" })
        {
            try
            {
                using var process = Process.Start(new ProcessStartInfo(runtime, "info --format {{.ServerVersion}}")
                {
                    RedirectStandardOutput = true,
                    RedirectStandardError = true,
                    UseShellExecute = false,
                });
                if (process is null)
                {
                    continue;
                }

                if (process.WaitForExit(TimeSpan.FromSeconds(5)) && process.ExitCode == 0)
                {
                    return true;
                }

                if (!process.HasExited)
                {
                    process.Kill(entireProcessTree: true);
                }
            }
            catch (System.ComponentModel.Win32Exception)
            {
                // Not installed: try the next runtime.
            }
        }

        return false;
    }
}
