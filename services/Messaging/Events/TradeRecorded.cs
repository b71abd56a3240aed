using MassTransit;

namespace TradeEngine.Messaging.Events;

/// <summary>
/// A fill was recorded in the Ledger. Published from the Ledger's outbox; amounts in USDT.
/// </summary>
/// <remarks>
/// Kept here until the contracts project takes it; the URN is pinned to the contracts namespace, so moving the
/// record to <c>TradeEngine.Contracts.Events</c> later changes nothing on the wire.
/// </remarks>
[MessageUrn("TradeEngine.Contracts.Events:TradeRecorded")]
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
    Guid? PositionId);
