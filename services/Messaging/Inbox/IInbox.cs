namespace TradeEngine.Messaging.Inbox;

/// <summary>
/// The processed-event ids of each consumer, kept durably (by the Ledger, the only service with a database), so a
/// redelivered or republished event is acted on once per consumer.
/// </summary>
public interface IInbox
{
    Task<bool> IsProcessedAsync(string consumer, Guid eventId, CancellationToken cancellationToken);

    /// <summary>Records the event as processed; false when it was already recorded for this consumer.</summary>
    Task<bool> MarkProcessedAsync(string consumer, Guid eventId, CancellationToken cancellationToken);
}
