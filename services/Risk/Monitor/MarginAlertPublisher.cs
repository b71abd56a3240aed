using MassTransit;
using TradeEngine.Contracts.Events;

namespace TradeEngine.Risk.Monitor;

/// <summary>Publishes <see cref="MarginAlertRaised"/> on the event bus (MassTransit over RabbitMQ).</summary>
public interface IMarginAlertPublisher
{
    Task PublishAsync(MarginAlertRaised alert, CancellationToken cancellationToken);
}

public sealed class BusMarginAlertPublisher(IBus bus) : IMarginAlertPublisher
{
    public Task PublishAsync(MarginAlertRaised alert, CancellationToken cancellationToken) =>
        bus.Publish(alert, cancellationToken);
}
