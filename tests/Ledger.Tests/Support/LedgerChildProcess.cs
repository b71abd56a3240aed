using System.Diagnostics;
using Grpc.Core;
using Grpc.Net.Client;
using TradeEngine.Ledger.V1;
using TradeEngine.Testing.Servers;

namespace TradeEngine.Ledger.Tests.Support;

/// <summary>
/// The Ledger as a process of its own (<c>dotnet exec TradeEngine.Ledger.dll</c>, copied next to the tests with its
/// runtimeconfig and deps.json), on 127.0.0.1, so a test can kill it with SIGKILL: no shutdown hooks, no disposal,
/// whatever was in flight simply stops.
/// </summary>
public sealed class LedgerChildProcess : IAsyncDisposable
{
    private readonly Process _process;

    private LedgerChildProcess(Process process, Uri address)
    {
        _process = process;
        Channel = GrpcChannel.ForAddress(address);
        Client = new LedgerService.LedgerServiceClient(Channel);
    }

    public GrpcChannel Channel { get; }

    public LedgerService.LedgerServiceClient Client { get; }

    public static async Task<LedgerChildProcess> StartAsync(string database, string eventBus)
    {
        var directory = AppContext.BaseDirectory;
        var address = new Uri($"http://127.0.0.1:{FreePort.Next()}");
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = directory,
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            ArgumentList = { "exec", Path.Combine(directory, "TradeEngine.Ledger.dll") },
            Environment =
            {
                ["ASPNETCORE_ENVIRONMENT"] = "Production",
                ["ASPNETCORE_URLS"] = address.ToString(),
                ["Kestrel__EndpointDefaults__Protocols"] = "Http2",
                ["ConnectionStrings__ledgerdb"] = database,
                ["ConnectionStrings__eventbus"] = eventBus,
                ["Logging__LogLevel__Default"] = "Warning",
                ["OTEL_EXPORTER_OTLP_ENDPOINT"] = null,
            },
        };
        var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start the Ledger process.");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var ledger = new LedgerChildProcess(process, address);
        try
        {
            var until = Stopwatch.StartNew();
            while (true)
            {
                if (process.HasExited)
                {
                    throw new InvalidOperationException($"The Ledger process exited with code {process.ExitCode}.");
                }

                try
                {
                    await ledger.Client.GetKillSwitchAsync(new GetKillSwitchRequest(), deadline: DateTime.UtcNow.AddSeconds(2));
                    return ledger;
                }
                catch (RpcException) when (until.Elapsed < TimeSpan.FromSeconds(60))
                {
                    await Task.Delay(200);
                }
            }
        }
        catch
        {
            await ledger.DisposeAsync();
            throw;
        }
    }

    /// <summary>SIGKILL, and wait until the process is gone.</summary>
    public async Task KillAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        await _process.WaitForExitAsync();
    }

    public async ValueTask DisposeAsync()
    {
        Channel.Dispose();
        await KillAsync();
        _process.Dispose();
    }
}
