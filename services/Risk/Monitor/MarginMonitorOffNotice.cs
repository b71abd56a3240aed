namespace TradeEngine.Risk.Monitor;

/// <summary>
/// Says at start-up that the margin monitor is off, and what that costs: it is the only thing that latches the kill
/// switch on a daily-loss or drawdown breach while no orders are checked, and that raises margin alerts.
/// </summary>
public sealed partial class MarginMonitorOffNotice(string cause, ILogger<MarginMonitorOffNotice> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        LogMonitorOff(logger, cause);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "The margin monitor is off ({Cause}): no margin alerts, and a daily-loss or drawdown breach latches the kill switch only when an order is checked, not while none is placed")]
    private static partial void LogMonitorOff(ILogger logger, string cause);
}
