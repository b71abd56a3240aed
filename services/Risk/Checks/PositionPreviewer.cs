using TradeEngine.Domain;
using TradeEngine.Domain.Funding;
using TradeEngine.Domain.Margin;
using TradeEngine.Domain.Positions;
using TradeEngine.Risk.Instruments;
using TradeEngine.Risk.Mapping;
using TradeEngine.Risk.State;
using TradeEngine.Risk.V1;
using TradeEngine.ServiceDefaults.Grpc;

namespace TradeEngine.Risk.Checks;

/// <summary>
/// The what-if of a trade, without trading and without touching the kill switch: the position after the fill
/// (Domain's <see cref="Position.Apply"/>), its liquidation price at the exchange formula, its initial and
/// maintenance margin, the account's margin ratio after it, funding over N settlements, and every limit it breaches.
/// </summary>
public sealed class PositionPreviewer(PreTradeEvaluator evaluator, RiskStateCache cache, IFundingQuotes funding, RiskInstruments instruments)
{
    public const int MaxSettlements = 10_000;

    public async Task<PreviewPositionResponse> PreviewAsync(PreviewPositionRequest request, CancellationToken cancellationToken)
    {
        // Both parts' form before the venue is read for either (the order's instrument, the positions' brackets).
        var form = PreTradeEvaluator.Form(request.Order, "order");
        RiskWire.CheckAccountForm(request.Account, "account");
        if (request.FundingSettlements is < 0 or > MaxSettlements)
        {
            throw new RequestValidationException("funding_settlements", $"must be from 0 to {MaxSettlements} (0 means one day)");
        }

        var order = await PreTradeEvaluator.ResolveAsync(form, "order", instruments, cancellationToken).ConfigureAwait(false);
        var account = await instruments.AccountAsync(request.Account, "account", cancellationToken).ConfigureAwait(false);

        var state = await cache.GetAsync(cancellationToken).ConfigureAwait(false);
        var outcome = evaluator.Evaluate(order, account, state);
        var instrument = order.Instrument;
        var existing = Existing(account, instrument.Symbol);
        var after = existing.Apply(order.Side, order.Quantity.Value, order.Price.Value, 0m).After;

        var response = new PreviewPositionResponse { Allowed = outcome.Allowed };
        PreTradeEvaluator.AddReasons(outcome, response.Breaches);
        var notional = after.IsFlat ? 0m : MarginMath.Notional(after.SignedSize, order.Price.Value);
        if (notional > instrument.Brackets.MaxNotional)
        {
            throw new RequestValidationException("order.quantity", "puts the position above the symbol's last leverage bracket");
        }

        var positionMaintenance = MarginMath.MaintenanceMargin(notional, instrument.Brackets);
        var initial = MarginMath.InitialMargin(notional, order.Leverage.Value);
        // The account's totals count the existing position at its mark (as the venue does): that is what comes out of
        // them to leave the other positions' share. At the order's price the remainder drifted by size × (mark − price).
        // A snapshot that gives the position no mark is taken at the order's price, the nearest figure there is, and its
        // unrealized PnL there too unless the snapshot gives it.
        var raw = request.Account?.Positions.FirstOrDefault(p => p.Symbol == instrument.Symbol.Value && p.Side != Common.V1.Side.Unspecified);
        var existingView = account.Positions.FirstOrDefault(p => p.Symbol == instrument.Symbol && p.SignedSize != 0m);
        var existingMark = string.IsNullOrEmpty(raw?.MarkPrice) ? order.Price.Value : existingView.MarkPrice;
        var existingUnrealized = existing.IsFlat ? 0m
            : string.IsNullOrEmpty(raw?.UnrealizedPnl) ? existing.UnrealizedPnl(existingMark) : existingView.UnrealizedPnl;
        var existingMaintenance = existing.IsFlat ? 0m : MarginMath.MaintenanceMargin(MarginMath.Notional(existing.SignedSize, existingMark), instrument.Brackets);
        var accountMaintenance = Math.Max(0m, account.MaintenanceMargin - existingMaintenance) + positionMaintenance;
        var health = RiskWire.Health(account.WalletBalance, account.UnrealizedPnl, accountMaintenance, evaluator.Limits.LiquidationBuffer, "account");
        response.InitialMargin = Wire.Format(Round(initial));
        response.MaintenanceMargin = Wire.Format(Round(positionMaintenance));
        response.MarginRatio = Wire.Format(health.Ratio is { } r ? Round(r) : null);
        var isolatedElsewhere = after.IsFlat || order.MarginType == Domain.MarginType.Isolated
            ? default
            : await IsolatedElsewhereAsync(account, instrument.Symbol, cancellationToken).ConfigureAwait(false);
        response.LiquidationPrice = after.IsFlat
            ? string.Empty
            : Liquidation(order, account, after, IsolatedWallet(order, account, existing, after), existingUnrealized,
                accountMaintenance - positionMaintenance, isolatedElsewhere);

        var quote = await funding.GetAsync(instrument.Symbol, cancellationToken).ConfigureAwait(false);
        if (quote is { } q && !after.IsFlat)
        {
            var settlements = request.FundingSettlements == 0 ? new FundingSchedule(q.IntervalHours).SettlementsPerDay : request.FundingSettlements;
            response.FundingRate = Wire.Format(q.Rate);
            response.FundingSettlements = settlements;
            response.FundingCost = Wire.Format(FundingMath.EstimateRounded(after.SignedSize, order.Price.Value, q.Rate, settlements));
        }

        return response;
    }

    /// <summary>
    /// The isolated margin the resulting position would hold. Binance keeps what was deposited: an add brings its own
    /// initial margin (order notional / leverage) on top of the position's; a reduce releases its share; a flip starts
    /// a new position with its own. The position's own is the snapshot's isolated_wallet (margin added by hand, funding
    /// and fees taken from it included); a snapshot without one has it taken as its initial margin at its entry (size ×
    /// entry / its leverage, the order's when the snapshot has none), not re-priced at the order's price: 0.1 BTC from
    /// 40,000 at 5x holds 800, and adding 0.1 at 50,000 makes 1,800, not 0.2 × 50,000 / 5.
    /// </summary>
    private static decimal IsolatedWallet(ParsedOrder order, AccountView account, Position existing, Position after)
    {
        var leverage = order.Leverage.Value;
        var orderMargin = order.Quantity.Value * order.Price.Value / leverage;
        if (existing.IsFlat || Math.Sign(existing.SignedSize) != Math.Sign(after.SignedSize))
        {
            // New, or flipped: the order's margin for what it leaves open.
            return Math.Abs(after.SignedSize) * order.Price.Value / leverage;
        }

        var existingView = account.Positions.FirstOrDefault(p => p.Symbol == existing.Symbol);
        var existingLeverage = existingView.Leverage is > 0 and var l ? l : leverage;
        var existingMargin = existingView.IsolatedWallet ?? Math.Abs(existing.SignedSize) * existing.EntryPrice / existingLeverage;
        return Math.Abs(after.SignedSize) > Math.Abs(existing.SignedSize)
            ? existingMargin + orderMargin
            : existingMargin * Math.Abs(after.SignedSize) / Math.Abs(existing.SignedSize);
    }

    /// <param name="existingUnrealized">The existing position's unrealized PnL as the account counts it (at its mark).</param>
    /// <param name="elsewhere">The other symbols' isolated positions, which a cross position's liquidation leaves out.</param>
    private static string Liquidation(
        ParsedOrder order, AccountView account, Position after, decimal isolatedWallet, decimal existingUnrealized, decimal otherMaintenance,
        IsolatedTotals elsewhere)
    {
        var isolated = order.MarginType == Domain.MarginType.Isolated;
        var otherUnrealized = account.UnrealizedPnl - existingUnrealized - elsewhere.Unrealized;
        var result = LiquidationPrice.Exchange(new LiquidationInput
        {
            MarginType = order.MarginType,
            Side = after.SignedSize > 0m ? Domain.Side.Long : Domain.Side.Short,
            Quantity = Math.Abs(after.SignedSize),
            EntryPrice = after.EntryPrice,
            WalletBalance = isolated ? isolatedWallet : account.WalletBalance - elsewhere.Wallet,
            OtherMaintenanceMargin = isolated ? 0m : Math.Max(0m, otherMaintenance - elsewhere.Maintenance),
            OtherUnrealizedPnl = isolated ? 0m : otherUnrealized,
            Brackets = order.Instrument.Brackets,
        });
        return result.HasPrice ? Wire.Format(Round(result.Price)) : string.Empty;
    }

    /// <summary>The wallets, unrealized PnL and maintenance margin of isolated positions.</summary>
    private readonly record struct IsolatedTotals(decimal Wallet, decimal Unrealized, decimal Maintenance);

    /// <summary>
    /// The isolated positions on other symbols whose wallets the snapshot gives. Binance's formula for a cross position
    /// takes the cross wallet (the account's without the isolated wallets) and the other cross positions' maintenance
    /// margin and unrealized PnL; the isolated ones stand apart. Before, the account's totals were used: with 3,000 of a
    /// 10,000 wallet held by an isolated position, a cross long of 0.2 BTC at 50,000 was shown liquidated near 15 where
    /// Binance puts it near 15,060. One on a symbol the venue does not list, or past its last bracket, stays in the totals.
    /// </summary>
    private async Task<IsolatedTotals> IsolatedElsewhereAsync(AccountView account, Symbol symbol, CancellationToken cancellationToken)
    {
        var totals = default(IsolatedTotals);
        foreach (var p in account.Positions)
        {
            if (p.Symbol == symbol || p.MarginType != Domain.MarginType.Isolated || p.IsolatedWallet is not { } wallet || p.SignedSize == 0m
                || await instruments.MaintenanceAtMarkAsync(p, cancellationToken).ConfigureAwait(false) is not { } maintenance)
            {
                continue;
            }

            totals = new IsolatedTotals(totals.Wallet + wallet, totals.Unrealized + p.UnrealizedPnl, totals.Maintenance + maintenance);
        }

        return totals;
    }

    private static Position Existing(AccountView account, Symbol symbol)
    {
        foreach (var p in account.Positions)
        {
            if (p.Symbol == symbol && p.SignedSize != 0m)
            {
                return new Position(symbol, p.SignedSize, p.EntryPrice);
            }
        }

        return Position.Flat(symbol);
    }

    // Figures shown on the wire keep 8 decimals, half to even, like the Ledger's NUMERIC(.., 8).
    private static decimal Round(decimal value) => Math.Round(value, 8, MidpointRounding.ToEven);
}
