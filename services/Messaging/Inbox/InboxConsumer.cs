using System.Collections.Concurrent;
using System.Reflection;
using MassTransit;
using Microsoft.Extensions.Logging;

namespace TradeEngine.Messaging.Inbox;

/// <summary>
/// Base class of every consumer outside the Ledger: the event is handed to <see cref="ConsumeOnce"/> only if this
/// consumer has not processed it before, and recorded as processed after it succeeds. The event id is the message's
/// <c>EventId</c> property (every contract event has one), else the MassTransit MessageId, which the Ledger's outbox
/// sets to the event id.
/// </summary>
/// <remarks>
/// The check comes before the work and the record after it, so a crash in between means the event is processed
/// again on redelivery (at least once, never silently lost); <see cref="ConsumeOnce"/> should tolerate that rare
/// repeat. If the inbox cannot be reached the call throws and the endpoint's retry policy redelivers.
/// </remarks>
public abstract partial class InboxConsumer<TMessage>(IInbox inbox, ILogger logger) : IConsumer<TMessage>
    where TMessage : class
{
    private static readonly ConcurrentDictionary<Type, PropertyInfo?> EventIdProperties = new();

    /// <summary>The name the inbox keys processed events by; defaults to the consumer's type name.</summary>
    protected virtual string ConsumerName => GetType().Name;

    public async Task Consume(ConsumeContext<TMessage> context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var eventId = EventIdOf(context);
        if (await inbox.IsProcessedAsync(ConsumerName, eventId, context.CancellationToken).ConfigureAwait(false))
        {
            LogDuplicate(logger, ConsumerName, eventId);
            return;
        }

        await ConsumeOnce(context).ConfigureAwait(false);
        if (!await inbox.MarkProcessedAsync(ConsumerName, eventId, context.CancellationToken).ConfigureAwait(false))
        {
            LogRaced(logger, ConsumerName, eventId);
        }
    }

    /// <summary>Acts on an event this consumer has not processed before.</summary>
    protected abstract Task ConsumeOnce(ConsumeContext<TMessage> context);

    /// <summary>The event id of a message: its <c>Guid EventId</c> property, else the MessageId.</summary>
    public static Guid EventIdOf(ConsumeContext<TMessage> context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var property = EventIdProperties.GetOrAdd(context.Message.GetType(), t =>
        {
            var p = t.GetProperty("EventId", BindingFlags.Public | BindingFlags.Instance);
            return p?.PropertyType == typeof(Guid) ? p : null;
        });
        if (property?.GetValue(context.Message) is Guid id && id != Guid.Empty)
        {
            return id;
        }

        return context.MessageId ?? throw new InvalidOperationException(
            $"{typeof(TMessage).Name} carries neither an EventId nor a MessageId; it cannot be deduplicated.");
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "{Consumer} skipped event {EventId}: already processed")]
    private static partial void LogDuplicate(ILogger logger, string consumer, Guid eventId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Consumer} processed event {EventId}, which a concurrent delivery had recorded first")]
    private static partial void LogRaced(ILogger logger, string consumer, Guid eventId);
}
