using System.Globalization;
using TradeEngine.Ledger.V1;

namespace TradeEngine.Messaging.Inbox;

/// <summary>The inbox kept in the Ledger's <c>inbox</c> table through its CheckInbox and RecordInbox RPCs.</summary>
public sealed class LedgerInbox(LedgerService.LedgerServiceClient ledger) : IInbox
{
    public async Task<bool> IsProcessedAsync(string consumer, Guid eventId, CancellationToken cancellationToken)
    {
        var response = await ledger.CheckInboxAsync(
            new CheckInboxRequest { Consumer = consumer, EventId = eventId.ToString("D", CultureInfo.InvariantCulture) },
            cancellationToken: cancellationToken).ConfigureAwait(false);
        return response.Processed;
    }

    public async Task<bool> MarkProcessedAsync(string consumer, Guid eventId, CancellationToken cancellationToken)
    {
        var response = await ledger.RecordInboxAsync(
            new RecordInboxRequest { Consumer = consumer, EventId = eventId.ToString("D", CultureInfo.InvariantCulture) },
            cancellationToken: cancellationToken).ConfigureAwait(false);
        return response.FirstTime;
    }
}
