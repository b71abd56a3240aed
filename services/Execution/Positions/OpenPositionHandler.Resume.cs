using Grpc.Core;
using TradeEngine.Binance.Models;
using TradeEngine.Domain;
using TradeEngine.Execution.Logging;
using TradeEngine.Execution.Mapping;
using TradeEngine.Execution.V1;
using TradeEngine.Execution.Venue;
using TradeEngine.ServiceDefaults.Grpc;

namespace TradeEngine.Execution.Positions;

// OpenPositionHandler's resume of an open whose order is at the venue: the resume, the settings' check and the account read again.
public sealed partial class OpenPositionHandler
{
    /// <summary>
    /// An open whose order is already at the venue under the caller's id (an earlier attempt got that far, perhaps before a
    /// crash): checked to be the same request, waited for, protected and recorded, never sent again.
    /// </summary>
    /// <param name="keepStanding">
    /// The background completion's resume (<see cref="CompleteInBackground"/>): a stop-loss or take-profit already guarding
    /// the position under another open's id is kept, not replaced by this one's price (see
    /// <see cref="FillRecorder.CompleteOpenAsync"/>).
    /// </param>
    private async Task<OpenPositionResponse> ResumeAsync(
        OpenCommand command, OrderInfo existing, Task<VenueAccount> accountTask, Task<FundingQuote> fundingTask, CancellationToken ct,
        bool keepStanding = false)
    {
        // The order is the venue's: resuming it (the settings' check, then what protects its position: the protective
        // orders, the close at once when the stop-loss fails) takes risk off and is urgent at the venue's limits, and
        // an account read refused for the hold limit is made again without it.
        using var urgent = VenueRequestPriority.Enter(VenuePriority.Urgent);
        using var unbounded = VenueHoldLimit.Enter(null);
        var resumedAccount = await ReadAgainIfRefusedAsync(accountTask, ct).ConfigureAwait(false);
        ExecutionWire.RequireSameOrder(existing, command.ClientOrderId, ExecutionWire.OpeningOrder(command.Side), reduceOnly: false, command.Quantity);
        await RequireSameSettingsAsync(command, resumedAccount, ct).ConfigureAwait(false);
        Log.Resuming(logger, command.Symbol, command.ClientOrderId, existing.Status.ToString());
        existing = await VenueOrders.EndedAsync(venue, existing, CancellationToken.None).ConfigureAwait(false);
        // Whether a position stands (and needs the protective orders) is read now the order has ended: the account read
        // beside the look-up could predate a fill the venue made late, and a filled open would go unprotected.
        var positionOpen = existing.ExecutedQty > 0m && await fills.OpenAtVenueAsync(command.Symbol, ct).ConfigureAwait(false) is not null;
        var quoted = await FundingQuote.OrNoneAsync(fundingTask).ConfigureAwait(false);
        var resumed = await fills.CompleteOpenAsync(command, existing, quoted, resumed: true, positionOpen: positionOpen, keepStanding: keepStanding)
            .ConfigureAwait(false);
        resumed.Replayed = true;
        return resumed;
    }

    /// <summary>
    /// A resumed open (its order found at the venue under the caller's id) must be the request that placed it, in what
    /// the venue keeps of it beyond the order: the symbol's leverage and margin type (set just before the order) and the
    /// stop-loss and take-profit placed under ids derived from it. The in-process check of the request's fingerprint
    /// is gone after a restart, and the order alone (side, type, quantity) does not tell a retry with other settings
    /// from the same request: resumed, its answer and the Ledger's record carried this request's leverage and prices
    /// while the venue held the first one's. Refused ALREADY_EXISTS naming the field, before anything is done.
    /// </summary>
    /// <remarks>
    /// What cannot be told is let through: a protective order not found (the first attempt may have stopped before
    /// placing it, and the resumed open places this request's) or not looked up (the venue failed the look-up), or a
    /// symbol the account does not list. A leverage
    /// changed with SetLeverage after the open makes the first request's own retry differ too: refused as well, the
    /// position then standing at another leverage than the one that request would answer with.
    /// </remarks>
    private async Task RequireSameSettingsAsync(OpenCommand command, VenueAccount account, CancellationToken ct)
    {
        var stopTask = FindAsync("stop-loss", ProtectiveOrders.StopLossId(command.ClientOrderId));
        var takeTask = FindAsync("take-profit", ProtectiveOrders.TakeProfitId(command.ClientOrderId));
        var differences = new List<string>();
        if (account.Find(command.Symbol) is { } held)
        {
            if (held.Leverage != command.Leverage)
            {
                differences.Add($"leverage is {held.Leverage}x at the venue, this request asks {command.Leverage}x");
            }

            if (held.MarginType != command.MarginType)
            {
                differences.Add($"margin_type is {Name(held.MarginType)} at the venue, this request asks {Name(command.MarginType)}");
            }
        }

        Compare("stop_loss_price", await stopTask.ConfigureAwait(false), command.StopLoss);
        Compare("take_profit_price", await takeTask.ConfigureAwait(false), command.TakeProfit);
        if (differences.Count > 0)
        {
            throw new RpcException(new Status(StatusCode.AlreadyExists,
                $"client_order_id: '{command.ClientOrderId}' was already used for an open with other settings ({string.Join("; ", differences)}); " +
                "nothing was done: send that request again to resume it, or use a new id"));
        }

        void Compare(string field, ConditionalOrderInfo? placed, decimal? asked)
        {
            if (placed is not null && placed.TriggerPrice != asked)
            {
                differences.Add($"{field}: the first request placed one at {Wire.Format(placed.TriggerPrice)}, this request asks " +
                                (asked is { } price ? Wire.Format(price) : "none"));
            }
        }

        static string Name(Domain.MarginType type) => type.ToString().ToLowerInvariant();

        // A look-up the venue fails is a comparison that cannot be made: the open resumes (and sees to its protection)
        // rather than leave a filled position unguarded until the caller retries.
        async Task<ConditionalOrderInfo?> FindAsync(string kind, string key)
        {
            try
            {
                return await protective.FindPlacedAsync(key, ct).ConfigureAwait(false);
            }
            catch (Binance.Errors.BinanceException ex)
            {
                Log.ResumedProtectionUnread(logger, ex, command.Symbol, command.ClientOrderId, kind);
                return null;
            }
        }
    }

    private async Task<VenueAccount> ReadAgainIfRefusedAsync(Task<VenueAccount> read, CancellationToken ct)
    {
        try
        {
            return await read.ConfigureAwait(false);
        }
        catch (Binance.Errors.BinanceRateLimitException)
        {
            return await VenueAccount.ReadAsync(venue, ct).ConfigureAwait(false);
        }
    }
}
