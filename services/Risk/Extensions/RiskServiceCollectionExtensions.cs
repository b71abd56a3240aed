using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using TradeEngine.Binance.DependencyInjection;
using TradeEngine.Binance.Instruments;
using TradeEngine.Execution.V1;
using TradeEngine.Funding.V1;
using TradeEngine.Ledger.V1;
using TradeEngine.Messaging;
using TradeEngine.Risk.Checks;
using TradeEngine.Risk.Consumers;
using TradeEngine.Risk.Instruments;
using TradeEngine.Risk.KillSwitch;
using TradeEngine.Risk.Monitor;
using TradeEngine.Risk.Options;
using TradeEngine.Risk.State;
using TradeEngine.ServiceDefaults.Grpc;

namespace TradeEngine.Risk.Extensions;

public static class RiskServiceCollectionExtensions
{
    /// <summary>
    /// Limits from <c>Risk</c> (validated at start-up: a looser value than a hard limit stops the service), the venue's
    /// instruments (section <c>Binance</c>: filters, brackets, funding terms), the Ledger-backed risk state, the kill switch (its reset needs <c>Risk:KillSwitch:OperatorKey</c>), and, when their dependencies are configured, the event bus
    /// (<c>ConnectionStrings:eventbus</c>) and the margin monitor (Execution at <c>services__execution__http__0</c>).
    /// Limits, leverage, liquidation price and margin health need none of the latter.
    /// </summary>
    public static IHostApplicationBuilder AddRiskServices(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        var configuration = builder.Configuration;
        services.TryAddSingleton(TimeProvider.System);
        // A key under Risk that names no setting stops the service at start (naming the key): a misspelt tightening
        // ("Risk:MaxNotional" for Risk:MaxPositionNotional) was dropped in silence, and the hard limit applied instead.
        services.AddOptions<RiskOptions>().Bind(configuration.GetSection(RiskOptions.SectionName), Strict).ValidateOnStart();
        services.AddSingleton<IValidateOptions<RiskOptions>, RiskOptionsValidator>();

        // Filters and brackets come from the venue (section Binance), through its cached instrument catalog.
        services.AddBinanceClient(configuration);
        // Read at start, so an open's first check does not make that read under its symbol's lock.
        services.AddHostedService<InstrumentCatalogWarmUp>();
        services.AddSingleton<RiskInstruments>();
        services.AddServiceGrpcClient<LedgerService.LedgerServiceClient>("ledger");
        services.AddServiceGrpcClient<FundingService.FundingServiceClient>("funding");
        services.TryAddSingleton<IRiskStateSource, LedgerRiskStateSource>();
        services.AddSingleton<RiskStateCache>();
        services.AddHostedService<RiskStateRefresher>();
        services.AddSingleton<KillSwitchService>();
        services.AddSingleton<OperatorKeyCheck>();
        services.AddSingleton<EquityBaseline>();
        services.AddSingleton<PreTradeEvaluator>();
        services.AddSingleton<PositionPreviewer>();
        services.TryAddSingleton<IFundingQuotes, FundingServiceQuotes>();
        services.TryAddSingleton<ITransferCheck, FundingTransferCheck>();

        var hasBus = !string.IsNullOrWhiteSpace(configuration.GetConnectionString(EventBusExtensions.ConnectionName));
        if (hasBus)
        {
            builder.AddEventBus(bus => bus.AddConsumer<KillSwitchTriggeredConsumer>()
                .Endpoint(e =>
                {
                    e.InstanceId = $"{Environment.ProcessId}-{Guid.NewGuid():N}";
                    e.Temporary = true;
                }));
            services.TryAddSingleton<IMarginAlertPublisher, BusMarginAlertPublisher>();
        }

        var monitor = configuration.GetSection(RiskOptions.SectionName).Get<RiskOptions>(Strict)?.MarginMonitor ?? new MarginMonitorOptions();
        var hasExecution = !string.IsNullOrWhiteSpace(configuration["services:execution:http:0"]);
        if (hasExecution)
        {
            services.AddServiceGrpcClient<ExecutionService.ExecutionServiceClient>("execution");
            services.TryAddSingleton<IAccountSource, ExecutionAccountSource>();
        }

        if (monitor.Enabled ?? hasExecution)
        {
            if (!hasBus)
            {
                throw new InvalidOperationException(
                    "Risk:MarginMonitor is on but ConnectionStrings:eventbus is not configured: margin alerts could not be published.");
            }

            services.AddSingleton<MarginMonitor>();
            services.AddHostedService(sp => sp.GetRequiredService<MarginMonitor>());
            services.AddSingleton(new MarginMonitorPresence(On: true));
        }
        else
        {
            // Off is allowed outside Production (a Risk without Execution, tests, tools), but never silently: the log says
            // what goes unwatched. In Production it is refused: the monitor is what latches the kill switch on a daily-loss
            // or drawdown breach while no order is checked, and the hard limits are not configuration's to switch off.
            var cause = monitor.Enabled == false
                ? "Risk:MarginMonitor:Enabled is false"
                : "Execution's address (services:execution:http:0) is not configured";
            if (builder.Environment.IsProduction())
            {
                throw new InvalidOperationException(
                    $"The margin monitor is off ({cause}), which Production refuses: it is what latches the kill switch on a daily-loss or drawdown breach while no order is checked, and raises the margin alerts. Give Risk Execution's address and leave Risk:MarginMonitor:Enabled unset or true.");
            }

            services.AddHostedService(sp => new MarginMonitorOffNotice(cause, sp.GetRequiredService<ILogger<MarginMonitorOffNotice>>()));
            services.AddSingleton(new MarginMonitorPresence(On: false));
        }

        return builder;
    }

    private static void Strict(BinderOptions options) => options.ErrorOnUnknownConfiguration = true;
}
