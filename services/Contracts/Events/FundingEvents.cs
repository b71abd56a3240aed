namespace TradeEngine.Contracts.Events;

/// <summary>
/// A funding settlement was posted to a position. Sign convention: <see cref="Payment"/> is positive when we
/// paid (a long with a positive rate), negative when we received. <see cref="PositionSize"/> is signed, long positive.
/// </summary>
public sealed record FundingPaid(
    Guid EventId,
    DateTimeOffset OccurredAt,
    Guid FundingEventId,
    Guid PositionId,
    string Venue,
    string Symbol,
    decimal FundingRate,
    decimal PositionSize,
    decimal MarkPrice,
    decimal Payment,
    DateTimeOffset FundingTime);

/// <summary>A symbol's funding interval or rate cap/floor changed at the venue.</summary>
public sealed record FundingScheduleChanged(
    Guid EventId,
    DateTimeOffset OccurredAt,
    string Symbol,
    int PreviousIntervalHours,
    int IntervalHours,
    decimal? PreviousCap,
    decimal? Cap,
    decimal? PreviousFloor,
    decimal? Floor);
