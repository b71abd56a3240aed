using System.Collections.Concurrent;
using MassTransit;
using TradeEngine.Contracts.Events;
using TradeEngine.Messaging;

namespace TradeEngine.Funding.Tests.Support;

/// <summary>A MassTransit bus of the test's own on the real RabbitMQ, collecting every FundingScheduleChanged published.</summary>
public sealed class ScheduleChangeListener : IAsyncDisposable
{
    private readonly IBusControl _bus;

    private ScheduleChangeListener(IBusControl bus) => _bus = bus;

    public ConcurrentQueue<FundingScheduleChanged> Changes { get; } = new();

    public static async Task<ScheduleChangeListener> StartAsync(string amqpUri)
    {
        var broker = BrokerAddress.Parse(amqpUri);
        ScheduleChangeListener? listener = null;
        var bus = Bus.Factory.CreateUsingRabbitMq(cfg =>
        {
            cfg.Host(broker.Host, broker.Port, broker.VirtualHost, h =>
            {
                h.Username(broker.Username);
                h.Password(broker.Password);
            });
            cfg.ReceiveEndpoint("funding-tests-schedule-" + Guid.NewGuid().ToString("N"), e =>
            {
                e.AutoDelete = true;
                e.Durable = false;
                e.Handler<FundingScheduleChanged>(ctx =>
                {
                    listener!.Changes.Enqueue(ctx.Message);
                    return Task.CompletedTask;
                });
            });
        });
        listener = new ScheduleChangeListener(bus);
        await bus.StartAsync();
        return listener;
    }

    public async ValueTask DisposeAsync() => await _bus.StopAsync();
}
