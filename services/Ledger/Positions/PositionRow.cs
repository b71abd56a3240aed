using Npgsql;
using TradeEngine.Common.V1;
using TradeEngine.Contracts.Events;
using TradeEngine.Ledger.Data;
using TradeEngine.Ledger.V1;
using static TradeEngine.Ledger.Mapping.LedgerWire;
using DomainSide = TradeEngine.Domain.Side;

namespace TradeEngine.Ledger.Positions;

/// <summary>A row of <c>positions</c>, with its mapping to the contract and to events.</summary>
public sealed record PositionRow(
    Guid PositionId,
    string Account,
    string Venue,
    string Symbol,
    DomainSide Side,
    decimal Quantity,
    decimal EntryPrice,
    decimal? ExitPrice,
    decimal ClosedQuantity,
    int Leverage,
    string MarginType,
    string Status,
    decimal RealizedPnl,
    decimal Fees,
    decimal Funding,
    string? Strategy,
    decimal? StopLossPrice,
    decimal? TakeProfitPrice,
    DateTimeOffset OpenedAt,
    DateTimeOffset? ClosedAt,
    string? ExitReason)
{
    public const string Columns =
        "position_id, account, venue, symbol, side, quantity, entry_price, exit_price, closed_quantity, leverage, margin_type, " +
        "status, realized_pnl, fees, funding, strategy, stop_loss_price, take_profit_price, opened_at, closed_at, exit_reason";

    public const string Open = "open";
    public const string Closed = "closed";
    public const string Liquidated = "liquidated";

    public bool IsOpen => Status == Open;

    public static PositionRow Read(NpgsqlDataReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        return new PositionRow(
            reader.GetGuid(0), reader.GetString(1), reader.GetString(2), reader.GetString(3),
            reader.GetString(4) == "long" ? DomainSide.Long : DomainSide.Short,
            reader.GetDecimal(5), reader.GetDecimal(6), reader.NullableDecimal(7), reader.GetDecimal(8), reader.GetInt32(9),
            reader.GetString(10), reader.GetString(11), reader.GetDecimal(12), reader.GetDecimal(13), reader.GetDecimal(14),
            reader.NullableString(15), reader.NullableDecimal(16), reader.NullableDecimal(17), reader.Instant(18),
            reader.NullableInstant(19), reader.NullableString(20));
    }

    public static string SideText(DomainSide side) => side == DomainSide.Long ? "long" : "short";

    public static DomainSide FromProto(Common.V1.Side side) => side == Common.V1.Side.Long ? DomainSide.Long : DomainSide.Short;

    public static string MarginText(Common.V1.MarginType type) => type == Common.V1.MarginType.Isolated ? "isolated" : "cross";

    public static PositionStatus StatusToProto(string status) => status switch
    {
        Open => PositionStatus.Open,
        Closed => PositionStatus.Closed,
        Liquidated => PositionStatus.Liquidated,
        _ => PositionStatus.Unspecified,
    };

    public static string? StatusFromProto(PositionStatus status) => status switch
    {
        PositionStatus.Open => Open,
        PositionStatus.Closed => Closed,
        PositionStatus.Liquidated => Liquidated,
        _ => null,
    };

    public PositionSide EventSide => Side == DomainSide.Long ? PositionSide.Long : PositionSide.Short;

    public PositionRecord ToProto() => new()
    {
        PositionId = PositionId.ToString(),
        Account = Account,
        Venue = Venue,
        Symbol = Symbol,
        Side = Side == DomainSide.Long ? Common.V1.Side.Long : Common.V1.Side.Short,
        Quantity = Format(Quantity),
        EntryPrice = Format(EntryPrice),
        ExitPrice = Format(ExitPrice),
        Leverage = Leverage,
        MarginType = MarginType == "isolated" ? Common.V1.MarginType.Isolated : Common.V1.MarginType.Cross,
        Status = StatusToProto(Status),
        RealizedPnl = Format(RealizedPnl),
        Fees = Format(Fees),
        Funding = Format(Funding),
        Strategy = Strategy ?? string.Empty,
        OpenedAt = Timestamp(OpenedAt),
        ClosedAt = Timestamp(ClosedAt),
        ExitReason = ExitReason ?? string.Empty,
        StopLossPrice = Format(StopLossPrice),
        TakeProfitPrice = Format(TakeProfitPrice),
    };
}
