namespace TradeEngine.Messaging.Inbox;

/// <summary>
/// The processed-event ids of each consumer, kept durably (by the Ledger, the only service with a database), so a
/// redelivered or republished event is acted on once per consumer.
/// </summary>
/// <remarks>
/// <see cref="InboxConsumer{TMessage}"/> uses the claim protocol (<see cref="ClaimAsync(string, Guid, TimeSpan, Guid, CancellationToken)"/>,
/// then <see cref="CompleteAsync"/> or <see cref="ReleaseAsync"/>). Every member is the implementation's to write: the
/// claim members once had defaults over the check/record pair, which could not stop two concurrent deliveries (both read
/// "not processed" and both acted); an inbox that did not override them compiled and lost exactly-once without a word.
/// </remarks>
public interface IInbox
{
    Task<bool> IsProcessedAsync(string consumer, Guid eventId, CancellationToken cancellationToken);

    /// <summary>Records the event as processed; false when it was already recorded for this consumer.</summary>
    Task<bool> MarkProcessedAsync(string consumer, Guid eventId, CancellationToken cancellationToken);

    /// <summary>Claims the event for this consumer for <paramref name="lease"/>, unless it is processed or claimed by a live lease.</summary>
    Task<InboxClaim> ClaimAsync(string consumer, Guid eventId, TimeSpan lease, CancellationToken cancellationToken);

    /// <summary>
    /// As <see cref="ClaimAsync(string, Guid, TimeSpan, CancellationToken)"/>, under a token the caller chose (a UUID) and
    /// keeps for every attempt of one delivery: an attempt repeated after its answer was lost gets its own claim back
    /// instead of waiting out the lease.
    /// </summary>
    Task<InboxClaim> ClaimAsync(string consumer, Guid eventId, TimeSpan lease, Guid claimToken, CancellationToken cancellationToken);

    /// <summary>Records the event as processed (whoever holds the claim); false when it already was.</summary>
    Task<bool> CompleteAsync(string consumer, Guid eventId, CancellationToken cancellationToken);

    /// <summary>Gives up this claim (the work failed) so a redelivery can claim the event at once.</summary>
    Task ReleaseAsync(string consumer, Guid eventId, InboxClaim claim, CancellationToken cancellationToken);
}

public enum InboxClaimStatus
{
    /// <summary>This delivery holds the claim: act, then complete (or release on failure).</summary>
    Claimed,

    /// <summary>The consumer has processed the event: acknowledge and skip it.</summary>
    AlreadyProcessed,

    /// <summary>Another delivery holds a live claim: try again later.</summary>
    InProgress,
}

/// <summary>The answer to a claim; <see cref="Token"/> identifies a <see cref="InboxClaimStatus.Claimed"/> claim.</summary>
public sealed record InboxClaim(InboxClaimStatus Status, string? Token, DateTimeOffset? LeaseUntil = null)
{
    public static readonly InboxClaim AlreadyProcessed = new(InboxClaimStatus.AlreadyProcessed, null);
}
