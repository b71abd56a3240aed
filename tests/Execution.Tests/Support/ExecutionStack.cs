using Npgsql;
using TradeEngine.Execution.Reconciliation;
using TradeEngine.Execution.Services;
using TradeEngine.Execution.V1;
using TradeEngine.Funding.Services;
using TradeEngine.Ledger.Services;
using TradeEngine.Ledger.V1;
using TradeEngine.Risk.Services;
using TradeEngine.Risk.V1;
using TradeEngine.Testing.Paper;
using TradeEngine.Testing.Servers;
using Microsoft.Extensions.DependencyInjection;

namespace TradeEngine.Execution.Tests.Support;

/// <summary>
/// The whole system in this process, each service its real Program on Kestrel loopback: PaperExchange as the venue,
/// the Ledger on its own PostgreSQL database and the shared RabbitMQ, Funding, Risk and Execution. Events the Ledger
/// publishes are recorded by <see cref="Events"/>.
/// </summary>
public sealed class ExecutionStack : IAsyncDisposable
{
    private readonly Dictionary<string, string?> _executionSettings;
    private Action<IServiceCollection>? _executionServices;
    private readonly Dictionary<string, string?> _ledgerSettings;
    private readonly int _ledgerPort;
    private GrpcServiceHost<ExecutionGrpcService>? _execution;
    private GrpcServiceHost<LedgerGrpcService>? _ledger;
    private RabbitMqServer? _rabbit;
    private RecentLog _log = new();

    /// <summary>Execution's consumers' queues: shared by every test's Execution (the names are the service's own).</summary>
    public static readonly string[] EventQueues = ["execution-margin-alert-raised", "execution-kill-switch-triggered"];

    private ExecutionStack(
        PaperExchangeHost paper, GrpcServiceHost<LedgerGrpcService> ledger, GrpcServiceHost<FundingGrpcService> funding,
        GrpcServiceHost<RiskGrpcService> risk, EventRecorderHost events, string database, Dictionary<string, string?> executionSettings, int executionPort,
        Dictionary<string, string?> ledgerSettings)
    {
        Paper = paper;
        _ledger = ledger;
        _ledgerPort = ledger.Port;
        _ledgerSettings = ledgerSettings;
        FundingHost = funding;
        RiskHost = risk;
        Events = events;
        Database = database;
        _executionSettings = executionSettings;
        ExecutionPort = executionPort;
    }

    public PaperExchangeHost Paper { get; }

    public GrpcServiceHost<LedgerGrpcService> LedgerHost => _ledger ?? throw new InvalidOperationException("The Ledger is not running");

    public GrpcServiceHost<FundingGrpcService> FundingHost { get; }

    public GrpcServiceHost<RiskGrpcService> RiskHost { get; }

    public EventRecorderHost Events { get; }

    public string Database { get; }

    /// <summary>Execution's port, kept across restarts (0 until it first starts).</summary>
    public int ExecutionPort { get; private set; }

    public GrpcServiceHost<ExecutionGrpcService> ExecutionHost => _execution ?? throw new InvalidOperationException("Execution is not running");

    public ExecutionService.ExecutionServiceClient Execution => new(ExecutionHost.Channel);

    public LedgerService.LedgerServiceClient Ledger => new(LedgerHost.Channel);

    public RiskService.RiskServiceClient Risk => new(RiskHost.Channel);

    public static async Task<ExecutionStack> StartAsync(
        PostgresServer postgres, RabbitMqServer rabbit, bool marginMonitor = false, IDictionary<string, string?>? paperSettings = null,
        IDictionary<string, string?>? executionSettings = null, IDictionary<string, string?>? ledgerOverrides = null,
        Action<IServiceCollection>? executionServices = null)
    {
        var database = await postgres.CreateDatabaseAsync();
        // An earlier test's Execution still attached to the queues would take this test's events (they go round robin).
        await WaitForConsumersAsync(rabbit, 0, "no earlier test's Execution still consuming");
        // What an earlier test's Execution left unacknowledged in its queues (a margin alert or kill switch it was still
        // retrying when it stopped) must not flatten this test's positions.
        await rabbit.PurgeQueuesAsync(EventQueues);
        // The shared simulator (tests/Testing), with Execution's prices: BTC at 100,000 and a 10,000 USDT account.
        var settings = new Dictionary<string, string?>
        {
            ["Paper:StartingBalance"] = "10000",
            ["Paper:Markets:BTCUSDT:InitialPrice"] = "100000",
        };
        foreach (var (key, value) in paperSettings ?? new Dictionary<string, string?>())
        {
            settings[key] = value;
        }

        // Whatever started is stopped again if a later start fails: a host left running (a Ledger relay, Risk, an
        // Execution whose consumers share RabbitMQ's queues) would take the events of every later test in the process.
        var started = new Stack<IAsyncDisposable>();
        try
        {
            var paper = await PaperExchangeHost.StartAsync(settings);
            started.Push(paper);
            var quiet = new Dictionary<string, string?> { ["Logging:LogLevel:Default"] = "Warning", ["Logging:LogLevel:TradeEngine"] = Environment.GetEnvironmentVariable("EXEC_TEST_LOG") ?? "Warning" };
            var venue = new Dictionary<string, string?>
            {
                ["Binance:BaseUrl"] = paper.Address.ToString(),
                ["Binance:ApiKey"] = PaperExchangeHost.ApiKey,
                ["Binance:ApiSecret"] = PaperExchangeHost.ApiSecret,
            };

            var ledgerSettings = Merge(quiet, new()
            {
                ["ConnectionStrings:ledgerdb"] = database,
                ["ConnectionStrings:eventbus"] = rabbit.ConnectionString,
                ["Ledger:Outbox:InitialBackoff"] = "00:00:00.050",
                ["Ledger:Outbox:MaxBackoff"] = "00:00:01",
            }, new Dictionary<string, string?>(ledgerOverrides ?? new Dictionary<string, string?>()));
            var log = new RecentLog();
            var ledger = await StartOnFreePortAsync<LedgerGrpcService>(ledgerSettings, configureServices: Logged(log, "ledger"));
            started.Push(ledger);
            var events = await EventRecorderHost.StartAsync(rabbit.ConnectionString);
            started.Push(events);

            var funding = await StartOnFreePortAsync<FundingGrpcService>(Merge(quiet, venue, new()
            {
                ["services:ledger:http:0"] = ledger.Address.ToString(),
                ["Funding:Accrual:Enabled"] = "false",
            }), configureServices: Logged(log, "funding"));
            started.Push(funding);

            var riskSettings = Merge(quiet, venue, new()
            {
                ["services:ledger:http:0"] = ledger.Address.ToString(),
                ["services:funding:http:0"] = funding.Address.ToString(),
                ["ConnectionStrings:eventbus"] = rabbit.ConnectionString,
                ["Risk:StateRefreshSeconds"] = "1",
                ["Risk:MarginMonitor:Enabled"] = marginMonitor ? "true" : "false",
                ["Risk:MarginMonitor:IntervalSeconds"] = "1",
            });
            // Risk's margin monitor reads Execution: its port is fixed before Risk starts. Otherwise it is chosen when
            // Execution first starts, so no other process can take it in between.
            int? executionPort = marginMonitor ? FreePort.Next() : null;
            if (executionPort is { } monitored)
            {
                riskSettings["services:execution:http:0"] = $"http://127.0.0.1:{monitored}";
            }

            var risk = await StartOnFreePortAsync<RiskGrpcService>(riskSettings, configureServices: Logged(log, "risk"));
            started.Push(risk);

            var execution = Merge(quiet, venue, new()
            {
                ["services:ledger:http:0"] = ledger.Address.ToString(),
                ["services:funding:http:0"] = funding.Address.ToString(),
                ["services:risk:http:0"] = risk.Address.ToString(),
                ["ConnectionStrings:eventbus"] = rabbit.ConnectionString,
                ["Execution:ReconcileRetryDelay"] = "00:00:00.200",
            });
            foreach (var (key, value) in executionSettings ?? new Dictionary<string, string?>())
            {
                execution[key] = value;
            }

            var stack = new ExecutionStack(paper, ledger, funding, risk, events, database, execution, executionPort ?? 0, ledgerSettings)
            {
                _executionServices = executionServices,
                _rabbit = rabbit,
                _log = log,
            };
            started.Clear();
            started.Push(stack);
            await stack.StartExecutionAsync();
            return stack;
        }
        catch
        {
            while (started.TryPop(out var host))
            {
                await DisposeQuietlyAsync(host);
            }

            throw;
        }
    }

    /// <summary>
    /// Starts Execution (again, on the same port) and waits until its first reconciliation succeeded (unless
    /// <paramref name="waitForReconciliation"/> is false: then only until its consumers attach). On failure it is stopped
    /// again.
    /// </summary>
    public async Task StartExecutionAsync(bool waitForReconciliation = true)
    {
        if (_rabbit is not null)
        {
            await WaitForConsumersAsync(_rabbit, 0, "the stopped Execution to let go of its queues");
        }

        _execution = await StartOnFreePortAsync<ExecutionGrpcService>(_executionSettings, ExecutionPort == 0 ? null : ExecutionPort, Logged(_log, "execution", _executionServices));
        ExecutionPort = _execution.Port;
        try
        {
            var state = _execution.Services.GetRequiredService<ReconciliationState>();
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            while (waitForReconciliation && !state.IsReady)
            {
                await Task.Delay(50, cts.Token);
            }

            // The bus connects in the background: a test's event must not be published before anyone listens.
            if (_rabbit is not null)
            {
                await WaitForConsumersAsync(_rabbit, 1, "Execution's consumers to attach");
            }
        }
        catch
        {
            await StopExecutionAsync();
            throw;
        }
    }

    /// <summary>The last warnings and errors of the stack's services (Execution, Risk, Funding, the Ledger).</summary>
    public RecentLog Log => _log;

    private static Action<IServiceCollection> Logged(RecentLog log, string service, Action<IServiceCollection>? more = null) => services =>
    {
        services.AddSingleton(log.For(service));
        more?.Invoke(services);
    };

    /// <summary>
    /// Waits until each of <see cref="EventQueues"/> (where declared) has <paramref name="consumers"/> consumers; fails
    /// after 30 s with what the broker reports, so a test never waits out its own timeout for an event another
    /// process's consumer took, or that nobody listened for.
    /// </summary>
    private static async Task WaitForConsumersAsync(RabbitMqServer rabbit, uint consumers, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            var states = await rabbit.QueueStatesAsync(EventQueues);
            // A queue not declared yet (the first Execution of the run) has no consumers.
            if (states.All(s => (s?.Consumers ?? 0) == consumers))
            {
                return;
            }

            if (DateTime.UtcNow >= deadline)
            {
                Assert.Fail($"Timed out waiting for {what}: {DescribeStates(states)}; the broker's last lines: {rabbit.OutputTail}");
            }

            await Task.Delay(50);
        }
    }

    private static string DescribeStates(IEnumerable<(string Queue, uint Ready, uint Consumers)?> states) =>
        string.Join("; ", states.Select((s, i) => s is { } q ? $"{q.Queue}: {q.Ready} ready, {q.Consumers} consumer(s)" : "(not declared)"));

    /// <summary>
    /// Who listens on Execution's queues and what waits in them and in their error queues, and the inbox's entries:
    /// for a test's message when an event it published was not acted on.
    /// </summary>
    public async Task<string> DescribeEventDeliveryAsync()
    {
        var rabbit = _rabbit ?? throw new InvalidOperationException("The stack has no broker.");
        var queues = EventQueues.SelectMany(q => new[] { q, q + "_error", q + "_skipped" }).ToArray();
        var states = await rabbit.QueueStatesAsync(queues);
        return $"{DescribeStates(states.Where(s => s is not null))}; inbox entries: {await CountAsync("inbox")}, " +
               $"processed: {await CountAsync("inbox WHERE status = 'processed'")}; kill switch events the recorder received: " +
               Events.Received.Of<TradeEngine.Contracts.Events.KillSwitchTriggered>().Count +
               $"; the services' last warnings:{Environment.NewLine}{_log}";
    }

    /// <summary>
    /// Starts a service on <paramref name="port"/>, or on a free port: the kernel hands out a free one, and another
    /// process (a test project running beside this one) may take it before it is bound, so a start refused for an address
    /// in use tries another (up to three). A host that did not start is disposed.
    /// </summary>
    private static async Task<GrpcServiceHost<T>> StartOnFreePortAsync<T>(
        IReadOnlyDictionary<string, string?> settings, int? port = null, Action<IServiceCollection>? configureServices = null)
        where T : class
    {
        for (var attempt = 1; ; attempt++)
        {
            var host = new GrpcServiceHost<T>(port ?? FreePort.Next(), settings, configureServices);
            try
            {
                await host.StartAsync();
                return host;
            }
            catch (Exception ex)
            {
                await DisposeQuietlyAsync(host);
                if (port is not null || attempt == 3 || !IsAddressInUse(ex))
                {
                    throw;
                }
            }
        }
    }

    private static bool IsAddressInUse(Exception? ex)
    {
        for (; ex is not null; ex = ex.InnerException)
        {
            if (ex is Microsoft.AspNetCore.Connections.AddressInUseException)
            {
                return true;
            }
        }

        return false;
    }

    private static async Task DisposeQuietlyAsync(IAsyncDisposable host)
    {
        try
        {
            await host.DisposeAsync();
        }
        catch (Exception)
        {
            // Cleaning up after a failed start: the start's own failure is the one to report.
        }
    }

    /// <summary>Stops Execution abruptly: in-flight work is abandoned as in a crash.</summary>
    public async Task StopExecutionAsync()
    {
        if (_execution is not null)
        {
            await _execution.DisposeAsync();
            _execution = null;
        }
    }

    /// <summary>Stops the Ledger (an outage): its clients get UNAVAILABLE until <see cref="StartLedgerAsync"/>.</summary>
    public async Task StopLedgerAsync()
    {
        if (_ledger is not null)
        {
            await _ledger.DisposeAsync();
            _ledger = null;
        }
    }

    /// <summary>Starts the Ledger again on the same port and database (<paramref name="configureServices"/> changes it, e.g. <see cref="OlderLedger"/>).</summary>
    public async Task StartLedgerAsync(Action<IServiceCollection>? configureServices = null)
    {
        _ledger = new GrpcServiceHost<LedgerGrpcService>(_ledgerPort, _ledgerSettings, Logged(_log, "ledger", configureServices));
        await _ledger.StartAsync();
    }

    /// <summary>
    /// Waits until Execution's own Ledger client gets answers again after <see cref="StartLedgerAsync"/> (its channel
    /// may still be backing off from the outage), so a test's next call is not turned into a deferred one by chance.
    /// </summary>
    public Task WaitUntilExecutionReachesTheLedgerAsync() =>
        WaitUntilAsync(async () => (await ExecutionHost.Services.GetRequiredService<Ledger.LedgerBook>().TryOpenRecordAsync("BTCUSDT", CancellationToken.None)).Answered,
            TimeSpan.FromSeconds(30), "Execution to reach the Ledger");

    /// <summary>A venue client of the test's own, to look at (or tamper with) the venue as an operator would.</summary>
    public Binance.BinanceClient Venue() =>
        new(new HttpClient { BaseAddress = Paper.Address }, Microsoft.Extensions.Options.Options.Create(new Binance.BinanceOptions
        {
            BaseUrl = Paper.Address.ToString(), ApiKey = PaperExchangeHost.ApiKey, ApiSecret = PaperExchangeHost.ApiSecret,
        }));

    /// <summary>Waits until <paramref name="condition"/> holds, polling every 100 ms; fails after <paramref name="timeout"/>.</summary>
    public static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string? what = null)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "Timed out waiting" + (what is null ? "" : " for " + what));
            await Task.Delay(100);
        }
    }

    /// <summary>One reconciliation pass now; returns the number of differences repaired.</summary>
    public Task<int> ReconcileAsync() => ExecutionHost.Services.GetRequiredService<Reconciler>().ReconcileAsync(CancellationToken.None);

    /// <summary>Orders (of any kind, protective ones included) the venue has accepted so far.</summary>
    public async Task<long> OrderRequestsAsync() =>
        await Paper.RequestCountAsync("POST /fapi/v1/order") + await Paper.RequestCountAsync("POST /fapi/v1/algoOrder");

    /// <summary>Runs a statement on the Ledger's database directly (to set up what a test needs behind the Ledger's back).</summary>
    public async Task ExecuteSqlAsync(string sql, params object[] values)
    {
        await using var connection = new NpgsqlConnection(Database);
        await connection.OpenAsync();
        await using var command = Command(connection, sql, values);
        await command.ExecuteNonQueryAsync();
    }

    public async Task<long> CountAsync(string sqlFrom, params object[] values)
    {
        await using var connection = new NpgsqlConnection(Database);
        await connection.OpenAsync();
        await using var command = Command(connection, "SELECT count(*) FROM " + sqlFrom, values);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>Runs one statement against the Ledger's database (to put a record in a state a test needs): rows affected.</summary>
    public async Task<int> ExecuteAsync(string sql, params object[] values)
    {
        await using var connection = new NpgsqlConnection(Database);
        await connection.OpenAsync();
        await using var command = Command(connection, sql, values);
        return await command.ExecuteNonQueryAsync();
    }

    private static NpgsqlCommand Command(NpgsqlConnection connection, string sql, object[] values)
    {
        var command = new NpgsqlCommand(sql, connection);
        foreach (var value in values)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = value });
        }

        return command;
    }

    public async ValueTask DisposeAsync()
    {
        await StopExecutionAsync();
        await RiskHost.DisposeAsync();
        await FundingHost.DisposeAsync();
        await Events.DisposeAsync();
        await StopLedgerAsync();
        await Paper.DisposeAsync();
    }

    private static Dictionary<string, string?> Merge(params Dictionary<string, string?>[] parts)
    {
        var result = new Dictionary<string, string?>();
        foreach (var part in parts)
        {
            foreach (var (key, value) in part)
            {
                result[key] = value;
            }
        }

        return result;
    }
}
