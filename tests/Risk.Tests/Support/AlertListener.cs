using System.Collections.Concurrent;
using MassTransit;
using TradeEngine.Contracts.Events;
using TradeEngine.Messaging;

namespace TradeEngine.Risk.Tests.Support;

/// <summary>A MassTransit bus of the test's own on the real RabbitMQ, collecting every MarginAlertRaised published.</summary>
public sealed class AlertListener : IAsyncDisposable
{
    private readonly IBusControl _bus;

    private AlertListener(IBusControl bus) => _bus = bus;

    public ConcurrentQueue<MarginAlertRaised> Alerts { get; } = new();

    public static async Task<AlertListener> StartAsync(string amqpUri)
    {
        var broker = BrokerAddress.Parse(amqpUri);
        AlertListener? listener = null;
        var bus = Bus.Factory.CreateUsingRabbitMq(cfg =>
        {
            cfg.Host(broker.Host, broker.Port, broker.VirtualHost, h =>
            {
                h.Username(broker.Username);
                h.Password(broker.Password);
            });
            cfg.ReceiveEndpoint("risk-tests-alerts-" + Guid.NewGuid().ToString("N"), e =>
            {
                e.AutoDelete = true;
                e.Durable = false;
                e.Handler<MarginAlertRaised>(ctx =>
                {
                    listener!.Alerts.Enqueue(ctx.Message);
                    return Task.CompletedTask;
                });
            });
        });
        listener = new AlertListener(bus);
        await bus.StartAsync();
        return listener;
    }

    public int Count(MarginAlertAction action) => Alerts.Count(a => a.Action == action);

    public async ValueTask DisposeAsync() => await _bus.StopAsync();
}
