using System.Diagnostics;

namespace TradeEngine.AppHost.Infrastructure;

/// <summary>Does a container runtime answer? Decides between container resources and local server executables.</summary>
internal static class ContainerRuntime
{
    /// <param name="configuration">
    /// The AppHost's configuration: <c>TradeEngine:Containers=true</c> (or the environment's
    /// <c>TradeEngine__Containers</c>) takes the container resources without asking a runtime (one reached in a way
    /// <c>docker info</c> does not answer in time; and the model's tests, which only build it).
    /// </param>
    public static bool IsAvailable(Microsoft.Extensions.Configuration.IConfiguration configuration)
    {
        // Asked for in the AppHost's own configuration: the more specific setting wins.
        if (string.Equals(configuration["TradeEngine:Containers"], "true", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        // TRADEENGINE_LOCAL_SERVERS=true forces the local fallback even where Docker runs.
        if (string.Equals(Environment.GetEnvironmentVariable("TRADEENGINE_LOCAL_SERVERS"), "true", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        // Docker's info has a server version only when its daemon answers; podman's has no such field (it has no daemon),
        // and its plain info fails when it cannot run containers.
        foreach (var (runtime, arguments) in new[] { ("docker", "info --format {{.ServerVersion}}"), ("podman", "info") })
        {
            try
            {
                using var process = Process.Start(new ProcessStartInfo(runtime, arguments)
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
