using System.Globalization;
using Grpc.Core;
using TradeEngine.Ledger.V1;
using TradeEngine.ServiceDefaults.Grpc;

namespace TradeEngine.Messaging.Inbox;

/// <summary>The inbox kept in the Ledger's <c>inbox</c> table through its ClaimInbox, CompleteInbox and ReleaseInbox RPCs.</summary>
public sealed class LedgerInbox(LedgerService.LedgerServiceClient ledger) : IInbox
{
    public async Task<bool> IsProcessedAsync(string consumer, Guid eventId, CancellationToken cancellationToken)
    {
        var response = await ledger.CheckInboxAsync(
            new CheckInboxRequest { Consumer = consumer, EventId = Text(eventId) }, cancellationToken: cancellationToken).ConfigureAwait(false);
        return response.Processed;
    }

    public async Task<bool> MarkProcessedAsync(string consumer, Guid eventId, CancellationToken cancellationToken)
    {
        var response = await ledger.RecordInboxAsync(
            new RecordInboxRequest { Consumer = consumer, EventId = Text(eventId) }, cancellationToken: cancellationToken).ConfigureAwait(false);
        return response.FirstTime;
    }

    public Task<InboxClaim> ClaimAsync(string consumer, Guid eventId, TimeSpan lease, CancellationToken cancellationToken) =>
        ClaimAsync(consumer, eventId, lease, Guid.CreateVersion7(), cancellationToken);

    public async Task<InboxClaim> ClaimAsync(string consumer, Guid eventId, TimeSpan lease, Guid claimToken, CancellationToken cancellationToken)
    {
        ClaimInboxResponse response;
        try
        {
            response = await ledger.ClaimInboxAsync(new ClaimInboxRequest
            {
                Consumer = consumer,
                EventId = Text(eventId),
                LeaseSeconds = (int)Math.Clamp(Math.Ceiling(lease.TotalSeconds), 1, 3600),
                ClaimToken = Text(claimToken),
            }, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (RpcException ex) when (IsOutage(ex, cancellationToken))
        {
            // Nothing ran: the delivery waits for the Ledger on the bus's long schedule (AddEventBus).
            throw new InboxUnavailableException(consumer, eventId, ex);
        }

        var status = response.Outcome switch
        {
            InboxClaimOutcome.Claimed => InboxClaimStatus.Claimed,
            InboxClaimOutcome.AlreadyProcessed => InboxClaimStatus.AlreadyProcessed,
            InboxClaimOutcome.InProgress => InboxClaimStatus.InProgress,
            _ => throw new InvalidOperationException($"The Ledger answered ClaimInbox with {response.Outcome}."),
        };
        return new InboxClaim(status, string.IsNullOrEmpty(response.ClaimToken) ? null : response.ClaimToken,
            response.LeaseUntil?.ToDateTimeOffset());
    }

    /// <summary>
    /// The Ledger down, restarting, overloaded, slow or failing inside (the statuses Execution's Ledger writes retry too);
    /// not the delivery's own cancellation (shutdown).
    /// </summary>
    private static bool IsOutage(RpcException ex, CancellationToken cancellationToken) =>
        GrpcStatuses.IsTransient(ex) && !(ex.StatusCode == StatusCode.Cancelled && cancellationToken.IsCancellationRequested);

    public async Task<bool> CompleteAsync(string consumer, Guid eventId, CancellationToken cancellationToken)
    {
        var response = await ledger.CompleteInboxAsync(
            new CompleteInboxRequest { Consumer = consumer, EventId = Text(eventId) }, cancellationToken: cancellationToken).ConfigureAwait(false);
        return response.FirstTime;
    }

    public async Task ReleaseAsync(string consumer, Guid eventId, InboxClaim claim, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(claim);
        if (claim.Token is null)
        {
            return;
        }

        await ledger.ReleaseInboxAsync(
            new ReleaseInboxRequest { Consumer = consumer, EventId = Text(eventId), ClaimToken = claim.Token },
            cancellationToken: cancellationToken).ConfigureAwait(false);
    }

    private static string Text(Guid eventId) => eventId.ToString("D", CultureInfo.InvariantCulture);
}
