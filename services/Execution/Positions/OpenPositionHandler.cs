using Grpc.Core;
using TradeEngine.Binance;
using TradeEngine.Binance.Models;
using TradeEngine.Domain;
using TradeEngine.Domain.Instruments;
using TradeEngine.Execution.Concurrency;
using TradeEngine.Execution.Ledger;
using TradeEngine.Execution.Logging;
using TradeEngine.Execution.Mapping;
using TradeEngine.Execution.Reconciliation;
using TradeEngine.Execution.V1;
using TradeEngine.Execution.Venue;
using TradeEngine.Funding.V1;
using TradeEngine.Risk.V1;
using TradeEngine.ServiceDefaults.Grpc;

namespace TradeEngine.Execution.Positions;

/// <summary>
/// The plan's open_position: read balance and price, funding rate and daily estimate, ask Risk, set margin type and
/// leverage, place the market order and the protective orders, record the fill and the position in the Ledger, and
/// answer entry, liquidation price and funding. Nothing reaches the venue when a check or Risk says no.
/// </summary>
public sealed partial class OpenPositionHandler(
    IBinanceClient venue,
    RiskService.RiskServiceClient risk,
    FundingService.FundingServiceClient funding,
    InstrumentDirectory instruments,
    RequestDeduplicator deduplicator,
    SymbolLocks locks,
    ReconciliationState reconciliation,
    FillRecorder fills,
    ProtectiveOrders protective,
    LedgerBook ledger,
    LedgerWrites writes,
    CloseLookup lookup,
    IHostApplicationLifetime lifetime,
    ILogger<OpenPositionHandler> logger)
{
    public Task<OpenPositionResponse> OpenAsync(OpenPositionRequest request, CancellationToken cancellationToken) =>
        OpenAsync(request, resumeOnly: false, cancellationToken);

    /// <param name="resumeOnly">
    /// Only resume an order already at the venue under the client order id (the background completion): with none there,
    /// FAILED_PRECONDITION and nothing sent.
    /// </param>
    private async Task<OpenPositionResponse> OpenAsync(OpenPositionRequest request, bool resumeOnly, CancellationToken cancellationToken)
    {
        // A retry of an open already answered gets that answer, before the request is judged against the instrument list
        // as it is now (a tick or step changed since would refuse it). A denial is not kept as the id's answer.
        if (!resumeOnly && deduplicator.Finished<OpenPositionResponse>("open", request.ClientOrderId, request) is { Denials.Count: 0 } finished)
        {
            var again = finished.Clone();
            again.Replayed = true;
            return again;
        }

        Instrument? instrument;
        try
        {
            instrument = await instruments.FindAsync(request.Symbol, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException && OpenCommand.FormViolations(request) is { Count: > 0 } violations)
        {
            // The venue's instrument list is out of reach, and the request is malformed whatever the venue lists: that
            // is the answer (INVALID_ARGUMENT), not the venue's state (UNAVAILABLE, which invites the same request again).
            throw new RequestValidationException(violations);
        }

        var command = OpenCommand.Parse(request, instrument);
        reconciliation.EnsureReady();
        OpenPositionResponse response;
        bool replayed;
        try
        {
            (response, replayed) = await deduplicator.RunAsync(
                "open", command.ClientOrderId, request, () => Detached.Run(() => ExecuteAsync(command, resumeOnly)), didNothing: r => r.Denials.Count > 0)
                .ConfigureAwait(false);
        }
        catch (Exception ex) when ((command.StopLoss is not null || command.TakeProfit is not null) && RequestDeduplicator.OutcomeUnknown(ex))
        {
            CompleteInBackground(request, command);
            throw;
        }

        if (!replayed)
        {
            return response;
        }

        var copy = response.Clone();
        copy.Replayed = true;
        return copy;
    }

    /// <summary>
    /// The longest the venue requests made under a symbol's lock by an open (or a setting's change) may wait in all for
    /// their share of the IP's limits (each wait counts, one request's after another's) before one is refused, not sent.
    /// </summary>
    public static readonly TimeSpan LockedHoldLimit = TimeSpan.FromSeconds(2);

    private async Task<OpenPositionResponse> ExecuteAsync(OpenCommand command, bool resumeOnly)
    {
        var ct = lifetime.ApplicationStopping;
        using var held = await locks.AcquireAsync(command.Symbol, ct).ConfigureAwait(false);
        // Holding the symbol's lock, the open's own venue requests do not wait for their share of the IP's limits (up to
        // the minute's end): a margin call's close of the symbol would wait on the lock as long. Refused at once instead
        // (nothing sent; the caller may retry). What follows the order is urgent and lifts this.
        using var bounded = VenueHoldLimit.Enter(LockedHoldLimit);

        // The durable idempotency check: an order with this client id at the venue means an earlier attempt got
        // that far (perhaps before a crash). Resume it; never send it again.
        // The look-up decides whether an order of this id is already at the venue (perhaps filled and unprotected): it is
        // urgent and waits as long as it must, never refused for the hold limit.
        Task<OrderInfo?> existingTask;
        using (VenueRequestPriority.Enter(VenuePriority.Urgent))
        using (VenueHoldLimit.Enter(null))
        {
            existingTask = venue.GetOrderAsync(command.Symbol, command.ClientOrderId, ct);
        }

        var spentTask = ledger.SpentOnAsync(command.Symbol, command.ClientOrderId, ct);
        var recordTask = ledger.TryOpenRecordAsync(command.Symbol, ct, RecordReadDeadline);
        var accountTask = VenueAccount.ReadAsync(venue, ct);
        var fundingTask = FundingQuote.GetAsync(funding, command.Symbol, ExecutionWire.Side(command.Side), command.Quantity, ct);
        var existing = await existingTask.ConfigureAwait(false);
        if (existing is not null)
        {
            return await ResumeAsync(command, existing, accountTask, fundingTask, ct, keepStanding: resumeOnly).ConfigureAwait(false);
        }

        if (resumeOnly)
        {
            throw new RpcException(new Status(StatusCode.FailedPrecondition,
                $"order: no order {command.ClientOrderId} at the venue to resume; nothing was sent"));
        }

        var account = await accountTask.ConfigureAwait(false);

        await LedgerBook.RequireUnspentAsync(spentTask, command.ClientOrderId, command.Symbol).ConfigureAwait(false);
        account = await RepairStaleRecordAsync(command.Symbol, account, recordTask, ct).ConfigureAwait(false);

        RequireOpenedHere(command);
        RequireTrading(command);

        // The price is the symbol's mark from positionRisk (v2 lists every symbol, flat ones too): the price the venue
        // judges margin and triggers the stop-loss on, so no separate ticker read is needed.
        var price = account.Find(command.Symbol) is { MarkPrice: > 0m } symbolRisk
            ? symbolRisk.MarkPrice
            : (await venue.GetTickerPriceAsync(command.Symbol, ct).ConfigureAwait(false)).Price;
        command.CheckProtectiveSides(price);
        var position = RequireCompatiblePosition(command, account);
        // Judged at the price the market order may fill at: a buy takes the ask, above the mark, so it is judged at the
        // mark plus MarketFillAllowance (the position's notional after it, its margin); a sell takes the bid, at or under
        // the mark. Before, a buy was judged at the mark: 0.166 BTC at a 60,240 mark (9,999.84) passed the $10,000 limit
        // and filled above it at a 1 bp spread.
        var judgedAt = command.Side == Domain.Side.Long
            ? decimal.Round(price * (1m + MarketFillAllowance), 8, MidpointRounding.ToPositiveInfinity)
            : price;

        // Risk judges while Funding's quote is still coming; both are in before anything is sent.
        using var checkCall = risk.CheckPreTradeAsync(new CheckPreTradeRequest
        {
            Order = new OrderIntent
            {
                Symbol = command.Symbol,
                Side = ExecutionWire.Side(command.Side),
                Quantity = Wire.Format(command.Quantity),
                Price = Wire.Format(judgedAt),
                Leverage = command.Leverage,
                MarginType = ExecutionWire.MarginType(command.MarginType),
            },
            Account = account.ToSnapshot(),
        }, cancellationToken: ct);
        FundingQuote quote;
        CheckPreTradeResponse check;
        // Waiting on Funding and Risk holds the lock too: the time counts against the hold limit (their own venue reads
        // are bounded by what was left when each call went).
        using (VenueHoldLimit.Hold(TimeProvider.System))
        {
            quote = await fundingTask.ConfigureAwait(false);
            check = await checkCall.ResponseAsync.ConfigureAwait(false);
        }

        check = AtTheMarksMinimum(command, price, check);
        if (!check.Allowed)
        {
            Log.Denied(logger, command.Symbol, command.ClientOrderId, string.Join("; ", check.Reasons.Select(r => r.Code + ": " + r.Message)));
            return Denied(command, quote, check);
        }

        await ApplySettingsAsync(command, account.Find(command.Symbol), ct).ConfigureAwait(false);

        var placement = await venue.PlaceOrderAsync(
            new NewOrder(command.Symbol, ExecutionWire.OpeningOrder(command.Side), OrderType.Market, command.Quantity), command.ClientOrderId, ct)
            .ConfigureAwait(false);
        // The venue has the order: waiting for it to end, as what follows it, is not cut short by the service stopping, and
        // is urgent at the venue's limits (the protective orders, or the close at once when the stop-loss fails).
        using var protecting = VenueRequestPriority.Enter(VenuePriority.Urgent);
        using var waitsAsLongAsItMust = VenueHoldLimit.Enter(null);
        var order = await VenueOrders.EndedAsync(venue, placement.Order, CancellationToken.None).ConfigureAwait(false);
        return await fills.CompleteOpenAsync(command, order, quote, resumed: false, before: position).ConfigureAwait(false);
    }

    /// <summary>
    /// How far above the mark a market buy is judged (0.1 %): room for the spread and the book the order walks, so a
    /// position within Risk's notional limit at the mark plus this is still within it at its fill. A buy that would fill
    /// further above the mark is not held to the limit by this (a market order has no price cap).
    /// </summary>
    public const decimal MarketFillAllowance = 0.001m;

    /// <summary>
    /// The venue judges a market order's MIN_NOTIONAL at the mark: a buy Risk judged at the mark plus the allowance and
    /// allowed, whose notional at the mark is under the symbol's minimum, would be refused there (-4164) after the
    /// settings change. It is denied here instead, with Risk's reason and figures at the mark.
    /// </summary>
    private static CheckPreTradeResponse AtTheMarksMinimum(OpenCommand command, decimal mark, CheckPreTradeResponse check)
    {
        var minimum = command.Instrument.Filters.MinNotional;
        var atMark = command.Quantity * mark;
        if (!check.Allowed || atMark >= minimum)
        {
            return check;
        }

        var denied = check.Clone();
        denied.Allowed = false;
        denied.Reasons.Add(new RiskReason
        {
            Code = RiskReasonCode.NotionalBelowExchangeMinimum,
            Message = $"Order notional {Wire.Format(atMark)} at the mark is below the symbol's minimum {Wire.Format(minimum)}",
            Limit = Wire.Format(minimum),
            Actual = Wire.Format(atMark),
        });
        return denied;
    }

    /// <summary>How long an open waits for the Ledger's record of its symbol (read beside the venue's account) before going without it.</summary>
    private static readonly TimeSpan RecordReadDeadline = TimeSpan.FromSeconds(1);

    /// <summary>
    /// The Ledger's open record of the symbol against the venue's position, before the order: a record the venue no
    /// longer holds as recorded (a stop-loss, take-profit or liquidation the venue made since the last reconciliation pass,
    /// a minute apart at most) is repaired first, under the symbol's lock, as a close or reduce does. Before, the open's
    /// fill was booked against the stale record: an add to a position the venue had closed (its entry and PnL wrong), or,
    /// on the other side, refused by the Ledger after the venue had filled it, and answered as if nothing was done.
    /// A Ledger that does not answer (within a second) is not waited for, and Ledger writes still queued (the difference
    /// may be theirs: a close booked while the Ledger was down) are left to land first, the open's own booking queued
    /// behind them: the open goes on as before. A repair that fails: UNAVAILABLE, nothing sent. Returns the account to
    /// judge the open with (read again after a repair).
    /// </summary>
    private async Task<VenueAccount> RepairStaleRecordAsync(
        string symbol, VenueAccount account, Task<(global::TradeEngine.Ledger.V1.PositionRecord? Record, bool Answered)> recordTask, CancellationToken ct)
    {
        var (record, answered) = await recordTask.ConfigureAwait(false);
        var open = account.Find(symbol) is { PositionAmt: not 0m } held ? held : null;
        if (!answered || record is null || writes.Backlog > 0 || (open is not null && CloseLookup.SameAsVenue(record, open)))
        {
            return account;
        }

        if (await lookup.ReconcileBeforeOrderAsync("Open", symbol, record, open, ct).ConfigureAwait(false))
        {
            var reread = VenueAccount.ReadAsync(venue, ct);
            var (after, again) = await ledger.TryOpenRecordAsync(symbol, ct, RecordReadDeadline).ConfigureAwait(false);
            account = await reread.ConfigureAwait(false);
            open = account.Find(symbol) is { PositionAmt: not 0m } now ? now : null;
            if (again && (after is null || (open is not null && CloseLookup.SameAsVenue(after, open))))
            {
                return account;
            }
        }

        throw new RpcException(new Status(StatusCode.Unavailable,
            $"ledger: the Ledger's record of {symbol} differs from the venue's position and was not repaired yet; nothing was sent; retry with the same client order id"));
    }

    /// <summary>The margin type and leverage the open asks, set at the venue where the symbol's differ (or are not listed).</summary>
    private async Task ApplySettingsAsync(OpenCommand command, PositionRisk? settings, CancellationToken ct)
    {
        if (settings is null || settings.MarginType != command.MarginType)
        {
            await venue.ChangeMarginTypeAsync(command.Symbol, command.MarginType, ct).ConfigureAwait(false);
        }

        if (settings is null || settings.Leverage != command.Leverage)
        {
            await venue.ChangeLeverageAsync(command.Symbol, command.Leverage, ct).ConfigureAwait(false);
        }
    }
}
