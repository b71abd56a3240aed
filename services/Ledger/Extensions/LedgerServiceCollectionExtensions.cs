using TradeEngine.Ledger.Mapping;
using MassTransit;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using TradeEngine.Ledger.Data;
using TradeEngine.Ledger.Funding;
using TradeEngine.Ledger.Idempotency;
using TradeEngine.Ledger.Inbox;
using TradeEngine.Ledger.Outbox;
using TradeEngine.Ledger.Pnl;
using TradeEngine.Ledger.Positions;
using TradeEngine.Ledger.Risk;
using TradeEngine.Ledger.Trades;
using TradeEngine.Ledger.Transfers;
using TradeEngine.Messaging;
using TradeEngine.ServiceDefaults.Grpc;

namespace TradeEngine.Ledger.Extensions;

public static class LedgerServiceCollectionExtensions
{
    /// <summary>The Aspire resource name of the Ledger's database: <c>ConnectionStrings:ledgerdb</c>.</summary>
    public const string DatabaseName = "ledgerdb";

    // About the number of distinct hot statements (writes, relay, reads), with room to spare.
    private const int MaxAutoPrepare = 64;
    private const int AutoPrepareMinUsages = 2;

    // The longest wait the outbox relay may be configured with (see the outbox options' checks).
    private static readonly TimeSpan MaxRelayWait = TimeSpan.FromDays(1);

    public static IHostApplicationBuilder AddLedgerServices(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);

        // NpgsqlDataSource with its health check (readiness depends on PostgreSQL), tracing and metrics. The Ledger
        // runs a handful of statements over and over, so they are prepared once per connection (auto-prepare) and
        // PostgreSQL skips parsing and planning them on every call. A connection string that sets these keeps its values.
        // PostgreSQL out of reach for the moment answers UNAVAILABLE, not INTERNAL (inside the shared ExceptionInterceptor).
        builder.Services.Configure<global::Grpc.AspNetCore.Server.GrpcServiceOptions>(o => o.Interceptors.Add<DatabaseExceptionInterceptor>());

        builder.AddNpgsqlDataSource(DatabaseName, configureDataSourceBuilder: source =>
        {
            var settings = source.ConnectionStringBuilder;
            if (settings.MaxAutoPrepare == 0)
            {
                settings.MaxAutoPrepare = MaxAutoPrepare;
                settings.AutoPrepareMinUsages = AutoPrepareMinUsages;
            }

            // Npgsql resets a pooled connection's session state before it is used again: with prepared statements to
            // keep, that is seven statements sent as text ahead of the next command (CLOSE ALL; SET SESSION AUTHORIZATION
            // DEFAULT; RESET ALL; UNLISTEN *; SELECT pg_advisory_unlock_all(); DISCARD SEQUENCES; DISCARD TEMP), parsed
            // anew on every RPC (bench/TradeEngine.ExecutionLoad: 20-25% more round trips per second without them).
            // The Ledger keeps no session state on pooled connections: every statement runs in a transaction that ends
            // before the connection goes back, and nothing SETs a session variable. The two sessions that do hold
            // state (the relay's LISTEN and leader lock, see OutboxRelay; the migration lock, see MigrationRunner) are
            // closed when they are done, not pooled.
            if (!settings.ConnectionString.Contains("Reset On Close", StringComparison.OrdinalIgnoreCase))
            {
                settings.NoResetOnClose = true;
            }
        });

        // The Ledger only publishes, from its outbox. A broker outage must not make it unready: writes go on and the
        // relay catches up, so the bus reports at most Degraded.
        builder.AddEventBus(bus => bus.ConfigureHealthCheckOptions(o => o.MinimalFailureStatus = HealthStatus.Degraded));

        var services = builder.Services;
        services.TryAddSingleton(TimeProvider.System);
        // A setting that cannot work (a relay that never reads, a bound that refuses every write) stops the Ledger at
        // start, naming the key, rather than failing every write or silently never publishing.
        services.AddOptions<OutboxOptions>().Bind(builder.Configuration.GetSection(OutboxOptions.Section))
            .Validate(o => o.BatchSize > 0, $"{OutboxOptions.Section}:BatchSize must be at least 1")
            .Validate(o => o.PublishTimeout > TimeSpan.Zero, $"{OutboxOptions.Section}:PublishTimeout must be positive")
            .Validate(o => o.InitialBackoff > TimeSpan.Zero && o.MaxBackoff >= o.InitialBackoff,
                $"{OutboxOptions.Section}:InitialBackoff must be positive and MaxBackoff at least as long")
            .Validate(o => o.Linger >= TimeSpan.Zero && o.LingerBelowRows >= 0,
                $"{OutboxOptions.Section}:Linger and LingerBelowRows must not be negative")
            .Validate(o => o.IdleWait > TimeSpan.Zero && o.BacklogRefresh > TimeSpan.Zero && o.Retention > TimeSpan.Zero,
                $"{OutboxOptions.Section}:IdleWait, BacklogRefresh and Retention must be positive")
            // The relay waits these out with timers, which take at most about 24.8 days; a relay that sleeps for a day
            // is already not relaying.
            .Validate(o => new[] { o.PublishTimeout, o.MaxBackoff, o.Linger, o.IdleWait, o.BacklogRefresh }.All(t => t <= MaxRelayWait),
                $"{OutboxOptions.Section}:PublishTimeout, MaxBackoff, Linger, IdleWait and BacklogRefresh must be at most a day")
            // The clean-up subtracts it from now in SQL: ten years is past any need and far inside timestamptz.
            .Validate(o => o.Retention <= TimeSpan.FromDays(3650), $"{OutboxOptions.Section}:Retention must be at most 3650 days")
            .ValidateOnStart();
        services.AddOptions<RecordedTimesOptions>().Bind(builder.Configuration.GetSection(RecordedTimesOptions.Section))
            .Validate(o => o.MaxAheadOfClock > TimeSpan.Zero,
                $"{RecordedTimesOptions.Section}:MaxAheadOfClock must be positive (a zero or negative bound refuses every fact dated now)")
            .ValidateOnStart();
        services.AddSingleton<RecordedTimes>();
        services.AddOptions<TransferOptions>().Bind(builder.Configuration.GetSection(TransferOptions.Section))
            .Validate(o => o.SnapshotGuardSeconds is >= 0 and <= TransferOptions.MaxSnapshotGuardSeconds,
                $"{TransferOptions.SnapshotGuardSetting} must be between 0 (no guard) and {TransferOptions.MaxSnapshotGuardSeconds}")
            .ValidateOnStart();
        // Checked only when set (unset, resets are refused at call time); the message never echoes the key.
        services.AddOptions<KillSwitchOptions>().Bind(builder.Configuration.GetSection(KillSwitchOptions.Section))
            .Validate(o => o.OperatorKey is null || OperatorKeyGuard.Problem(o.OperatorKey) is null,
                $"{KillSwitchOptions.OperatorKeySetting} must be at least {OperatorKeyGuard.MinLength} characters of printable ASCII without spaces " +
                "(it is sent as gRPC metadata): it is the secret that lets an operator reset the kill switch.")
            .ValidateOnStart();
        // Who may turn the kill switch off (SetKillSwitch with active=false): the same check and answers as Risk's.
        services.AddSingleton(sp => new OperatorKeyGuard(
            sp.GetRequiredService<IOptions<KillSwitchOptions>>().Value.OperatorKey, KillSwitchOptions.OperatorKeySetting, "Ledger",
            sp.GetRequiredService<ILogger<KillSwitchStore>>()));

        // Migrations run before anything else that touches the database.
        services.AddSingleton<MigrationRunner>();
        services.AddHostedService<MigrationHostedService>();

        services.AddSingleton<IdempotentWriter>();
        services.AddSingleton<TradeStore>();
        services.AddSingleton<PositionStore>();
        services.AddSingleton<PositionAmendments>();
        services.AddSingleton<PositionQueries>();
        services.AddSingleton<TradeQueries>();
        services.AddSingleton<RiskEventStore>();
        services.AddSingleton<FundingStore>();
        services.AddSingleton<PnlStore>();
        services.AddSingleton<TransferStore>();
        services.AddSingleton<KillSwitchStore>();
        services.AddSingleton<InboxStore>();

        services.AddSingleton<OutboxMetrics>();
        services.AddSingleton<OutboxNotifier>();
        services.AddHostedService<OutboxRelay>();
        services.AddHostedService<OutboxBacklogMonitor>();
        return builder;
    }
}
