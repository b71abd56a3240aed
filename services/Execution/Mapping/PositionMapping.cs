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
