using MassTransit;
using TradeEngine.Contracts.Events;

namespace TradeEngine.Funding.Market;

/// <summary>Where a change of a symbol's funding interval, cap or floor is announced.</summary>
public interface IFundingAlerts
{
    Task ScheduleChangedAsync(FundingScheduleChanged change, CancellationToken cancellationToken);
}

/// <summary>Publishes <see cref="FundingScheduleChanged"/> on the event bus.</summary>
public sealed class BusFundingAlerts(IBus bus) : IFundingAlerts
{
    public Task ScheduleChangedAsync(FundingScheduleChanged change, CancellationToken cancellationToken) =>
        bus.Publish(change, cancellationToken);
}

/// <summary>Without an event bus (a service started on its own), the change is only logged.</summary>
public sealed partial class LoggingFundingAlerts(ILogger<LoggingFundingAlerts> logger) : IFundingAlerts
{
    public Task ScheduleChangedAsync(FundingScheduleChanged change, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(change);
        LogChanged(logger, change.Symbol, change.PreviousIntervalHours, change.IntervalHours);
        return Task.CompletedTask;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Funding schedule of {Symbol} changed: {Previous} h -> {Current} h (no event bus configured)")]
    private static partial void LogChanged(ILogger logger, string symbol, int previous, int current);
}
