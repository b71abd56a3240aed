using Grpc.Core;
using Microsoft.Extensions.Options;
using TradeEngine.Domain;
using TradeEngine.Domain.Instruments;
using TradeEngine.Domain.Margin;
using TradeEngine.Domain.Risk;
using TradeEngine.Risk.Instruments;
using TradeEngine.Risk.KillSwitch;
using TradeEngine.Risk.Mapping;
using TradeEngine.Risk.Monitor;
using TradeEngine.Risk.Options;
using TradeEngine.Risk.State;
using TradeEngine.Risk.V1;
using TradeEngine.ServiceDefaults.Grpc;
using RiskReason = TradeEngine.Risk.V1.RiskReason;
using RiskReasonCode = TradeEngine.Risk.V1.RiskReasonCode;

namespace TradeEngine.Risk.Checks;

/// <summary>A parsed order: the instrument and the Domain values of the intent.</summary>
/// <summary>An order's fields, checked; its symbol not yet looked up at the venue.</summary>
public readonly record struct OrderForm(string Symbol, Domain.Side Side, Quantity Quantity, Price Price, Leverage Leverage, Domain.MarginType MarginType);

public readonly record struct ParsedOrder(Instrument Instrument, Domain.Side Side, Quantity Quantity, Price Price, Leverage Leverage, Domain.MarginType MarginType);

/// <summary>The decision with the margin health of the account it was taken on.</summary>
public readonly record struct PreTradeOutcome(RiskDecision Decision, MarginHealthResult Health, bool ReduceOnly)
{
    public bool Allowed => Decision.Allowed && !ReduceOnly;
}

/// <summary>
/// The pre-trade check: the caller's order and account, plus the kill switch, day-start and peak equity Risk keeps
/// through the Ledger (cached), judged by Domain's <see cref="PreTradeCheck"/>. An account already inside the margin
/// buffer may open nothing new (MARGIN_HEALTH_REDUCE_ONLY). A daily-loss or drawdown breach latches the kill switch;
/// the denial is answered even when the Ledger cannot take the latch (it is owed: <see cref="KillSwitchService.LatchAsync"/>).
/// Before it latches, the venue's transfers not booked yet are booked (<see cref="ITransferCheck"/>) and the check is
/// judged again on a read of the Ledger made after that, in today's money: a withdrawal is no loss.
/// </summary>
public sealed class PreTradeEvaluator(
    RiskStateCache cache, KillSwitchService killSwitch, EquityBaseline baseline, ITransferCheck transfers, IOptions<RiskOptions> options,
    MarginMonitorPresence? monitor = null)
{
    // With the monitor on, the caller's account is judged but never written as the day's start or a peak (the class
    // comment of MarginMonitorPresence says why).
    private readonly bool _checksObserve = monitor is not { On: true };

    private readonly RiskLimits _limits = options.Value.ToLimits();

    public RiskLimits Limits => _limits;

    /// <summary>
    /// Every field of the order checked without the venue (the symbol for its form only). Callers check the whole
    /// request's form before <see cref="ResolveAsync"/> reads the venue, so bad input is INVALID_ARGUMENT naming its
    /// field even while the venue (which lists the symbols) cannot be read.
    /// </summary>
    public static OrderForm Form(OrderIntent? order, string field)
    {
        if (order is null)
        {
            throw new RequestValidationException(field, "is required");
        }

        RiskWire.Symbol(order.Symbol, field + ".symbol");
        var side = RiskWire.Side(order.Side, field + ".side");
        var quantity = new Quantity(Wire.Positive(order.Quantity, field + ".quantity"));
        var price = new Price(Wire.Positive(order.Price, field + ".price"));
        RiskWire.CheckNotional(quantity.Value, price.Value, field + ".quantity", field + ".price");
        var leverage = RiskWire.Leverage(order.Leverage, field + ".leverage");
        var marginType = order.MarginType == Common.V1.MarginType.Unspecified
            ? Domain.MarginType.Cross
            : RiskWire.MarginType(order.MarginType, field + ".margin_type");
        return new OrderForm(order.Symbol, side, quantity, price, leverage, marginType);
    }

    /// <summary>The order with its instrument from the venue; an unlisted symbol is INVALID_ARGUMENT naming <c>field.symbol</c>.</summary>
    public static async ValueTask<ParsedOrder> ResolveAsync(OrderForm form, string field, RiskInstruments instruments, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(instruments);
        var instrument = await instruments.GetAsync(form.Symbol, field + ".symbol", cancellationToken).ConfigureAwait(false);
        // Every limit here is a USDT figure: an order on a contract margined in another asset, or on no perpetual, is
        // not judged as if it were one.
        if (instrument.NotOpenedReason is { } notOpened)
        {
            throw new RequestValidationException(field + ".symbol", $"{form.Symbol} is listed by the venue but not traded here: {notOpened}");
        }

        // A contract the venue is settling, delivering or has closed refuses orders that open or add (-4140): not judged
        // as if it took them. Before, such an order was allowed here (Execution refused it on its own catalog).
        if (!instrument.IsTrading)
        {
            throw new RpcException(new Status(StatusCode.FailedPrecondition,
                $"{field}.symbol: {form.Symbol} is not open for trading at the venue (status {instrument.Status}); an order on it is refused there"));
        }

        return new ParsedOrder(instrument, form.Side, form.Quantity, form.Price, form.Leverage, form.MarginType);
    }

    public async ValueTask<PreTradeOutcome> EvaluateAsync(ParsedOrder order, AccountView account, CancellationToken cancellationToken)
    {
        RiskState state;
        if (cache.TryGetFresh(out var fresh))
        {
            state = fresh;
        }
        else
        {
            try
            {
                state = await cache.GetAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Grpc.Core.RpcException ex) when (ex.StatusCode == Grpc.Core.StatusCode.Unavailable && killSwitch.Owed is not null && cache.Current is { } last)
            {
                // The Ledger's state is unknown, but this process owes it a latch: the switch is on whatever the Ledger
                // says, so the answer is a denial (KILL_SWITCH_ACTIVE), not UNAVAILABLE. The figures are the last state
                // read; nothing is written, and the latch is already being written.
                return Evaluate(order, account, last);
            }
        }

        // Judged once before anything is written: a request refused here (a figure it gives past decimal's range) must
        // leave no day-start or peak snapshot in the Ledger. The state's equity figures change only the decision's
        // daily loss and drawdown, never whether the request is well formed, so the judgement below cannot refuse it.
        _ = Evaluate(order, account, state);
        // With the monitor on, its snapshots of the venue's account are the day-start and the peak: this check measures
        // from them (or from its own account while there are none yet) and writes nothing.
        if (_checksObserve)
        {
            if (EquityBaseline.IsMissing(state))
            {
                state = await baseline.AnchorAsync(account, state, cancellationToken).ConfigureAwait(false);
            }
            else if (!baseline.ObservedOn(state))
            {
                state = await baseline.ObserveDayAsync(account, state, cancellationToken).ConfigureAwait(false);
            }

            if (account.Equity > state.PeakEquity)
            {
                // A later check must measure drawdown from this high (this one takes the higher of the two anyway).
                baseline.RecordPeak(account, state);
            }
        }

        // A reload (anchoring, the day's observation) returns the Ledger's switch: a latch still owed is on all the same.
        var outcome = Evaluate(order, account, cache.WithOwed(state));
        if (outcome.Decision.LatchesKillSwitch && !state.KillSwitch.Active && killSwitch.Owed is null)
        {
            // A transfer the state did not hold yet (a withdrawal reads as a loss): the venue's transfers are booked, and
            // the check judged again on a read of the Ledger made after that. Fails closed: a reload that fails leaves the
            // breach as measured, and it latches.
            await transfers.BookNowAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                state = await cache.RefreshAfterNowAsync(cancellationToken).ConfigureAwait(false);
                outcome = Evaluate(order, account, cache.WithOwed(state));
            }
            catch (Exception ex) when (ex is Grpc.Core.RpcException or HttpRequestException or TimeoutException or InvalidOperationException
                                       && !cancellationToken.IsCancellationRequested)
            {
                // The outcome measured before stands.
            }
        }

        // Not gated on the cached switch: the cache may still hold a latch another instance made and an operator has since
        // reset (the reset's event not yet here). LatchAsync reads the switch from the Ledger and leaves one that is on.
        // The denial is decided here: a Ledger that does not take the latch does not fail the check (LatchAsync owes it,
        // keeps the switch on in this process and writes it when the Ledger answers again).
        if (outcome.Decision.LatchesKillSwitch)
        {
            var daily = outcome.Decision.Has(Domain.Risk.RiskReasonCode.DailyLossLimitBreached);
            var figures = outcome.Decision.Figures;
            await killSwitch.LatchAsync(
                daily ? KillSwitchTriggers.DailyLoss : KillSwitchTriggers.Drawdown,
                outcome.Decision.ToString(),
                Wire.Format(daily ? figures.DailyLoss : figures.Drawdown),
                Wire.Format(daily ? figures.DailyLossLimit : figures.MaxDrawdown),
                cancellationToken).ConfigureAwait(false);
        }

        return outcome;
    }

    /// <summary>Pure: no I/O. Day-start and peak equity default to the current equity when the state has none (EvaluateAsync anchors them first).</summary>
    public PreTradeOutcome Evaluate(ParsedOrder order, AccountView account, RiskState state)
    {
        var request = new PreTradeRequest
        {
            Symbol = order.Instrument.Symbol,
            Side = order.Side,
            Quantity = order.Quantity,
            Price = order.Price,
            Leverage = order.Leverage,
            ExistingPositionSize = account.SizeOn(order.Instrument.Symbol),
            MarkPrice = account.MarkOn(order.Instrument.Symbol) ?? 0m,
            AvailableBalance = account.AvailableBalance,
            // Margin balance (wallet + unrealized PnL, the account's equity), never above the wallet: an unrealized loss
            // shrinks what balance × leverage allows, an unrealized profit does not grow it. Before, the wallet balance
            // was used: wallet 2,000 with 1,200 unrealized lost allowed 10,000 of notional at 5x where 4,000 was meant.
            Balance = Math.Min(account.WalletBalance, account.Equity),
            EquityAtStartOfDay = state.DayStartEquity ?? account.Equity,
            CurrentEquity = account.Equity,
            PeakEquity = Math.Max(state.PeakEquity ?? account.Equity, account.Equity),
            KillSwitchActive = state.KillSwitch.Active,
        };
        RiskDecision decision;
        try
        {
            decision = PreTradeCheck.Evaluate(request, _limits, order.Instrument.Filters);
        }
        catch (OverflowException)
        {
            throw OverflowRefusal(order, account);
        }

        var health = RiskWire.Health(account.WalletBalance, account.UnrealizedPnl, account.MaintenanceMargin, _limits.LiquidationBuffer, AccountField);
        return new PreTradeOutcome(decision, health, health.Action != MarginAction.Ok);
    }

    private const string OrderField = "order";
    private const string AccountField = "account";

    /// <summary>
    /// The field whose figure put the position after the order past decimal's range: each part passed the notional bound
    /// at its own price, but the position is valued at the higher of the order's price and the mark. The existing
    /// position when it alone overflows at that valuation (10^25 held at a mark of 10^-8, an order at 60,000), else the
    /// order's quantity (valued at the position's mark).
    /// </summary>
    private static RequestValidationException OverflowRefusal(ParsedOrder order, AccountView account)
    {
        for (var i = 0; i < account.Positions.Count; i++)
        {
            var p = account.Positions[i];
            if (p.Symbol == order.Instrument.Symbol && Overflows(p.SignedSize, Math.Max(order.Price.Value, p.MarkPrice)))
            {
                return new RequestValidationException($"{AccountField}.positions[{i}].quantity",
                    "is too large: valued at the order's price or its mark, whichever is higher, the position is past what an amount holds");
            }
        }

        return new RequestValidationException(OrderField + ".quantity",
            "is too large: valued at the position's mark, the position after the order is past what an amount holds");
    }

    private static bool Overflows(decimal a, decimal b)
    {
        try
        {
            _ = a * b;
            return false;
        }
        catch (OverflowException)
        {
            return true;
        }
    }

    public static void AddReasons(PreTradeOutcome outcome, Google.Protobuf.Collections.RepeatedField<RiskReason> reasons)
    {
        if (!outcome.Decision.Allowed)
        {
            foreach (var reason in outcome.Decision.Reasons)
            {
                reasons.Add(new RiskReason
                {
                    Code = RiskWire.Code(reason.Code),
                    Message = reason.ToString(),
                    Limit = Wire.Format(reason.Limit),
                    Actual = Wire.Format(reason.Actual),
                });
            }
        }

        if (outcome.ReduceOnly)
        {
            reasons.Add(new RiskReason
            {
                Code = RiskReasonCode.MarginHealthReduceOnly,
                Message = $"Margin health is {outcome.Health.Action}: no new positions until the margin ratio is back above 1 + buffer",
                Limit = string.Empty,
                Actual = Wire.Format(outcome.Health.Ratio),
            });
        }
    }
}
