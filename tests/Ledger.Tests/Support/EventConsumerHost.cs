using System.Collections.Concurrent;
using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using TradeEngine.Contracts.Events;
using TradeEngine.Ledger.V1;
using TradeEngine.Messaging;
using TradeEngine.Messaging.Inbox;

namespace TradeEngine.Ledger.Tests.Support;

/// <summary>
/// A consuming service as the other services are built: MassTransit through <c>AddEventBus</c>, consumers derived from
/// <see cref="InboxConsumer{TMessage}"/>, the inbox kept by a Ledger over gRPC. It records every event acted on.
/// </summary>
public sealed class EventConsumerHost : IAsyncDisposable
{
    private readonly IHost _host;

    private EventConsumerHost(IHost host) => _host = host;

    public EventRecorder Recorder => _host.Services.GetRequiredService<EventRecorder>();

    /// <param name="positionEventsInOneQueue">
    /// Position events (opened, reduced, closed) go to one queue taken one message at a time, so the order they are
    /// acted on is the order the broker received them in (separate queues, or parallel consumers, would blur it).
    /// </param>
    public static async Task<EventConsumerHost> StartAsync(
        string amqpUri, LedgerService.LedgerServiceClient inboxLedger, bool positionEventsInOneQueue = false)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:eventbus"] = amqpUri,
            ["Logging:LogLevel:Default"] = "Warning",
        });
        builder.Services.AddSingleton<EventRecorder>();
        builder.Services.AddSingleton<IInbox>(new LedgerInbox(inboxLedger));
        builder.Services.Configure<MassTransitHostOptions>(o => o.WaitUntilStarted = true);
        var suffix = Guid.NewGuid().ToString("N")[..8];
        builder.AddEventBus(bus =>
        {
            // Durable queues with names of their own: no test sees another's events, and they survive a broker restart.
            bus.AddConsumer<TradeRecordedRecorder>().Endpoint(e => e.Name = "test-trade-recorded-" + suffix);
            if (positionEventsInOneQueue)
            {
                void OneAtATime(IEndpointRegistrationConfigurator e)
                {
                    e.Name = "test-position-events-" + suffix;
                    e.ConcurrentMessageLimit = 1;
                    e.PrefetchCount = 1;
                }

                bus.AddConsumer<PositionOpenedRecorder>().Endpoint(OneAtATime);
                bus.AddConsumer<PositionReducedRecorder>().Endpoint(OneAtATime);
                bus.AddConsumer<PositionClosedRecorder>().Endpoint(OneAtATime);
            }
            else
            {
                bus.AddConsumer<PositionOpenedRecorder>().Endpoint(e => e.Name = "test-position-opened-" + suffix);
                bus.AddConsumer<PositionReducedRecorder>().Endpoint(e => e.Name = "test-position-reduced-" + suffix);
                bus.AddConsumer<PositionClosedRecorder>().Endpoint(e => e.Name = "test-position-closed-" + suffix);
            }

            bus.AddConsumer<FundingPaidRecorder>().Endpoint(e => e.Name = "test-funding-paid-" + suffix);
            bus.AddConsumer<RiskEventLoggedRecorder>().Endpoint(e => e.Name = "test-risk-event-logged-" + suffix);
            bus.AddConsumer<KillSwitchTriggeredRecorder>().Endpoint(e => e.Name = "test-kill-switch-triggered-" + suffix);
        });
        var host = builder.Build();
        await host.StartAsync();
        return new EventConsumerHost(host);
    }

    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync();
        _host.Dispose();
    }
}

/// <summary>What the consumers acted on: per event id, how many times, the MessageId it came with, the message and its arrival number.</summary>
public sealed class EventRecorder
{
    private readonly ConcurrentDictionary<Guid, int> _actedOn = new();
    private readonly ConcurrentDictionary<Guid, (Guid? MessageId, object Message, DateTimeOffset At, long Arrival)> _events = new();
    private long _arrivals;

    public IReadOnlyDictionary<Guid, int> ActedOn => _actedOn;

    public int Count => _events.Count;

    public void Record(Guid eventId, Guid? messageId, object message)
    {
        _actedOn.AddOrUpdate(eventId, 1, (_, n) => n + 1);
        _events.TryAdd(eventId, (messageId, message, DateTimeOffset.UtcNow, Interlocked.Increment(ref _arrivals)));
    }

    public IEnumerable<T> Of<T>() => _events.Values.Select(v => v.Message).OfType<T>();

    public Guid? MessageIdOf(Guid eventId) => _events.TryGetValue(eventId, out var e) ? e.MessageId : null;

    public DateTimeOffset? ReceivedAt(Guid eventId) => _events.TryGetValue(eventId, out var e) ? e.At : null;

    /// <summary>1 for the first event acted on, 2 for the second, …; null when it has not arrived.</summary>
    public long? ArrivalOf(Guid eventId) => _events.TryGetValue(eventId, out var e) ? e.Arrival : null;

    public async Task WaitForAsync(Func<EventRecorder, bool> condition, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        while (!condition(this))
        {
            try
            {
                await Task.Delay(20, cts.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"The expected events did not arrive within {timeout} ({Count} arrived).");
            }
        }
    }
}

public abstract class RecordingConsumer<T>(IInbox inbox, ILogger logger, EventRecorder recorder) : InboxConsumer<T>(inbox, logger)
    where T : class
{
    protected override Task ConsumeOnce(ConsumeContext<T> context)
    {
        recorder.Record(EventIdOf(context), context.MessageId, context.Message);
        return Task.CompletedTask;
    }
}

public sealed class TradeRecordedRecorder(IInbox i, ILogger<TradeRecordedRecorder> l, EventRecorder r) : RecordingConsumer<TradeRecorded>(i, l, r);

public sealed class PositionOpenedRecorder(IInbox i, ILogger<PositionOpenedRecorder> l, EventRecorder r) : RecordingConsumer<PositionOpened>(i, l, r);

public sealed class PositionReducedRecorder(IInbox i, ILogger<PositionReducedRecorder> l, EventRecorder r) : RecordingConsumer<PositionReduced>(i, l, r);

public sealed class PositionClosedRecorder(IInbox i, ILogger<PositionClosedRecorder> l, EventRecorder r) : RecordingConsumer<PositionClosed>(i, l, r);

public sealed class FundingPaidRecorder(IInbox i, ILogger<FundingPaidRecorder> l, EventRecorder r) : RecordingConsumer<FundingPaid>(i, l, r);

public sealed class RiskEventLoggedRecorder(IInbox i, ILogger<RiskEventLoggedRecorder> l, EventRecorder r) : RecordingConsumer<RiskEventLogged>(i, l, r);

public sealed class KillSwitchTriggeredRecorder(IInbox i, ILogger<KillSwitchTriggeredRecorder> l, EventRecorder r)
    : RecordingConsumer<KillSwitchTriggered>(i, l, r);
