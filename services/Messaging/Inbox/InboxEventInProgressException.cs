namespace TradeEngine.Messaging.Inbox;

/// <summary>
/// Another delivery of the event holds a live claim for this consumer. Thrown so the endpoint delivers the message
/// again later; <c>AddEventBus</c> retries it on a schedule longer than a claim's lease.
/// </summary>
public sealed class InboxEventInProgressException : Exception
{
    public InboxEventInProgressException()
        : this("Another delivery of the event is being processed.")
    {
    }

    public InboxEventInProgressException(string message)
        : base(message)
    {
    }

    public InboxEventInProgressException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public InboxEventInProgressException(string consumer, Guid eventId, DateTimeOffset? leaseUntil)
        : base($"{consumer}: event {eventId} is being processed by another delivery (lease until {leaseUntil:O}).")
    {
        Consumer = consumer;
        EventId = eventId;
        LeaseUntil = leaseUntil;
    }

    public string? Consumer { get; }

    public Guid EventId { get; }

    public DateTimeOffset? LeaseUntil { get; }
}
