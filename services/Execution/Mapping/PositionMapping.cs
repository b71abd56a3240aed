using TradeEngine.Binance.Models;
using TradeEngine.Execution.V1;
using TradeEngine.Ledger.V1;
using TradeEngine.ServiceDefaults.Grpc;

namespace TradeEngine.Execution.Mapping;

/// <summary>Execution's Position: the venue's live figures, with the Ledger's id, strategy and protective prices.</summary>
public static class PositionMapping
{
    public static Position FromVenue(PositionRisk venue, PositionRecord? record)
    {
        ArgumentNullException.ThrowIfNull(venue);
        var quantity = Math.Abs(venue.PositionAmt);
        return new Position
        {
            PositionId = record?.PositionId ?? string.Empty,
            Symbol = venue.Symbol,
            Side = ExecutionWire.SideOfSize(venue.PositionAmt),
            Quantity = Wire.Format(quantity),
            EntryPrice = Wire.Format(venue.EntryPrice),
            MarkPrice = Wire.Format(venue.MarkPrice),
            LiquidationPrice = Wire.Format(venue.LiquidationPrice),
            UnrealizedPnl = Wire.Format(venue.UnrealizedProfit),
            Leverage = venue.Leverage,
            MarginType = ExecutionWire.MarginType(venue.MarginType),
            StopLossPrice = record?.StopLossPrice ?? string.Empty,
            TakeProfitPrice = record?.TakeProfitPrice ?? string.Empty,
            Strategy = record?.Strategy ?? string.Empty,
            OpenedAt = record?.OpenedAt,
            Notional = Wire.Format(quantity * venue.MarkPrice),
            IsolatedWallet = venue.MarginType == Domain.MarginType.Isolated && venue.IsolatedWallet > 0m ? Wire.Format(venue.IsolatedWallet) : string.Empty,
        };
    }

    /// <summary>
    /// The position as one of our orders left it at the venue, for the update streamed when the Ledger's record of the
    /// change is not at hand (its write was queued): the size, side, entry and settings are the venue's; the id, strategy
    /// and protective prices are <paramref name="record"/>'s when one is known, empty otherwise (as an account read without
    /// the Ledger shows them). The mark is the fill's price, as <see cref="FromRecord"/> gives it.
    /// </summary>
    public static Position FromFill(
        string symbol, Domain.Side side, decimal quantity, decimal entryPrice, decimal price, int leverage, Domain.MarginType marginType,
        PositionRecord? record)
    {
        return new Position
        {
            PositionId = record?.PositionId ?? string.Empty,
            Symbol = symbol,
            Side = ExecutionWire.Side(side),
            Quantity = Wire.Format(quantity),
            EntryPrice = Wire.Format(entryPrice),
            MarkPrice = Wire.Format(price),
            Leverage = leverage,
            MarginType = ExecutionWire.MarginType(marginType),
            StopLossPrice = record?.StopLossPrice ?? string.Empty,
            TakeProfitPrice = record?.TakeProfitPrice ?? string.Empty,
            Strategy = record?.Strategy ?? string.Empty,
            OpenedAt = record?.OpenedAt,
            Notional = Wire.Format(quantity * price),
        };
    }

    public static Position FromRecord(PositionRecord record, decimal price)
    {
        ArgumentNullException.ThrowIfNull(record);
        var quantity = Wire.Decimal(record.Quantity, "quantity");
        return new Position
        {
            PositionId = record.PositionId,
            Symbol = record.Symbol,
            Side = record.Side,
            Quantity = record.Quantity,
            EntryPrice = record.EntryPrice,
            MarkPrice = Wire.Format(price),
            Leverage = record.Leverage,
            MarginType = record.MarginType,
            StopLossPrice = record.StopLossPrice,
            TakeProfitPrice = record.TakeProfitPrice,
            Strategy = record.Strategy,
            OpenedAt = record.OpenedAt,
            Notional = Wire.Format(quantity * price),
        };
    }
}
