using Microsoft.Extensions.DependencyInjection.Extensions;
using TradeEngine.Binance;
using TradeEngine.Binance.DependencyInjection;
using TradeEngine.Execution.Concurrency;
using TradeEngine.Execution.Consumers;
using TradeEngine.Execution.Grpc;
using TradeEngine.Execution.Ledger;
using TradeEngine.Execution.Options;
using TradeEngine.Execution.Positions;
using TradeEngine.Execution.Reconciliation;
using TradeEngine.Execution.Streaming;
using TradeEngine.Execution.Venue;
using TradeEngine.Funding.V1;
using TradeEngine.Messaging;
using TradeEngine.Messaging.Inbox;
using TradeEngine.Risk.V1;
using TradeEngine.ServiceDefaults.Grpc;

namespace TradeEngine.Execution.Extensions;

public static class ExecutionServiceCollectionExtensions
{
    /// <summary>
    /// The venue client (section <c>Binance</c>), Risk, Funding and the Ledger as gRPC clients (service discovery), the
    /// margin-response consumers on the event bus (through the shared Ledger inbox), and the reconciliation loop,
    /// whose first success gates opening and readiness.
    /// </summary>
    public static IHostApplicationBuilder AddExecutionServices(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        services.AddOptions<ExecutionOptions>().Bind(builder.Configuration.GetSection(ExecutionOptions.SectionName))
            .Validate(o => o.LedgerWriteRetryDelay > TimeSpan.Zero && o.LedgerWriteRetryMaxDelay >= o.LedgerWriteRetryDelay
                           && o.LedgerWriteRetryMaxDelay <= ExecutionOptions.LedgerWriteRetryLimit,
                "Execution:LedgerWriteRetryDelay must be positive and at most Execution:LedgerWriteRetryMaxDelay, itself at most an hour")
            .ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        services.Configure<global::Grpc.AspNetCore.Server.GrpcServiceOptions>(o => o.Interceptors.Add<VenueExceptionInterceptor>());

        services.AddBinanceClient(builder.Configuration);
        services.AddServiceGrpcClient<RiskService.RiskServiceClient>("risk");
        services.AddServiceGrpcClient<FundingService.FundingServiceClient>("funding");
        builder.AddLedgerInbox();

        builder.AddEventBus(bus =>
        {
            bus.AddConsumer<MarginAlertRaisedConsumer>().Endpoint(e => e.Name = "execution-margin-alert-raised");
            bus.AddConsumer<KillSwitchTriggeredConsumer>().Endpoint(e => e.Name = "execution-kill-switch-triggered");
        });

        services.AddSingleton<InstrumentDirectory>();
        services.AddSingleton<SymbolLocks>();
        services.AddSingleton<RequestDeduplicator>();
        services.AddSingleton<PositionUpdateHub>();
        services.AddSingleton<LedgerWrites>();
        services.AddSingleton<LedgerBook>();
        services.AddSingleton<ProtectiveOrders>();
        services.AddSingleton<FillRecorder>();
        services.AddSingleton<OpenPositionHandler>();
        services.AddSingleton<CloseLookup>();
        services.AddSingleton<CloseRecorder>();
        services.AddSingleton<ClosePositionHandler>();
        services.AddSingleton<CloseAllHandler>();
        services.AddSingleton<AccountQueries>();
        services.AddSingleton<SettingsHandler>();
        services.AddSingleton<MismatchReporter>();
        services.AddSingleton<VenueFillHistory>();
        services.AddSingleton<SizeRepair>();
        services.AddSingleton<ProtectionRepair>();
        services.AddSingleton<LeverageRepair>();
        services.AddSingleton<Reconciler>();
        services.AddSingleton<ReconciliationState>();
        services.AddHostedService<ReconciliationService>();
        services.AddHostedService<LedgerWriteDrainer>();
        services.AddHealthChecks().AddCheck<ReconciliationState>("reconciliation");
        return builder;
    }
}
