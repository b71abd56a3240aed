using System.Collections.Concurrent;
using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using TradeEngine.Contracts.Events;
using TradeEngine.Messaging;

namespace TradeEngine.Execution.Tests.Support;

/// <summary>Listens to the Ledger's events on queues of its own and keeps every one it receives.</summary>
public sealed class EventRecorderHost : IAsyncDisposable
{
    private readonly IHost _host;

    private EventRecorderHost(IHost host) => _host = host;

    public Recorded Received => _host.Services.GetRequiredService<Recorded>();

    public static async Task<EventRecorderHost> StartAsync(string amqpUri)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:eventbus"] = amqpUri,
            ["Logging:LogLevel:Default"] = "Warning",
        });
        builder.Services.AddSingleton<Recorded>();
        builder.Services.Configure<MassTransitHostOptions>(o => o.WaitUntilStarted = true);
        var suffix = Guid.NewGuid().ToString("N")[..8];
        builder.AddEventBus(bus =>
        {
            bus.AddConsumer<Recorder<PositionOpened>>().Endpoint(e => { e.Name = "exec-test-opened-" + suffix; e.Temporary = true; });
            bus.AddConsumer<Recorder<PositionReduced>>().Endpoint(e => { e.Name = "exec-test-reduced-" + suffix; e.Temporary = true; });
            bus.AddConsumer<Recorder<PositionClosed>>().Endpoint(e => { e.Name = "exec-test-closed-" + suffix; e.Temporary = true; });
            bus.AddConsumer<Recorder<KillSwitchTriggered>>().Endpoint(e => { e.Name = "exec-test-kill-" + suffix; e.Temporary = true; });
        });
        var host = builder.Build();
        await host.StartAsync();
        return new EventRecorderHost(host);
    }

    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync();
        _host.Dispose();
    }

    public sealed class Recorded
    {
        private readonly ConcurrentQueue<object> _messages = new();

        public IReadOnlyList<T> Of<T>() => _messages.OfType<T>().ToList();

        public void Add(object message) => _messages.Enqueue(message);

        public async Task WaitForAsync(Func<Recorded, bool> condition, TimeSpan timeout)
        {
            using var cts = new CancellationTokenSource(timeout);
            while (!condition(this))
            {
                await Task.Delay(50, cts.Token);
            }
        }
    }

    public sealed class Recorder<T>(Recorded recorded) : IConsumer<T>
        where T : class
    {
        public Task Consume(ConsumeContext<T> context)
        {
            recorded.Add(context.Message);
            return Task.CompletedTask;
        }
    }
}
