namespace TradeEngine.Domain.Funding;

/// <summary>
/// When a symbol settles funding. Binance runs 8 h, 4 h and 1 h symbols, each aligned to
/// 00:00 UTC (an 8 h symbol settles at 00:00, 08:00 and 16:00). Any interval that divides
/// 24 hours is accepted, since alignment to midnight only needs that.
///
/// Counting rule: a position held over (from, to] pays at every settlement time t with
/// from &lt; t ≤ to. Opening exactly on a funding time does not pay it; holding at that
/// instant does. Time comes in as values (or a <see cref="TimeProvider"/>); there is no clock here.
/// </summary>
public readonly record struct FundingSchedule
{
    public FundingSchedule(int intervalHours)
    {
        if (intervalHours is < 1 or > 24 || 24 % intervalHours != 0)
        {
            Guard.Fail(nameof(intervalHours), "must be a whole number of hours that divides 24 (1, 4 or 8 on Binance)");
        }

        IntervalHours = intervalHours;
    }

    public int IntervalHours { get; }

    public TimeSpan Interval => TimeSpan.FromHours(IntervalHours);

    public int SettlementsPerDay => 24 / IntervalHours;

    /// <summary>Settlements a position of any start time meets in a horizon, at least: whole intervals only.</summary>
    public int SettlementsInHorizon(TimeSpan horizon)
    {
        if (horizon < TimeSpan.Zero)
        {
            Guard.Fail(nameof(horizon), "must not be negative");
        }

        return (int)(horizon.Ticks / IntervalTicks);
    }

    /// <summary>The first settlement strictly after <paramref name="instant"/>.</summary>
    public DateTimeOffset NextFundingTime(DateTimeOffset instant)
    {
        var ticks = instant.UtcTicks;
        var next = (ticks / IntervalTicks + 1) * IntervalTicks;
        return new DateTimeOffset(next, TimeSpan.Zero);
    }

    public DateTimeOffset NextFundingTime(TimeProvider clock)
    {
        ArgumentNullException.ThrowIfNull(clock);
        return NextFundingTime(clock.GetUtcNow());
    }

    /// <summary>Number of settlements t with from &lt; t ≤ to.</summary>
    public int CountSettlements(DateTimeOffset fromExclusive, DateTimeOffset toInclusive)
    {
        if (toInclusive < fromExclusive)
        {
            Guard.Fail(nameof(toInclusive), "must not be before the start");
        }

        var count = toInclusive.UtcTicks / IntervalTicks - fromExclusive.UtcTicks / IntervalTicks;
        return checked((int)count);
    }

    // Ticks count from 0001-01-01T00:00Z, a midnight, and a day is a whole number of intervals,
    // so integer division by the interval aligns every settlement to 00:00 UTC.
    private long IntervalTicks
    {
        get
        {
            if (IntervalHours == 0)
            {
                Guard.Fail("fundingSchedule", "must be created with an interval (default is not a schedule)");
            }

            return IntervalHours * TimeSpan.TicksPerHour;
        }
    }
}
