using TradeEngine.Domain.Funding;

namespace TradeEngine.Domain.Tests.Funding;

public class FundingScheduleTests
{
    private static DateTimeOffset Utc(int day, int hour, int minute = 0, int second = 0) => new(2026, 1, day, hour, minute, second, TimeSpan.Zero);

    [Theory]
    [InlineData(1, 0, 0, 1, 8)]
    [InlineData(1, 7, 59, 1, 8)]
    [InlineData(1, 8, 0, 1, 16)]
    [InlineData(1, 23, 0, 2, 0)]
    public void NextFundingTime_EightHours_AlignedToMidnightUtc(int day, int hour, int minute, int nextDay, int nextHour) =>
        Assert.Equal(Utc(nextDay, nextHour), new FundingSchedule(8).NextFundingTime(Utc(day, hour, minute)));

    [Fact]
    public void NextFundingTime_FourAndOneHour_UseOwnInterval()
    {
        Assert.Equal(Utc(1, 8), new FundingSchedule(4).NextFundingTime(Utc(1, 5)));
        Assert.Equal(Utc(1, 6), new FundingSchedule(1).NextFundingTime(Utc(1, 5, 30)));
    }

    [Fact]
    public void NextFundingTime_NonUtcOffset_ComparesInstants() =>
        // 09:00 at +02:00 is 07:00 UTC; the next 8 h settlement is 08:00 UTC.
        Assert.Equal(Utc(1, 8), new FundingSchedule(8).NextFundingTime(new DateTimeOffset(2026, 1, 1, 9, 0, 0, TimeSpan.FromHours(2))));

    [Fact]
    public void NextFundingTime_FromTimeProvider_UsesItsClock()
    {
        var clock = new FixedClock(Utc(1, 15, 30));
        Assert.Equal(Utc(1, 16), new FundingSchedule(8).NextFundingTime(clock));
    }

    [Theory]
    [InlineData(8, 3)]
    [InlineData(4, 6)]
    [InlineData(1, 24)]
    public void CountSettlements_OneDayFromMidnight_CountsEndNotStart(int hours, int expected)
    {
        var schedule = new FundingSchedule(hours);
        Assert.Equal(expected, schedule.CountSettlements(Utc(1, 0), Utc(2, 0)));
        Assert.Equal(expected, schedule.SettlementsPerDay);
        Assert.Equal(expected, schedule.SettlementsInHorizon(TimeSpan.FromHours(24)));
    }

    [Fact]
    public void CountSettlements_WithinOneInterval_IsZero() =>
        Assert.Equal(0, new FundingSchedule(8).CountSettlements(Utc(1, 8, 0, 1), Utc(1, 15, 59)));

    [Theory]
    [InlineData(0)]
    [InlineData(5)]
    [InlineData(25)]
    public void Constructor_IntervalNotDividingDay_Throws(int hours) =>
        Assert.Equal("intervalHours", Assert.Throws<DomainException>(() => new FundingSchedule(hours)).Field);

    private sealed class FixedClock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
