namespace TradeEngine.ServiceDefaults.Tests;

public sealed class BackoffTests
{
    [Theory]
    [InlineData(100, 1000, 200)]
    [InlineData(600, 1000, 1000)]
    [InlineData(1000, 1000, 1000)]
    public void Doubled_TwiceTheWaitAtMostTheLongest(int currentMs, int longestMs, int expectedMs) =>
        Assert.Equal(
            TimeSpan.FromMilliseconds(expectedMs),
            Backoff.Doubled(TimeSpan.FromMilliseconds(currentMs), TimeSpan.FromMilliseconds(longestMs)));
}
