using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using TradeEngine.Messaging.Inbox;

namespace TradeEngine.Messaging;

public static class EventBusExtensions
{
    /// <summary>The connection-string name Aspire gives the RabbitMQ resource: <c>ConnectionStrings:eventbus</c>, an amqp URI.</summary>
    public const string ConnectionName = "eventbus";

    /// <summary>
    /// How many times an endpoint retries a failed message (other than one another delivery holds) before it goes to the
    /// error queue; a consumer whose message must not fail silently can tell its last try by
    /// <c>context.GetRetryAttempt() == RetryLimit</c>.
    /// </summary>
    public const int RetryLimit = 4;

    /// <summary>How long a stopping service lets its consumers finish before it cancels them (under the host's 30 s).</summary>
    public static readonly TimeSpan ConsumerStopTimeout = TimeSpan.FromSeconds(10);

    private static readonly int[] RetryIntervals = [100, 500, 2_000, 5_000];

    private static readonly TimeSpan[] InProgressRetryIntervals =
        [.. new[] { 0.5, 1, 2, 4, 8, 15, 30, 35 }.Select(TimeSpan.FromSeconds)];

    /// <summary>
    /// MassTransit over RabbitMQ at <c>ConnectionStrings:eventbus</c>, with kebab-case endpoint names and one receive
    /// endpoint per consumer. The caller lists its consumers explicitly:
    /// <code>builder.AddEventBus(bus => bus.AddConsumer&lt;MarginAlertRaisedConsumer&gt;());</code>
    /// Consumers that derive from <see cref="Inbox.InboxConsumer{TMessage}"/> also need <c>AddLedgerInbox()</c>.
    /// Every endpoint retries a failed message a few times with growing intervals before it goes to the error queue.
    /// A message whose event another delivery is processing (<see cref="InboxEventInProgressException"/>) is retried
    /// apart, on a schedule longer than an inbox claim's lease (60 s by default), so it is never dead-lettered while
    /// the holder may still finish or its lease may still expire. A message whose claim cannot be made at all (the
    /// inbox's Ledger down or restarting, <see cref="InboxUnavailableException"/>) is held by the consumer itself and
    /// asked again for about 15 minutes (<see cref="InboxConsumer{TMessage}.InboxUnavailableDelays"/>): an outage of the
    /// inbox delays a response, and only one longer than that sends it to the error queue.
    /// </summary>
    public static IHostApplicationBuilder AddEventBus(
        this IHostApplicationBuilder builder,
        Action<IBusRegistrationConfigurator>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var connectionString = builder.Configuration.GetConnectionString(ConnectionName);
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            throw new InvalidOperationException(
                $"ConnectionStrings:{ConnectionName} (an amqp URI) is not configured; the event bus cannot start.");
        }

        var broker = BrokerAddress.Parse(connectionString);
        // A stop does not wait for ever for a consumer still at work (one waiting out an inbox outage asks again for about
        // 15 minutes): after ConsumerStopTimeout its ConsumeContext.CancellationToken is cancelled, and the delivery goes
        // back to its queue for the next instance. Without it the host disposed the services under a consumer still
        // running, whose next step failed on them, was retried to the end and sent to the error queue: a kill switch or
        // margin alert that arrived during a restart was never acted on.
        // Unless set: MassTransit refuses a consumer stop timeout longer than a stop timeout set (the whole stop's).
        builder.Services.PostConfigure<MassTransitHostOptions>(o =>
            o.ConsumerStopTimeout ??= o.StopTimeout is { } stop && stop < ConsumerStopTimeout ? stop : ConsumerStopTimeout);
        builder.Services.AddMassTransit(bus =>
        {
            bus.SetKebabCaseEndpointNameFormatter();
            bus.AddConfigureEndpointsCallback((_, _, endpoint) =>
            {
                // Outer: wait for the claim's holder; about 95 s in all. (A claim the inbox cannot make at all is waited
                // out inside InboxConsumer, not by a retry layer here: an outer layer's attempts would count as the inner
                // one's, and a consumer's "last try" would come on its first.)
                endpoint.UseMessageRetry(r =>
                {
                    r.Handle<InboxEventInProgressException>();
                    r.Intervals(InProgressRetryIntervals);
                });
                // Inner: every other failure.
                endpoint.UseMessageRetry(r =>
                {
                    r.Ignore<InboxEventInProgressException>();
                    r.Ignore<InboxUnavailableException>();
                    r.Intervals(RetryIntervals);
                });
            });
            configure?.Invoke(bus);
            bus.UsingRabbitMq((context, cfg) =>
            {
                cfg.Host(broker.Host, broker.Port, broker.VirtualHost, h =>
                {
                    h.Username(broker.Username);
                    h.Password(broker.Password);
                });
                cfg.ConfigureEndpoints(context);
            });
        });
        return builder;
    }
}
