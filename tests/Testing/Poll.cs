namespace TradeEngine.Testing;

/// <summary>Waiting in tests for what happens in the background (a consumer, a monitor, a cache refresh).</summary>
public static class Poll
{
    /// <summary>
    /// Polls until <paramref name="condition"/> holds or the timeout (default 30 s) passes, every
    /// <paramref name="interval"/> (default 200 ms); returns the last value.
    /// </summary>
    public static async Task<T> UntilAsync<T>(
        Func<Task<T>> read, Func<T, bool> condition, TimeSpan? timeout = null, TimeSpan? interval = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (true)
        {
            var value = await read();
            if (condition(value) || DateTime.UtcNow > deadline)
            {
                return value;
            }

            await Task.Delay(interval ?? TimeSpan.FromMilliseconds(200));
        }
    }
}
