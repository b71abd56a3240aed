using System.Globalization;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using TradeEngine.Common.V1;
using TradeEngine.Ledger.Services;
using TradeEngine.Ledger.V1;
using TradeEngine.Risk.Services;
using TradeEngine.Risk.V1;
using TradeEngine.Testing.Hosting;
using TradeEngine.Testing.Paper;
using TradeEngine.Testing.Servers;

namespace TradeEngine.Risk.Tests.Support;

/// <summary>
/// The real Ledger (own PostgreSQL database, RabbitMQ), PaperExchange as the venue Risk reads its instruments from,
/// and the real Risk over loopback gRPC. Either service can be restarted: the Ledger on the same database, Risk
/// pointed at wherever the Ledger now listens. A test that drives the venue itself may pass its own simulator.
/// Risk and the Ledger have <see cref="OperatorKey"/> configured (one key, both services: the Ledger checks the key Risk
/// forwards on a reset); a reset passes <see cref="OperatorHeaders"/>. A setting given as null is left out of the
/// service's configuration (e.g. <c>Risk:KillSwitch:OperatorKey</c>: not configured).
/// </summary>
public sealed class RiskWorld : IAsyncDisposable
{
    private readonly RabbitMqServer _rabbit;
    private readonly Dictionary<string, string?> _riskSettings;
    private readonly IDictionary<string, string?>? _ledgerSettings;
    private readonly Action<IServiceCollection>? _riskServices;
    private readonly bool _ownsPaper;
    private LoopbackServiceHost<LedgerGrpcService>? _ledger;
    private int? _ledgerPort;
    private LoopbackServiceHost<RiskGrpcService>? _risk;
    private LoopbackServiceHost<Funding.Services.FundingGrpcService>? _funding;

    private RiskWorld(
        RabbitMqServer rabbit, string database, PaperExchangeHost paper, bool ownsPaper, Dictionary<string, string?> riskSettings,
        Action<IServiceCollection>? riskServices, IDictionary<string, string?>? ledgerSettings)
    {
        _ledgerSettings = ledgerSettings;
        _rabbit = rabbit;
        Database = database;
        Paper = paper;
        _ownsPaper = ownsPaper;
        _riskSettings = riskSettings;
        _riskServices = riskServices;
    }

    /// <summary>Risk's <c>Risk:KillSwitch:OperatorKey</c> and the Ledger's <c>Ledger:KillSwitch:OperatorKey</c> unless a test sets another.</summary>
    public const string OperatorKey = "test-operator-key-7f3a9c2e";

    /// <summary>The metadata a ResetKillSwitch call needs: <see cref="OperatorKey"/> as <c>x-operator-key</c>.</summary>
    public static Metadata OperatorHeaders => new() { { "x-operator-key", OperatorKey } };

    public string Database { get; }

    /// <summary>The venue: Risk's filters and brackets come from its exchangeInfo and leverageBracket.</summary>
    public PaperExchangeHost Paper { get; }

    public LedgerService.LedgerServiceClient Ledger => new((_ledger ?? throw new InvalidOperationException("Ledger stopped.")).Channel);

    /// <summary>Funding, when the world was started with it: what books the venue's transfers in the Ledger.</summary>
    public Funding.V1.FundingService.FundingServiceClient Funding =>
        new((_funding ?? throw new InvalidOperationException("Funding was not started.")).Channel);

    public RiskService.RiskServiceClient Risk => new((_risk ?? throw new InvalidOperationException("Risk stopped.")).Channel);

    public IServiceProvider RiskServices => (_risk ?? throw new InvalidOperationException("Risk stopped.")).Services;

    /// <summary>
    /// Starts Risk alone with <paramref name="key"/> set to <paramref name="value"/>, its venue, Ledger and Execution
    /// addresses pointing nowhere, and returns the options validation that refused the start (the test fails if it started).
    /// </summary>
    public static async Task<Microsoft.Extensions.Options.OptionsValidationException> StartRefusedAsync(RabbitMqServer rabbit, string key, string value)
    {
        ArgumentNullException.ThrowIfNull(rabbit);
        await using var host = new LoopbackServiceHost<Services.RiskGrpcService>(new Dictionary<string, string?>
        {
            [key] = value,
            ["Binance:BaseUrl"] = "http://127.0.0.1:9", ["Binance:ApiKey"] = "k", ["Binance:ApiSecret"] = "s",
            ["services:ledger:http:0"] = "http://127.0.0.1:9", ["ConnectionStrings:eventbus"] = rabbit.ConnectionString,
        });
        return await Assert.ThrowsAsync<Microsoft.Extensions.Options.OptionsValidationException>(host.StartAsync);
    }

    public static async Task<RiskWorld> StartAsync(
        PostgresServer postgres, RabbitMqServer rabbit, IDictionary<string, string?>? risk = null,
        Action<IServiceCollection>? riskServices = null, Func<RiskWorld, Task>? beforeRisk = null, PaperExchangeHost? paper = null,
        IDictionary<string, string?>? ledger = null, IDictionary<string, string?>? funding = null,
        Action<IServiceCollection>? fundingServices = null)
    {
        var venue = paper ?? await PaperExchangeHost.StartAsync();
        var settings = new Dictionary<string, string?>(venue.BinanceSettings())
        {
            ["ConnectionStrings:eventbus"] = rabbit.ConnectionString,
            ["Risk:StateRefreshSeconds"] = "1",
            ["Risk:KillSwitch:OperatorKey"] = OperatorKey,
            ["Logging:LogLevel:Default"] = "Warning",
        };
        Override(settings, risk);
        var world = new RiskWorld(rabbit, await postgres.CreateDatabaseAsync(), venue, paper is null, settings, riskServices, ledger);
        await world.StartLedgerAsync();
        if (funding is not null)
        {
            await world.StartFundingAsync(funding, fundingServices);
        }

        if (beforeRisk is not null)
        {
            await beforeRisk(world);
        }

        await world.StartRiskAsync();
        return world;
    }

    /// <summary>
    /// Starts the Ledger on the same database and, with <paramref name="sameAddress"/>, at the address it last listened
    /// on, so a Risk that kept running (pointed there) reaches it again, as it would a Ledger back after an outage.
    /// </summary>
    public async Task StartLedgerAsync(bool sameAddress = false)
    {
        var settings = new Dictionary<string, string?>
        {
            ["ConnectionStrings:ledgerdb"] = Database,
            ["ConnectionStrings:eventbus"] = _rabbit.ConnectionString,
            ["Ledger:KillSwitch:OperatorKey"] = OperatorKey,
            ["Logging:LogLevel:Default"] = "Warning",
        };
        Override(settings, _ledgerSettings);
        var port = sameAddress ? _ledgerPort ?? throw new InvalidOperationException("The Ledger never started.") : 0;
        var host = new LoopbackServiceHost<LedgerGrpcService>(settings, port: port);
        await host.StartAsync();
        _ledger = host;
        _ledgerPort = host.Address.Port;
    }

    /// <summary>Each of <paramref name="overrides"/> replaces the setting, or removes it when null.</summary>
    private static void Override(Dictionary<string, string?> settings, IDictionary<string, string?>? overrides)
    {
        foreach (var (key, value) in overrides ?? new Dictionary<string, string?>())
        {
            if (value is null)
            {
                settings.Remove(key);
            }
            else
            {
                settings[key] = value;
            }
        }
    }

    /// <summary>
    /// The real Funding service on this world's venue and Ledger (its settings from <paramref name="overrides"/>), and Risk
    /// pointed at it: the service Risk asks to book the venue's transfers before a loss-limit latch.
    /// <paramref name="configureServices"/> changes Funding's services last (e.g. a hand on its venue client).
    /// </summary>
    private async Task StartFundingAsync(IDictionary<string, string?> overrides, Action<IServiceCollection>? configureServices)
    {
        var settings = new Dictionary<string, string?>(Paper.BinanceSettings())
        {
            ["services:ledger:http:0"] = (_ledger ?? throw new InvalidOperationException("Start the Ledger first.")).Address.ToString(),
            ["ConnectionStrings:eventbus"] = _rabbit.ConnectionString,
            ["Funding:Accrual:ReconcileIncome"] = "false",
            ["Logging:LogLevel:Default"] = "Warning",
        };
        Override(settings, overrides);
        var host = new LoopbackServiceHost<Funding.Services.FundingGrpcService>(settings, configureServices);
        await host.StartAsync();
        _funding = host;
        _riskSettings["services:funding:http:0"] = host.Address.ToString();
    }

    public async Task StartRiskAsync()
    {
        _riskSettings["services:ledger:http:0"] = (_ledger ?? throw new InvalidOperationException("Start the Ledger first.")).Address.ToString();
        var host = new LoopbackServiceHost<RiskGrpcService>(_riskSettings, _riskServices);
        await host.StartAsync();
        _risk = host;
    }

    public async Task StopRiskAsync()
    {
        if (_risk is not null)
        {
            await _risk.DisposeAsync();
            _risk = null;
        }
    }

    public async Task StopLedgerAsync()
    {
        if (_ledger is not null)
        {
            await _ledger.DisposeAsync();
            _ledger = null;
        }
    }

    /// <summary>An equity snapshot in the Ledger, as the margin monitor writes them.</summary>
    public async Task SnapshotAsync(decimal equity, DateTimeOffset takenAt) => await Ledger.LogPnlSnapshotAsync(Snapshot(equity, takenAt));

    /// <summary>The request for an equity snapshot as the margin monitor writes them.</summary>
    public static LogPnlSnapshotRequest Snapshot(decimal equity, DateTimeOffset takenAt) =>
        new()
        {
            IdempotencyKey = "test-snapshot-" + Guid.NewGuid().ToString("N"),
            Balance = Text(equity),
            UnrealizedPnl = "0",
            RealizedPnl = "0",
            TotalPnl = "0",
            Equity = Text(equity),
            OpenPositions = 0,
            TakenAt = Timestamp.FromDateTimeOffset(takenAt),
        };

    public static AccountSnapshot Account(decimal equity, decimal? available = null) => new()
    {
        WalletBalance = Text(equity),
        AvailableBalance = Text(available ?? equity),
        UnrealizedPnl = "0",
        Equity = Text(equity),
        MaintenanceMargin = "0",
    };

    public static OrderIntent Order(string quantity, int leverage = 5, string price = "60000", string symbol = "BTCUSDT") => new()
    {
        Symbol = symbol,
        Side = Side.Long,
        Quantity = quantity,
        Price = price,
        Leverage = leverage,
        MarginType = MarginType.Cross,
    };

    public static string Text(decimal value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>Rows of the Ledger's database matching <paramref name="sqlFrom"/> (what follows FROM), read directly.</summary>
    public async Task<long> CountAsync(string sqlFrom)
    {
        await using var connection = new Npgsql.NpgsqlConnection(Database);
        await connection.OpenAsync();
        await using var command = new Npgsql.NpgsqlCommand("SELECT count(*) FROM " + sqlFrom, connection);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    public async ValueTask DisposeAsync()
    {
        await StopRiskAsync();
        if (_funding is not null)
        {
            await _funding.DisposeAsync();
        }

        await StopLedgerAsync();
        if (_ownsPaper)
        {
            await Paper.DisposeAsync();
        }
    }
}
