using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using TradeEngine.Binance;
using TradeEngine.Funding.Services;
using TradeEngine.Funding.V1;
using TradeEngine.Ledger.Services;
using TradeEngine.Ledger.V1;
using TradeEngine.Testing.Hosting;
using TradeEngine.Testing.Paper;
using TradeEngine.Testing.Servers;
using TradeEngine.Testing.Venue;

namespace TradeEngine.Funding.Tests.Support;

/// <summary>
/// The real services over loopback: the Ledger on its own PostgreSQL database and RabbitMQ, PaperExchange as the
/// venue, and Funding pointed at both, driven by the venue's simulated clock. Funding can be stopped and started.
/// </summary>
public sealed class FundingWorld : IAsyncDisposable
{
    private readonly Dictionary<string, string?> _fundingSettings;
    private readonly Func<IBinanceClient, IBinanceClient>? _decorateVenue;
    private readonly Func<string, string, string>? _rewriteVenueAnswer;
    private readonly Action<IServiceCollection>? _configureFunding;
    private LoopbackServiceHost<FundingGrpcService>? _funding;

    private FundingWorld(
        string database, LoopbackServiceHost<LedgerGrpcService> ledger, PaperExchangeHost paper, Dictionary<string, string?> fundingSettings,
        Func<IBinanceClient, IBinanceClient>? decorateVenue, Func<string, string, string>? rewriteVenueAnswer,
        Action<IServiceCollection>? configureFunding)
    {
        Database = database;
        LedgerHost = ledger;
        Paper = paper;
        Ledger = new LedgerService.LedgerServiceClient(ledger.Channel);
        _fundingSettings = fundingSettings;
        _decorateVenue = decorateVenue;
        _rewriteVenueAnswer = rewriteVenueAnswer;
        _configureFunding = configureFunding;
    }

    /// <summary>00:30 UTC two days ago: a simulated start half an hour after a settlement of every interval.</summary>
    public static DateTimeOffset Start { get; } = new DateTimeOffset(DateTime.UtcNow.Date, TimeSpan.Zero).AddDays(-2).AddMinutes(30);

    public string Database { get; }

    public LoopbackServiceHost<LedgerGrpcService> LedgerHost { get; }

    public PaperExchangeHost Paper { get; }

    public LedgerService.LedgerServiceClient Ledger { get; }

    /// <summary>The running Funding host (for its HTTP endpoints: /health, /alive).</summary>
    public LoopbackServiceHost<FundingGrpcService> FundingHost => _funding ?? throw new InvalidOperationException("Funding is stopped.");

    public FundingService.FundingServiceClient Funding =>
        new((_funding ?? throw new InvalidOperationException("Funding is stopped.")).Channel);

    /// <param name="decorateVenue">
    /// Wraps Funding's venue client (the real one over PaperExchange), e.g. to make one call fail as the venue can.
    /// </param>
    /// <param name="rewriteVenueAnswer">
    /// Rewrites the body of each venue answer Funding reads (path, body → body), e.g. to send a value PaperExchange never
    /// sends; it runs under Funding's client, so the client's own parsing sees the rewritten answer.
    /// </param>
    /// <param name="configureFunding">Changes Funding's services last, e.g. a handler under its Ledger client.</param>
    public static async Task<FundingWorld> StartAsync(
        PostgresServer postgres, RabbitMqServer rabbit, bool startFunding = true, IDictionary<string, string?>? funding = null,
        Func<IBinanceClient, IBinanceClient>? decorateVenue = null, Func<string, string, string>? rewriteVenueAnswer = null,
        Action<IServiceCollection>? configureFunding = null)
    {
        var database = await postgres.CreateDatabaseAsync();
        var ledger = new LoopbackServiceHost<LedgerGrpcService>(new Dictionary<string, string?>
        {
            ["ConnectionStrings:ledgerdb"] = database,
            ["ConnectionStrings:eventbus"] = rabbit.ConnectionString,
            ["Logging:LogLevel:Default"] = "Warning",
        });
        await ledger.StartAsync();
        // The venue's clock is frozen at Start; tests move it (and Funding, which runs on it) forward.
        var paper = await PaperExchangeHost.StartAsync(start: Start, clockSpeed: 0);
        var settings = new Dictionary<string, string?>(paper.BinanceSettings())
        {
            ["services:ledger:http:0"] = ledger.Address.ToString(),
            ["ConnectionStrings:eventbus"] = rabbit.ConnectionString,
            ["Funding:Accrual:PollSeconds"] = "1",
            ["Funding:Accrual:ReconcileIncome"] = "false",
            // The transfer poller reads the venue's income: off unless a test is about it (others count income reads).
            ["Funding:Transfers:Enabled"] = "false",
            ["Logging:LogLevel:Default"] = "Warning",
        };
        foreach (var (key, value) in funding ?? new Dictionary<string, string?>())
        {
            settings[key] = value;
        }

        var world = new FundingWorld(database, ledger, paper, settings, decorateVenue, rewriteVenueAnswer, configureFunding);
        if (startFunding)
        {
            await world.StartFundingAsync();
        }

        return world;
    }

    /// <summary>
    /// Returns once <paramref name="passes"/> whole accrual passes have run after the call (the pass running now may have
    /// read before it, so one more is waited for): "nothing more after more passes" is asserted after passes that surely
    /// ran, not after a sleep in which, on a loaded machine, none may have.
    /// </summary>
    public Task AccrualPassesAsync(int passes)
    {
        var accrual = FundingHost.Services.GetServices<Microsoft.Extensions.Hosting.IHostedService>()
            .OfType<TradeEngine.Funding.Accrual.FundingAccrualService>().Single();
        return TradeEngine.Testing.Poll.RunsAsync(() => accrual.Passes, passes);
    }

    public async Task StartFundingAsync()
    {
        if (_funding is not null)
        {
            return;
        }

        var clock = Paper.Clock;
        var host = new LoopbackServiceHost<FundingGrpcService>(_fundingSettings, s =>
        {
            s.AddSingleton<TimeProvider>(clock);
            if (_decorateVenue is { } decorate)
            {
                VenueProxy.Install(s, decorate);
            }

            if (_rewriteVenueAnswer is { } rewrite)
            {
                // The typed client's HttpClient is named after its interface.
                s.AddHttpClient(nameof(IBinanceClient)).AddHttpMessageHandler(() => new VenueAnswerRewriter(rewrite));
            }

            _configureFunding?.Invoke(s);
        });
        await host.StartAsync();
        _funding = host;
    }

    public async Task StopFundingAsync()
    {
        if (_funding is not null)
        {
            await _funding.DisposeAsync();
            _funding = null;
        }
    }

    /// <summary>Opens a position record in the Ledger, as Execution does after a fill, at the simulated time.</summary>
    public async Task<PositionRecord> OpenPositionAsync(string symbol, Common.V1.Side side, string quantity, string entry)
    {
        return await Ledger.OpenPositionAsync(new OpenPositionRequest
        {
            IdempotencyKey = "open-" + Guid.NewGuid().ToString("N"),
            Account = "main",
            Venue = "binance",
            Symbol = symbol,
            Side = side,
            Quantity = quantity,
            EntryPrice = entry,
            Leverage = 3,
            MarginType = Common.V1.MarginType.Cross,
            Fee = "0",
            OpenedAt = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(Paper.Clock.GetUtcNow()),
        });
    }

    public async Task<Ledger.V1.GetFundingHistoryResponse> LedgerFundingAsync(string symbol) =>
        await Ledger.GetFundingHistoryAsync(new Ledger.V1.GetFundingHistoryRequest
        {
            Symbol = symbol,
            Venue = "binance",
            Range = new Common.V1.TimeRange
            {
                Start = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(Start.AddDays(-1)),
                End = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(Start.AddDays(30)),
            },
            Page = new Common.V1.PageRequest { PageSize = 1000 },
        });

    /// <summary>The transfers the Ledger booked for the venue Funding uses ("binance"), around the simulated time.</summary>
    public async Task<GetTransfersResponse> LedgerTransfersAsync() =>
        await Ledger.GetTransfersAsync(new GetTransfersRequest
        {
            Venue = "binance",
            Range = new Common.V1.TimeRange
            {
                Start = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(Start.AddDays(-30)),
                End = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(Start.AddDays(30)),
            },
            Page = new Common.V1.PageRequest { PageSize = 1000 },
        });

    /// <summary>Refuses (or allows again) every connection to the Ledger's database, as a PostgreSQL outage would.</summary>
    public async Task SetLedgerDatabaseReachableAsync(PostgresServer postgres, bool reachable)
    {
        ArgumentNullException.ThrowIfNull(postgres);
        var name = new NpgsqlConnectionStringBuilder(Database).Database!;
        await using (var admin = new NpgsqlConnection(postgres.ConnectionString))
        {
            await admin.OpenAsync();
            await using var change = new NpgsqlCommand($"ALTER DATABASE {name} ALLOW_CONNECTIONS {(reachable ? "true" : "false")}", admin);
            await change.ExecuteNonQueryAsync();
            if (!reachable)
            {
                await using var terminate = new NpgsqlCommand("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", admin);
                terminate.Parameters.Add(new NpgsqlParameter { Value = name });
                await terminate.ExecuteNonQueryAsync();
            }
        }

        NpgsqlConnection.ClearAllPools();
    }

    public async Task<long> CountAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(Database);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    public async ValueTask DisposeAsync()
    {
        await StopFundingAsync();
        await Paper.DisposeAsync();
        await LedgerHost.DisposeAsync();
    }
}
