using System.Globalization;
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

/// <summary>
/// CPU time used between <see cref="Start"/> and <see cref="Stop"/> by the Ledger, this tool (its callers and its
/// consumer), and a local RabbitMQ and PostgreSQL (their whole process trees; zero for containers).
/// </summary>
internal sealed class CpuMeter(LedgerUnderTest ledger, int? broker, int? database)
{
    private TimeSpan _ledger;
    private TimeSpan _tool;
    private TimeSpan _broker;
    private TimeSpan _database;

    public void Start()
    {
        _ledger = ledger.CpuTime ?? TimeSpan.Zero;
        _tool = Environment.CpuUsage.TotalTime;
        _broker = ProcessTreeCpu.Read(broker) ?? TimeSpan.Zero;
        _database = ProcessTreeCpu.Read(database) ?? TimeSpan.Zero;
    }

    /// <summary>The Ledger's CPU (zero in process, where it is part of the tool's), the tool's, the broker's and the database's.</summary>
    public CpuUse Stop() => new(
        (ledger.CpuTime ?? TimeSpan.Zero) - _ledger,
        Environment.CpuUsage.TotalTime - _tool,
        (ProcessTreeCpu.Read(broker) ?? TimeSpan.Zero) - _broker,
        (ProcessTreeCpu.Read(database) ?? TimeSpan.Zero) - _database);
}

internal sealed record CpuUse(TimeSpan Ledger, TimeSpan Tool, TimeSpan Broker, TimeSpan Database)
{
    /// <summary>Each process's CPU per operation, in microseconds: "Ledger / tool / RabbitMQ / PostgreSQL".</summary>
    public string PerOperation(int operations) => string.Create(CultureInfo.InvariantCulture,
        $"{Ledger.TotalMicroseconds / operations:F0} / {Tool.TotalMicroseconds / operations:F0} / {Broker.TotalMicroseconds / operations:F0} / {Database.TotalMicroseconds / operations:F0} µs");
}
