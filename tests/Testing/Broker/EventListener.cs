using System.Collections.Concurrent;
using MassTransit;
using TradeEngine.Messaging;

namespace TradeEngine.Testing.Broker;

/// <summary>
/// A MassTransit bus of the test's own on the real RabbitMQ, collecting every <typeparamref name="TEvent"/> published.
/// Its queue is throwaway (auto-delete, not durable), named by the suite's prefix plus a fresh id.
/// </summary>
public sealed class EventListener<TEvent> : IAsyncDisposable
    where TEvent : class
{
    private readonly IBusControl _bus;

    private EventListener(IBusControl bus) => _bus = bus;

    public ConcurrentQueue<TEvent> Received { get; } = new();

    public static async Task<EventListener<TEvent>> StartAsync(string amqpUri, string queuePrefix)
    {
        var broker = BrokerAddress.Parse(amqpUri);
        EventListener<TEvent>? listener = null;
        var bus = Bus.Factory.CreateUsingRabbitMq(cfg =>
        {
            cfg.Host(broker.Host, broker.Port, broker.VirtualHost, h =>
            {
                h.Username(broker.Username);
                h.Password(broker.Password);
            });
            cfg.ReceiveEndpoint(queuePrefix + Guid.NewGuid().ToString("N"), e =>
            {
                e.AutoDelete = true;
                e.Durable = false;
                e.Handler<TEvent>(ctx =>
                {
                    listener!.Received.Enqueue(ctx.Message);
                    return Task.CompletedTask;
                });
            });
        });
        listener = new EventListener<TEvent>(bus);
        await bus.StartAsync();
        return listener;
    }

    public async ValueTask DisposeAsync() => await _bus.StopAsync();
}
