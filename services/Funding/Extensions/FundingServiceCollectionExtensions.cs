using MassTransit;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using TradeEngine.Binance.DependencyInjection;
using TradeEngine.Binance.Instruments;
using TradeEngine.Funding.Accrual;
using TradeEngine.Funding.Market;
using TradeEngine.Funding.Options;
using TradeEngine.Funding.Transfers;
using TradeEngine.Ledger.V1;
using TradeEngine.Messaging;
using TradeEngine.ServiceDefaults.Grpc;

namespace TradeEngine.Funding.Extensions;

public static class FundingServiceCollectionExtensions
{
    /// <summary>
    /// The venue client and its instrument catalog (section <c>Binance</c>; interval, cap and floor refresh every
    /// <c>Binance:InstrumentCatalogTtl</c>), the cached market data, and, when the Ledger's address is
    /// configured, the accrual of each settlement to the Ledger (<c>Funding:Accrual:Enabled</c>) and the booking of the
    /// venue's transfers into and out of the account (BookTransfers; the poller with <c>Funding:Transfers:Enabled</c>). Schedule-change
    /// alerts go on the event bus when <c>ConnectionStrings:eventbus</c> is set.
    /// </summary>
    public static IHostApplicationBuilder AddFundingServices(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        var configuration = builder.Configuration;
        services.TryAddSingleton(TimeProvider.System);
        services.AddOptions<FundingOptions>().Bind(configuration.GetSection(FundingOptions.SectionName))
            .Validate(o => o.HighFundingThreshold >= 0m, "Funding:HighFundingThreshold must not be negative.")
            .Validate(o => o.RateCacheTtlSeconds is >= 1 and <= 3600, "Funding:RateCacheTtlSeconds must be from 1 to 3600.")
            .Validate(o => o.Accrual.PollSeconds is >= 1 and <= 3600, "Funding:Accrual:PollSeconds must be from 1 to 3600.")
            .Validate(o => o.Accrual.MaxBackfillDays is >= 1 and <= 365, "Funding:Accrual:MaxBackfillDays must be from 1 to 365.")
            .Validate(o => o.Transfers.PollSeconds is >= 1 and <= 3600, "Funding:Transfers:PollSeconds must be from 1 to 3600.")
            .Validate(o => o.Transfers.LookBackDays is >= 1 and <= 90, "Funding:Transfers:LookBackDays must be from 1 to 90.")
            .Validate(o => o.Transfers.ListingLagSeconds is >= 60 and <= 1800, "Funding:Transfers:ListingLagSeconds must be from 60 to 1800.")
            .Validate(
                o => o.Transfers.Asset is { Length: >= 1 and <= 16 } asset && asset.All(c => c is (>= 'A' and <= 'Z') or (>= '0' and <= '9')),
                "Funding:Transfers:Asset must be the margin asset's code, 1 to 16 upper-case letters or digits (e.g. USDT).")
            .Validate(o => !string.IsNullOrWhiteSpace(o.Venue) && o.Venue.Length <= 32, "Funding:Venue must be 1 to 32 characters.")
            .ValidateOnStart();

        services.AddBinanceClient(configuration);
        // Read at start, so an open's first quote does not make that read under its symbol's lock.
        services.AddHostedService<InstrumentCatalogWarmUp>();
        services.AddSingleton<FundingMarketData>();

        if (!string.IsNullOrWhiteSpace(configuration.GetConnectionString(EventBusExtensions.ConnectionName)))
        {
            // Funding only publishes its schedule-change alerts on the bus; rates and estimates do not need it. A broker
            // outage must not make Funding unready (Execution's opens wait for its quote), so the bus reports at most Degraded.
            builder.AddEventBus(bus => bus.ConfigureHealthCheckOptions(o => o.MinimalFailureStatus = HealthStatus.Degraded));
            services.TryAddSingleton<IFundingAlerts, BusFundingAlerts>();
        }
        else
        {
            services.TryAddSingleton<IFundingAlerts, LoggingFundingAlerts>();
        }

        var settings = configuration.GetSection(FundingOptions.SectionName).Get<FundingOptions>() ?? new FundingOptions();
        if (!string.IsNullOrWhiteSpace(configuration["services:ledger:http:0"]))
        {
            services.AddServiceGrpcClient<LedgerService.LedgerServiceClient>("ledger");
            if (settings.Accrual.Enabled)
            {
                services.AddSingleton<IncomeReconciler>();
                services.AddSingleton<FundingAccrual>();
                services.AddHostedService<FundingAccrualService>();
            }

            // Transfers into and out of the account, booked so they are not read as PnL: BookTransfers always, the
            // poller when enabled (it stays off without venue API credentials).
            services.AddSingleton<TransferBooker>();
            if (settings.Transfers.Enabled)
            {
                services.AddHostedService<TransferPoller>();
            }
        }

        return builder;
    }
}
