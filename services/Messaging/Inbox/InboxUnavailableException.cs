namespace TradeEngine.Messaging.Inbox;

/// <summary>
/// The inbox could not be asked whether an event was processed (its store, the Ledger, is down, restarting or too
/// slow). Nothing has run, so <see cref="InboxConsumer{TMessage}"/> holds the delivery and asks again on a schedule of
/// its own, minutes long, so a short outage of the inbox delays a kill-switch or margin response and never drops it to
/// the error queue.
/// </summary>
public sealed class InboxUnavailableException : Exception
{
    public InboxUnavailableException()
        : this("The inbox could not be reached.")
    {
    }

    public InboxUnavailableException(string message)
        : base(message)
    {
    }

    public InboxUnavailableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public InboxUnavailableException(string consumer, Guid eventId, Exception innerException)
        : base($"{consumer}: the inbox could not be asked about event {eventId}; the delivery is held and tried again.", innerException)
    {
        Consumer = consumer;
        EventId = eventId;
    }

    public string? Consumer { get; }

    public Guid EventId { get; }
}
