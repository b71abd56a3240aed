namespace TradeEngine.Risk.Tests.Support;

/// <summary>The UTC day Risk measures the daily loss in, on the real clock the services share.</summary>
public static class UtcDay
{
    /// <summary>
    /// A test that crossed 00:00 UTC would see the day, and its loss, start again halfway. One that would start within two
    /// minutes of midnight waits until it has passed (no such test runs that long).
    /// </summary>
    public static async Task AwayFromMidnightAsync()
    {
        var now = DateTimeOffset.UtcNow;
        var midnight = new DateTimeOffset(now.UtcDateTime.Date.AddDays(1), TimeSpan.Zero);
        if (midnight - now < TimeSpan.FromMinutes(2))
        {
            await Task.Delay(midnight - now + TimeSpan.FromSeconds(1));
        }
    }
}
