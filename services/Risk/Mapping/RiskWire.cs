using TradeEngine.Common.V1;
using TradeEngine.Domain;
using TradeEngine.Domain.Instruments;
using TradeEngine.Domain.Margin;
using TradeEngine.ServiceDefaults.Grpc;
using DomainCode = TradeEngine.Domain.Risk.RiskReasonCode;
using ProtoCode = TradeEngine.Risk.V1.RiskReasonCode;

namespace TradeEngine.Risk.Mapping;

/// <summary>Proto ↔ Domain for the risk contract. Every parse names the proto field it read.</summary>
public static class RiskWire
{
    /// <summary>
    /// The largest amount (USDT), price or notional (quantity × price) Risk judges, in magnitude. The hard limits cap an
    /// order at 10,000 USDT; this bound only keeps every figure derived from an input (margins, leverage multiples,
    /// liquidation prices) inside decimal's range, so an absurd size is refused naming its field instead of overflowing
    /// into an internal error.
    /// </summary>
    public const decimal MaxAmount = 1_000_000_000_000_000m;

    /// <summary><paramref name="value"/> when its magnitude is at most <see cref="MaxAmount"/>; else INVALID_ARGUMENT naming <paramref name="field"/>.</summary>
    public static decimal Amount(decimal value, string field) =>
        Math.Abs(value) <= MaxAmount
            ? value
            : throw new RequestValidationException(field, $"is out of range: at most {MaxAmount.ToString(System.Globalization.CultureInfo.InvariantCulture)} in magnitude");

    /// <summary>The places a money figure carries: the venue's 8, and the Ledger's NUMERIC(28,8) that records them.</summary>
    public const int MoneyScale = Wire.MoneyPlaces;

    /// <summary>
    /// A money figure as sent: within <see cref="MaxAmount"/> and at most <see cref="MoneyScale"/> decimal places. Risk
    /// records what it judges (snapshots, risk events with their figures), and a ninth place would be refused by the
    /// Ledger after the judgement (a latch whose event failed, a first check whose snapshot failed).
    /// </summary>
    public static decimal Money(decimal value, string field) => Amount(Wire.AtMostPlaces(value, MoneyScale, field), field);

    /// <summary>A computed money figure rounded to <see cref="MoneyScale"/> places, half away from zero (as the venue reports them).</summary>
    public static decimal RoundMoney(decimal value) => Wire.RoundMoney(value);

    /// <summary>
    /// Refuses a price beyond <see cref="MaxAmount"/> (naming <paramref name="priceField"/>), then a quantity whose value
    /// at that price is beyond it (naming <paramref name="field"/>).
    /// </summary>
    public static void CheckNotional(decimal quantity, decimal price, string field, string priceField)
    {
        Amount(price, priceField);
        decimal notional;
        try
        {
            notional = Math.Abs(quantity * price);
        }
        catch (OverflowException)
        {
            notional = decimal.MaxValue;
        }

        if (notional > MaxAmount)
        {
            throw new RequestValidationException(field, $"is too large: quantity × price must be at most {MaxAmount.ToString(System.Globalization.CultureInfo.InvariantCulture)} USDT");
        }
    }

    public static Domain.Side Side(Common.V1.Side side, string field) => Wire.Enum(side, field) switch
    {
        Common.V1.Side.Long => Domain.Side.Long,
        Common.V1.Side.Short => Domain.Side.Short,
        _ => throw new RequestValidationException(field, "is not a known value"),
    };

    public static Domain.MarginType MarginType(Common.V1.MarginType type, string field) => Wire.Enum(type, field) switch
    {
        Common.V1.MarginType.Isolated => Domain.MarginType.Isolated,
        Common.V1.MarginType.Cross => Domain.MarginType.Cross,
        _ => throw new RequestValidationException(field, "is not a known value"),
    };

    public static Symbol Symbol(string? text, string field) =>
        Domain.Symbol.TryParse(text, out var symbol)
            ? symbol
            : throw new RequestValidationException(field, "must be 1 to 20 characters of A-Z and 0-9");

    public static Leverage Leverage(int value, string field) =>
        value is >= Domain.Leverage.Min and <= Domain.Leverage.Max
            ? new Leverage(value)
            : throw new RequestValidationException(field, "must be an integer from 1 to 125");

    /// <summary>
    /// An account snapshot. Equity is wallet + unrealized (one sent must be exactly that); unrealized, when absent, is the
    /// positions' own; at most one position per symbol; maintenance margin, when absent, is computed from
    /// the positions with each symbol's brackets (<paramref name="brackets"/>, the venue's) at its mark price.
    /// </summary>
    public static AccountView Account(AccountSnapshot? snapshot, string field, IReadOnlyDictionary<Symbol, BracketTable>? brackets) =>
        Account(snapshot, field, brackets, formOnly: false);

    /// <summary>
    /// Checks every field of a snapshot without the venue: a maintenance margin left to be computed from the brackets
    /// is not computed (the snapshot is refused for its form only). Callers run it before they read the venue, so bad
    /// input is INVALID_ARGUMENT naming its field even while the venue cannot be read.
    /// </summary>
    public static void CheckAccountForm(AccountSnapshot? snapshot, string field) => Account(snapshot, field, null, formOnly: true);

    private static AccountView Account(AccountSnapshot? snapshot, string field, IReadOnlyDictionary<Symbol, BracketTable>? brackets, bool formOnly)
    {
        if (snapshot is null)
        {
            throw new RequestValidationException(field, "is required");
        }

        var wallet = Money(Wire.Decimal(snapshot.WalletBalance, field + ".wallet_balance"), field + ".wallet_balance");
        var available = Money(Wire.Decimal(snapshot.AvailableBalance, field + ".available_balance"), field + ".available_balance");
        var positions = new PositionView[snapshot.Positions.Count];
        for (var i = 0; i < positions.Length; i++)
        {
            positions[i] = Position(snapshot.Positions[i], $"{field}.positions[{i}]");
            for (var j = 0; j < i; j++)
            {
                if (positions[j].Symbol == positions[i].Symbol)
                {
                    // One position per symbol (one-way mode, as Execution trades): two would be netted and judged as
                    // one, while each side stands at the venue on its own.
                    throw new RequestValidationException($"{field}.positions[{i}].symbol", $"{positions[i].Symbol} is already at positions[{j}]; one position per symbol");
                }
            }
        }

        // Unsent, the account's unrealized PnL is its positions' (each from its mark when it sends none): counting it as
        // 0 would hide the open losses from the day's loss, the drawdown and margin health.
        var unrealized = Wire.OptionalDecimal(snapshot.UnrealizedPnl, field + ".unrealized_pnl") is { } sent
            ? Money(sent, field + ".unrealized_pnl")
            : Amount(SumUnrealized(positions, field), field + ".unrealized_pnl");
        // Equity is wallet + unrealized by definition (the contract says so): one that is not would move the day's loss
        // and the drawdown wherever the caller liked, and a new high recorded from it would stand as the peak.
        var equity = wallet + unrealized;
        if (Wire.OptionalDecimal(snapshot.Equity, field + ".equity") is { } given && Money(given, field + ".equity") != equity)
        {
            throw new RequestValidationException(field + ".equity", $"must equal wallet_balance + unrealized_pnl ({Wire.Format(equity)}); leave it empty to have it computed");
        }

        equity = Amount(equity, field + ".equity");
        var maintenance = Wire.OptionalDecimal(snapshot.MaintenanceMargin, field + ".maintenance_margin") is { } sentMaintenance
            ? Money(sentMaintenance, field + ".maintenance_margin")
            : formOnly ? 0m : Amount(MaintenanceOf(positions, brackets, field + ".positions"), field + ".maintenance_margin");
        if (maintenance < 0m)
        {
            throw new RequestValidationException(field + ".maintenance_margin", "must not be negative");
        }

        return new AccountView(wallet, available, unrealized, equity, maintenance, positions);
    }

    private static decimal SumUnrealized(PositionView[] positions, string field)
    {
        try
        {
            return positions.Sum(p => p.UnrealizedPnl);
        }
        catch (OverflowException)
        {
            throw new RequestValidationException(field + ".unrealized_pnl", "the positions' unrealized PnL sums past what an amount holds; send it");
        }
    }

    public static PositionView Position(PositionSnapshot p, string field)
    {
        var symbol = Symbol(p.Symbol, field + ".symbol");
        var side = Side(p.Side, field + ".side");
        var quantity = Wire.Positive(p.Quantity, field + ".quantity");
        var entry = Wire.Positive(p.EntryPrice, field + ".entry_price");
        var mark = Wire.OptionalPositive(p.MarkPrice, field + ".mark_price") ?? entry;
        CheckNotional(quantity, entry, field + ".quantity", field + ".entry_price");
        CheckNotional(quantity, mark, field + ".quantity", field + ".mark_price");
        var signed = side == Domain.Side.Long ? quantity : -quantity;
        // Unsent, size × (mark − entry) rounded to 8 places as the venue reports it (a size of 3 places times a price of 8
        // would carry 11).
        var unrealized = Wire.OptionalDecimal(p.UnrealizedPnl, field + ".unrealized_pnl") is { } sent
            ? Money(sent, field + ".unrealized_pnl")
            : Amount(RoundMoney(signed * (mark - entry)), field + ".unrealized_pnl");
        var marginType = p.MarginType == Common.V1.MarginType.Unspecified ? (Domain.MarginType?)null : MarginType(p.MarginType, field + ".margin_type");
        // 0 (unset) is unknown; anything else is a leverage the venue could hold. Before, it was taken as sent: a position
        // at 1000x gave an isolated add a margin of a thousandth, and its liquidation price with it.
        if (p.Leverage is not 0 and (< Domain.Leverage.Min or > Domain.Leverage.Max))
        {
            throw new RequestValidationException(field + ".leverage", $"must be from {Domain.Leverage.Min} to {Domain.Leverage.Max} (or 0, unknown)");
        }

        // An isolated position's own wallet: what the venue liquidates it against, whatever the account holds besides.
        // A cross position has none ("0" or empty; anything else there is a figure that cannot be: refused, not dropped).
        // An isolated one of 0 is unknown (an open isolated position holds its margin): judged as if unsent.
        decimal? isolatedWallet = null;
        if (Wire.OptionalDecimal(p.IsolatedWallet, field + ".isolated_wallet") is { } sentWallet)
        {
            var wallet = Money(sentWallet, field + ".isolated_wallet");
            if (wallet < 0m)
            {
                throw new RequestValidationException(field + ".isolated_wallet", "must not be negative");
            }

            if (marginType != Domain.MarginType.Isolated && wallet != 0m)
            {
                throw new RequestValidationException(field + ".isolated_wallet", "must be 0 or empty unless margin_type is ISOLATED");
            }

            isolatedWallet = marginType == Domain.MarginType.Isolated && wallet > 0m ? wallet : null;
        }

        return new PositionView(symbol, signed, entry, mark, p.Leverage, marginType, unrealized, isolatedWallet);
    }

    public static decimal MaintenanceOf(IReadOnlyList<PositionView> positions, IReadOnlyDictionary<Symbol, BracketTable>? brackets, string field)
    {
        var total = 0m;
        for (var i = 0; i < positions.Count; i++)
        {
            var p = positions[i];
            if (brackets is null || !brackets.TryGetValue(p.Symbol, out var table))
            {
                throw new RequestValidationException($"{field}[{i}].symbol", $"unknown symbol: the venue does not list {p.Symbol}; send maintenance_margin");
            }

            var notional = MarginMath.Notional(p.SignedSize, p.MarkPrice);
            if (notional > table.MaxNotional)
            {
                // Domain would name its own "notional": the caller's field is the position's size.
                throw new RequestValidationException($"{field}[{i}].quantity",
                    $"puts the position above {p.Symbol}'s last leverage bracket ({Wire.Format(table.MaxNotional)} USDT at the mark)");
            }

            total += MarginMath.MaintenanceMargin(notional, table);
        }

        return total;
    }

    /// <summary>
    /// Domain's margin health of a request's account. A maintenance margin so small against the equity that the ratio is
    /// past decimal's range (a dust position, 10^-28 BTC) is INVALID_ARGUMENT naming <c>field.maintenance_margin</c>,
    /// the request's field, sent or computed from the positions, not Domain's parameter name.
    /// </summary>
    public static MarginHealthResult Health(decimal wallet, decimal unrealized, decimal maintenance, decimal buffer, string field)
    {
        try
        {
            return MarginHealth.Evaluate(wallet, unrealized, maintenance, buffer);
        }
        catch (DomainException ex) when (ex.Field == "maintenanceMargin")
        {
            throw new RequestValidationException(field + ".maintenance_margin",
                $"({Wire.Format(maintenance)}, as sent or computed from the positions) {ex.Rule}");
        }
    }

    public static ProtoCode Code(DomainCode code) => code switch
    {
        DomainCode.KillSwitchActive => ProtoCode.KillSwitchActive,
        DomainCode.LeverageOutOfRange => ProtoCode.LeverageOutOfRange,
        DomainCode.NotionalAboveLimit => ProtoCode.NotionalAboveLimit,
        DomainCode.InsufficientMargin => ProtoCode.InsufficientMargin,
        DomainCode.NotionalAboveBalanceTimesLeverage => ProtoCode.NotionalAboveBalanceTimesLeverage,
        DomainCode.QuantityOffStep => ProtoCode.QuantityOffStep,
        DomainCode.QuantityBelowMinimum => ProtoCode.QuantityBelowMinimum,
        DomainCode.QuantityAboveMaximum => ProtoCode.QuantityAboveMaximum,
        DomainCode.NotionalBelowExchangeMinimum => ProtoCode.NotionalBelowExchangeMinimum,
        DomainCode.DailyLossLimitBreached => ProtoCode.DailyLossLimitBreached,
        DomainCode.DrawdownLimitBreached => ProtoCode.DrawdownLimitBreached,
        _ => ProtoCode.Unspecified,
    };

    public static Common.V1.MarginAction Action(Domain.Margin.MarginAction action) => action switch
    {
        Domain.Margin.MarginAction.Ok => Common.V1.MarginAction.Ok,
        Domain.Margin.MarginAction.Reduce => Common.V1.MarginAction.Reduce,
        Domain.Margin.MarginAction.LiquidateAll => Common.V1.MarginAction.LiquidateAll,
        _ => Common.V1.MarginAction.Unspecified,
    };
}
