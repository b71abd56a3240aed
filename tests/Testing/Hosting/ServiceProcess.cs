using System.Diagnostics;
using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Net.Client;
using TradeEngine.Testing.Servers;

namespace TradeEngine.Testing.Hosting;

/// <summary>
/// One of our services as a process of its own (<c>dotnet exec TradeEngine.X.dll</c>; a referenced service project is
/// copied next to the tests or tool with its runtimeconfig and deps.json), speaking h2c on 127.0.0.1, in the Production
/// environment, configured through environment variables as the AppHost configures it. Ready once grpc.health.v1
/// answers SERVING. Unlike an in-process host it has its own thread pool, GC and CPU time, and <see cref="KillAsync"/>
/// is a real SIGKILL: no shutdown hooks, whatever was in flight simply stops.
/// </summary>
public sealed class ServiceProcess : IAsyncDisposable
{
    private readonly Process _process;

    private ServiceProcess(Process process, Uri address)
    {
        _process = process;
        Address = address;
        Channel = TestServiceKey.Channel(address);
    }

    public Uri Address { get; }

    public GrpcChannel Channel { get; }

    /// <summary>CPU time (user + system) the process has used so far.</summary>
    public TimeSpan CpuTime
    {
        get
        {
            _process.Refresh();
            return _process.TotalProcessorTime;
        }
    }

    /// <param name="assembly">The service's entry assembly in this program's folder, e.g. <c>TradeEngine.Ledger.dll</c>.</param>
    /// <param name="environment">Configuration (<c>ConnectionStrings__ledgerdb</c>, ...); a null value removes a variable.</param>
    /// <param name="output">Receives the process's stdout and stderr lines; dropped when null.</param>
    public static async Task<ServiceProcess> StartAsync(
        string assembly, IReadOnlyDictionary<string, string?> environment, Action<string>? output = null, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(environment);
        var directory = AppContext.BaseDirectory;
        var address = new Uri($"http://127.0.0.1:{FreePort.Next()}");
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = directory,
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            ArgumentList = { "exec", Path.Combine(directory, assembly) },
        };
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        start.Environment["ASPNETCORE_URLS"] = address.ToString();
        // Said explicitly: another project's appsettings.json may be the one copied next to this program.
        start.Environment["Kestrel__EndpointDefaults__Protocols"] = "Http2";
        start.Environment["Logging__LogLevel__Default"] = "Warning";
        start.Environment[TestServiceKey.EnvironmentVariable] = TestServiceKey.Value;
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {assembly}.");
        process.OutputDataReceived += (_, e) => Echo(output, e.Data);
        process.ErrorDataReceived += (_, e) => Echo(output, e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var service = new ServiceProcess(process, address);
        try
        {
            await service.WaitUntilServingAsync(assembly, timeout ?? TimeSpan.FromSeconds(60)).ConfigureAwait(false);
            return service;
        }
        catch
        {
            await service.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private async Task WaitUntilServingAsync(string assembly, TimeSpan timeout)
    {
        var health = new Health.HealthClient(Channel);
        var until = Stopwatch.StartNew();
        while (true)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"{assembly} exited with code {_process.ExitCode} before it was serving.");
            }

            try
            {
                var answer = await health.CheckAsync(new HealthCheckRequest(), deadline: DateTime.UtcNow.AddSeconds(2)).ConfigureAwait(false);
                if (answer.Status == HealthCheckResponse.Types.ServingStatus.Serving)
                {
                    return;
                }
            }
            catch (RpcException) when (until.Elapsed < timeout)
            {
            }

            if (until.Elapsed >= timeout)
            {
                throw new TimeoutException($"{assembly} was not serving within {timeout.TotalSeconds} s.");
            }

            await Task.Delay(200).ConfigureAwait(false);
        }
    }

    private static void Echo(Action<string>? output, string? line)
    {
        if (output is not null && !string.IsNullOrEmpty(line))
        {
            output(line);
        }
    }

    /// <summary>SIGKILL to the process (and its children), and wait until it is gone.</summary>
    public async Task KillAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        await _process.WaitForExitAsync().ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        Channel.Dispose();
        await KillAsync().ConfigureAwait(false);
        _process.Dispose();
    }
}
