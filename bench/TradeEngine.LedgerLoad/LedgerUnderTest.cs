using Grpc.Net.Client;
using TradeEngine.Testing.Hosting;

namespace TradeEngine.LedgerLoad;

/// <summary>The Ledger being measured: its own process (<see cref="LedgerProcess"/>) or hosted in this one.</summary>
internal sealed class LedgerUnderTest : IAsyncDisposable
{
    private readonly LedgerProcess? _process;
    private readonly LoopbackServiceHost<Program>? _host;
    private bool _disposed;

    private LedgerUnderTest(LedgerProcess? process, LoopbackServiceHost<Program>? host)
    {
        _process = process;
        _host = host;
    }

    public GrpcChannel Channel => _process?.Channel ?? _host!.Channel;

    /// <summary>The Ledger's own CPU time; null when it shares this process.</summary>
    public TimeSpan? CpuTime => _process?.CpuTime;

    public static async Task<LedgerUnderTest> StartAsync(bool inProcess, string database, string eventBus, bool relay = true)
    {
        if (!inProcess)
        {
            return new LedgerUnderTest(await LedgerProcess.StartAsync(database, eventBus, relay), null);
        }

        // Outside a test project WebApplicationFactory cannot guess the service's content root: it is this folder.
        Environment.SetEnvironmentVariable("ASPNETCORE_TEST_CONTENTROOT_TRADEENGINE_LEDGER", AppContext.BaseDirectory);
        var host = new LoopbackServiceHost<Program>(new Dictionary<string, string?>
        {
            ["ConnectionStrings:ledgerdb"] = database,
            ["ConnectionStrings:eventbus"] = eventBus,
            ["Logging:LogLevel:Default"] = "Warning",
            ["Ledger:Outbox:RelayEnabled"] = relay ? "true" : "false",
        });
        await host.StartAsync();
        return new LedgerUnderTest(null, host);
    }

    public async ValueTask DisposeAsync()
    {
        // Idempotent: the tool stops the first Ledger early (before the relay-off run) and its scope disposes it again.
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        if (_process is not null)
        {
            await _process.DisposeAsync();
        }

        if (_host is not null)
        {
            await _host.DisposeAsync();
        }
    }
}

/// <summary>CPU time used by the Ledger and by this tool between <see cref="Start"/> and <see cref="Stop"/>.</summary>
internal sealed class CpuMeter(LedgerUnderTest ledger)
{
    private TimeSpan _ledger;
    private TimeSpan _tool;

    public void Start()
    {
        _ledger = ledger.CpuTime ?? TimeSpan.Zero;
        _tool = Environment.CpuUsage.TotalTime;
    }

    /// <summary>The Ledger's CPU (zero in process, where it is part of the tool's) and the tool's.</summary>
    public (TimeSpan Ledger, TimeSpan Tool) Stop() =>
        ((ledger.CpuTime ?? TimeSpan.Zero) - _ledger, Environment.CpuUsage.TotalTime - _tool);
}
