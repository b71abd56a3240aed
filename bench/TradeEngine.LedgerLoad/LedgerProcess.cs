using System.Diagnostics;
using Grpc.Core;
using Grpc.Net.Client;
using TradeEngine.Ledger.V1;
using TradeEngine.Testing.Servers;

namespace TradeEngine.LedgerLoad;

/// <summary>
/// The Ledger as production runs it: its own process (<c>dotnet TradeEngine.Ledger.dll</c>, environment Production),
/// on 127.0.0.1, configured through the Aspire keys. The load generator, its gRPC client and the measuring consumer
/// then neither share the Ledger's thread pool and GC nor count in its CPU time.
/// </summary>
internal sealed class LedgerProcess : IAsyncDisposable
{
    private const string PassThroughPrefix = "LEDGERLOAD_LEDGER_";
    private readonly Process _process;

    private LedgerProcess(Process process, Uri address)
    {
        _process = process;
        Channel = GrpcChannel.ForAddress(address, new GrpcChannelOptions { HttpHandler = new SocketsHttpHandler() });
    }

    public GrpcChannel Channel { get; }

    /// <summary>CPU time (user + system) the Ledger process has used so far.</summary>
    public TimeSpan CpuTime
    {
        get
        {
            _process.Refresh();
            return _process.TotalProcessorTime;
        }
    }

    public static async Task<LedgerProcess> StartAsync(string database, string eventBus, bool relay = true)
    {
        // The referenced Ledger project is copied next to this tool, with its deps.json, runtimeconfig and appsettings.
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
                // Said explicitly: other projects' appsettings.json may be the one copied next to this tool.
                ["Kestrel__EndpointDefaults__Protocols"] = "Http2",
                ["ConnectionStrings__ledgerdb"] = database,
                ["ConnectionStrings__eventbus"] = eventBus,
                ["Logging__LogLevel__Default"] = "Warning",
                ["Ledger__Outbox__RelayEnabled"] = relay ? "true" : "false",
            },
        };
        // Runtime knobs to try on the Ledger alone: LEDGERLOAD_LEDGER_DOTNET_gcServer=0 sets DOTNET_gcServer=0 for it.
        foreach (var (name, value) in Environment.GetEnvironmentVariables().Cast<System.Collections.DictionaryEntry>()
                     .Select(e => ((string)e.Key, (string?)e.Value)).Where(e => e.Item1.StartsWith(PassThroughPrefix, StringComparison.Ordinal)))
        {
            start.Environment[name[PassThroughPrefix.Length..]] = value;
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start the Ledger process.");
        process.OutputDataReceived += (_, e) => Echo(e.Data);
        process.ErrorDataReceived += (_, e) => Echo(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var ledger = new LedgerProcess(process, address);
        try
        {
            await ledger.WaitUntilServingAsync(TimeSpan.FromSeconds(60));
            return ledger;
        }
        catch
        {
            await ledger.DisposeAsync();
            throw;
        }
    }

    private async Task WaitUntilServingAsync(TimeSpan timeout)
    {
        var client = new LedgerService.LedgerServiceClient(Channel);
        var until = Stopwatch.StartNew();
        while (true)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"The Ledger process exited with code {_process.ExitCode}.");
            }

            try
            {
                await client.GetKillSwitchAsync(new GetKillSwitchRequest(), deadline: DateTime.UtcNow.AddSeconds(2));
                return;
            }
            catch (RpcException) when (until.Elapsed < timeout)
            {
                await Task.Delay(200);
            }
        }
    }

    private static void Echo(string? line)
    {
        if (!string.IsNullOrEmpty(line))
        {
            Console.WriteLine($"  [ledger] {line}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        Channel.Dispose();
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }
}
