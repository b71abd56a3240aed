namespace TradeEngine.Ledger.Mapping;

/// <summary>
/// A keyset page cursor: the last row's sort key. <see cref="Ticks"/> is its time (UTC ticks) with <see cref="Id"/> as
/// the tie-break, or a sequence number alone (no <see cref="Id"/>).
/// </summary>
public readonly record struct PageCursor(long Ticks, Guid? Id)
{
    public DateTimeOffset At => new(Ticks, TimeSpan.Zero);

    public static PageCursor Of(DateTimeOffset at, Guid id) => new(at.UtcTicks, id);
}
