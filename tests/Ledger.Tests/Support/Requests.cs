using Google.Protobuf.WellKnownTypes;
using TradeEngine.Common.V1;
using TradeEngine.Ledger.V1;

namespace TradeEngine.Ledger.Tests.Support;

/// <summary>Valid requests to start from; tests change the field they are about.</summary>
public static class Requests
{
    public const string Tiny = "0.00000001";
    public const string Huge = "12345678901.12345678";

    public static readonly DateTimeOffset T0 = new(2025, 3, 1, 8, 0, 0, TimeSpan.Zero);

    public static Timestamp At(DateTimeOffset t) => Timestamp.FromDateTimeOffset(t);

    public static string Key() => Guid.NewGuid().ToString("N");

    public static RecordTradeRequest Trade(string? clientOrderId = null) => new()
    {
        ClientOrderId = clientOrderId ?? Key(),
        Venue = "binance",
        ExchangeTradeId = Key(),
        ExchangeOrderId = "778899",
        Symbol = "BTCUSDT",
        Side = TradeSide.Buy,
        Price = Huge,
        Quantity = Tiny,
        Fee = Tiny,
        RealizedPnl = "-" + Huge,
        ExecutedAt = At(T0),
        Strategy = "funding-carry",
    };

    public static OpenPositionRequest Open(string symbol = "BTCUSDT", Side side = Side.Long, string quantity = "1", string price = "100") => new()
    {
        IdempotencyKey = Key(),
        Account = "main",
        Venue = "binance",
        Symbol = symbol,
        Side = side,
        Quantity = quantity,
        EntryPrice = price,
        Leverage = 5,
        MarginType = MarginType.Isolated,
        Fee = "0.1",
        Strategy = "s1",
        OpenedAt = At(T0),
    };

    public static ClosePositionRequest Close(string positionId, string price = "100") => new()
    {
        IdempotencyKey = Key(), PositionId = positionId, ExitPrice = price, Fee = "0.1", ClosedAt = At(T0.AddMinutes(1)), ExitReason = "done",
    };

    /// <summary>A transfer into (positive) or out of (negative) the account, with a fresh key and tran_id.</summary>
    public static LogTransferRequest Transfer(string amount, DateTimeOffset at, string? tranId = null) => new()
    {
        IdempotencyKey = Key(), Venue = "binance", TranId = tranId ?? Key(), Asset = "USDT", Amount = amount, TransferredAt = At(at),
    };

    /// <summary>A PnL snapshot whose balance and equity are <paramref name="equity"/>.</summary>
    public static LogPnlSnapshotRequest PnlSnapshot(string equity, DateTimeOffset at) => new()
    {
        IdempotencyKey = Key(), Balance = equity, UnrealizedPnl = "0", RealizedPnl = "0", TotalPnl = "0", Equity = equity,
        OpenPositions = 0, TakenAt = At(at),
    };

    public static LogFundingEventRequest FundingEvent(string positionId, DateTimeOffset at) => new()
    {
        IdempotencyKey = Key(), PositionId = positionId, Symbol = "BTCUSDT", Venue = "binance", FundingRate = "0.0001",
        PositionSize = "1", MarkPrice = "100", Notional = "100", Payment = "0.01", FundingTime = At(at),
    };
}
