using TradeEngine.Ledger.Mapping;
using TradeEngine.Ledger.V1;
using TradeEngine.ServiceDefaults.Grpc;
using static TradeEngine.Ledger.Mapping.LedgerWire;
using DomainSide = TradeEngine.Domain.Side;

namespace TradeEngine.Ledger.Positions;

/// <summary>The validated content of OpenPosition, ReducePosition, ClosePosition and AmendPosition requests.</summary>
public static class PositionCommands
{
    /// <summary>The account a position belongs to when the caller names none.</summary>
    public const string DefaultAccount = "default";
    public const int MaxLeverage = 125;

    public sealed record OpenCommand(
        string Key, string Account, string Venue, string Symbol, DomainSide Side, decimal Quantity, decimal EntryPrice,
        int Leverage, string MarginType, decimal Fee, string? Strategy, DateTimeOffset OpenedAt, decimal? StopLoss, decimal? TakeProfit,
        IReadOnlyList<FillCommand> Fills);

    /// <summary>One fill of the order behind an open, reduce or close (the requests' fills).</summary>
    public sealed record FillCommand(
        string ClientOrderId, string ExchangeTradeId, string? ExchangeOrderId, decimal Price, decimal Quantity, decimal Fee, DateTimeOffset ExecutedAt,
        string FeeAsset);

    /// <summary>More fills than any market order of a bounded size produces: a request with more is malformed.</summary>
    public const int MaxFills = 200;

    public sealed record ReduceCommand(
        string Key, Guid PositionId, decimal Quantity, decimal ExitPrice, decimal Fee, DateTimeOffset At, string? Reason,
        IReadOnlyList<FillCommand> Fills);

    /// <param name="AtField">The request's field that <paramref name="At"/> came from (a reduce of the whole quantity closes too).</param>
    public sealed record CloseCommand(
        string Key, Guid PositionId, decimal ExitPrice, decimal Fee, DateTimeOffset At, string? Reason, bool Liquidated,
        IReadOnlyList<FillCommand> Fills, string AtField = "closed_at");

    /// <summary>An amendment: <see cref="Leverage"/> null, or a protective price null, leaves that figure as it is.</summary>
    public sealed record AmendCommand(string Key, Guid PositionId, int? Leverage, decimal? StopLoss = null, decimal? TakeProfit = null);

    public static OpenCommand Parse(OpenPositionRequest r, RecordedTimes times)
    {
        ArgumentNullException.ThrowIfNull(r);
        var side = Wire.Enum(r.Side, "side");
        var marginType = Wire.Enum(r.MarginType, "margin_type");
        Leverage(r.Leverage);

        var quantity = Positive(r.Quantity, "quantity");
        var entryPrice = Positive(r.EntryPrice, "entry_price");
        Notional(quantity, entryPrice, "quantity");
        var fee = Bounded(NonNegativeOrZero(r.Fee, "fee"), "fee");
        var fills = ParseFills(r.Fills, quantity, fee, times, entryPrice, "entry_price");
        return new OpenCommand(
            Key(r.IdempotencyKey, "idempotency_key"),
            OptionalIdentifier(r.Account, "account", 64) ?? DefaultAccount,
            Identifier(r.Venue, "venue", 32),
            Symbol(r.Symbol, "symbol"),
            PositionRow.FromProto(side),
            quantity,
            entryPrice,
            r.Leverage,
            PositionRow.MarginText(marginType),
            fee,
            OptionalText(r.Strategy, "strategy", 64),
            times.OrNow(r.OpenedAt, "opened_at"),
            OptionalPositive(r.StopLossPrice, "stop_loss_price"),
            OptionalPositive(r.TakeProfitPrice, "take_profit_price"),
            fills);
    }

    /// <summary>
    /// An order's fills: each complete and bounded, exchange trade ids distinct, and together exactly the request's
    /// quantity (when the request states one) and, in their USDT fees, fee, so the record and its trades cannot disagree.
    /// The request's price (<paramref name="average"/>, its <paramref name="priceField"/>: the order's average) lies between
    /// the lowest and the highest fill price, as any average of them does, however it was rounded (the fills' prices are
    /// on the tick it rounds to).
    /// </summary>
    private static List<FillCommand> ParseFills(
        IReadOnlyList<Fill> given, decimal? quantity, decimal fee, RecordedTimes times, decimal average, string priceField)
    {
        if (given.Count > MaxFills)
        {
            throw new RequestValidationException("fills", $"must hold at most {MaxFills} fills");
        }

        var fills = new List<FillCommand>(given.Count);
        var ids = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < given.Count; i++)
        {
            var f = given[i];
            var at = $"fills[{i}].";
            var price = Positive(f.Price, at + "price");
            var size = Positive(f.Quantity, at + "quantity");
            Notional(size, price, at + "quantity");
            var fill = new FillCommand(
                Identifier(f.ClientOrderId, at + "client_order_id", 64),
                Identifier(f.ExchangeTradeId, at + "exchange_trade_id", 64),
                OptionalIdentifier(f.ExchangeOrderId, at + "exchange_order_id", 64),
                price,
                size,
                Bounded(NonNegativeOrZero(f.Fee, at + "fee"), at + "fee"),
                times.Required(f.ExecutedAt, at + "executed_at"),
                FeeAsset(f.FeeAsset, at + "fee_asset"));
            if (!ids.Add(fill.ExchangeTradeId))
            {
                throw new RequestValidationException(at + "exchange_trade_id", "appears twice in fills");
            }

            fills.Add(fill);
        }

        if (fills.Count > 0 && quantity is not null && fills.Sum(f => f.Quantity) != quantity)
        {
            throw new RequestValidationException("fills", "quantities must add up to quantity");
        }

        if (fills.Count > 0 && (average < fills.Min(f => f.Price) || average > fills.Max(f => f.Price)))
        {
            throw new RequestValidationException("fills", $"prices must bracket {priceField} (the order's average price)");
        }

        // The change's fee is what the USDT wallet paid: a fill paid in another asset (BNB) is not in it.
        if (fills.Count > 0 && fills.Where(f => f.FeeAsset == FeeAssetUsdt).Sum(f => f.Fee) != fee)
        {
            throw new RequestValidationException("fills", "USDT fees must add up to fee");
        }

        return fills;
    }

    public static ReduceCommand Parse(ReducePositionRequest r, RecordedTimes times)
    {
        ArgumentNullException.ThrowIfNull(r);
        var quantity = Positive(r.Quantity, "quantity");
        var exitPrice = Positive(r.ExitPrice, "exit_price");
        Notional(quantity, exitPrice, "quantity");
        var fee = Bounded(NonNegativeOrZero(r.Fee, "fee"), "fee");
        return new ReduceCommand(
            Key(r.IdempotencyKey, "idempotency_key"),
            Id(r.PositionId, "position_id"),
            quantity,
            exitPrice,
            fee,
            times.OrNow(r.ReducedAt, "reduced_at"),
            OptionalText(r.Reason, "reason", 256),
            ParseFills(r.Fills, quantity, fee, times, exitPrice, "exit_price"));
    }

    public static AmendCommand Parse(AmendPositionRequest r)
    {
        ArgumentNullException.ThrowIfNull(r);
        var key = Key(r.IdempotencyKey, "idempotency_key");
        var positionId = Id(r.PositionId, "position_id");
        var stopLoss = OptionalPositive(r.StopLossPrice, "stop_loss_price");
        var takeProfit = OptionalPositive(r.TakeProfitPrice, "take_profit_price");
        // 0 is proto3's unset: leave the leverage, when the request amends a protective price (an amendment of nothing is
        // malformed, and named as the leverage it lacks, as before protective prices could be amended).
        int? leverage = r.Leverage == 0 && (stopLoss is not null || takeProfit is not null) ? null : Leverage(r.Leverage);
        return new AmendCommand(key, positionId, leverage, stopLoss, takeProfit);
    }

    /// <summary>A leverage the venue can apply (1..<see cref="MaxLeverage"/>), the column's own check.</summary>
    private static int Leverage(int leverage) =>
        leverage is < 1 or > MaxLeverage ? throw new RequestValidationException("leverage", $"must be between 1 and {MaxLeverage}") : leverage;

    public static CloseCommand Parse(ClosePositionRequest r, RecordedTimes times)
    {
        ArgumentNullException.ThrowIfNull(r);
        var fee = Bounded(NonNegativeOrZero(r.Fee, "fee"), "fee");
        var key = Key(r.IdempotencyKey, "idempotency_key");
        var positionId = Id(r.PositionId, "position_id");
        var exitPrice = Positive(r.ExitPrice, "exit_price");
        return new CloseCommand(
            key,
            positionId,
            exitPrice,
            fee,
            times.OrNow(r.ClosedAt, "closed_at"),
            OptionalText(r.ExitReason, "exit_reason", 256),
            r.Liquidated,
            // A close covers the open quantity, known once the row is locked: PositionStore checks the fills against it.
            ParseFills(r.Fills, quantity: null, fee, times, exitPrice, "exit_price"));
    }
}
