namespace TradeEngine.Contracts.Events;

/// <summary>
/// A fill was recorded in the Ledger. Published from the Ledger's outbox; amounts in USDT but <see cref="Fee"/>, which
/// is in <see cref="FeeAsset"/> (USDT unless the venue charged the commission in another asset, such as BNB).
/// </summary>
public sealed record TradeRecorded(
    Guid EventId,
    DateTimeOffset OccurredAt,
    Guid TradeId,
    string ClientOrderId,
    string Venue,
    string ExchangeTradeId,
    string Symbol,
    string Side,
    decimal Price,
    decimal Quantity,
    decimal Fee,
    decimal RealizedPnl,
    DateTimeOffset ExecutedAt,
    Guid? PositionId,
    string FeeAsset = "USDT");
