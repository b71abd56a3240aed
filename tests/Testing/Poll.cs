namespace TradeEngine.Testing;

/// <summary>Waiting in tests for what happens in the background (a consumer, a monitor, a cache refresh).</summary>
public static class Poll
{
    /// <summary>
    /// Polls until <paramref name="condition"/> holds, every <paramref name="interval"/> (default 200 ms), and returns
    /// the value that met it. Throws <see cref="TimeoutException"/> naming the last value read when the timeout (default
    /// 30 s) passes first: a wait that ran out is a failure where it happened, not a value the caller might not check.
    /// </summary>
    public static async Task<T> UntilAsync<T>(
        Func<Task<T>> read, Func<T, bool> condition, TimeSpan? timeout = null, TimeSpan? interval = null)
    {
        ArgumentNullException.ThrowIfNull(read);
        ArgumentNullException.ThrowIfNull(condition);
        var limit = timeout ?? TimeSpan.FromSeconds(30);
        var deadline = DateTime.UtcNow + limit;
        while (true)
        {
            var value = await read();
            if (condition(value))
            {
                return value;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"The condition waited for did not hold within {limit.TotalSeconds:0.#} s; the last value read: {value}");
            }

            await Task.Delay(interval ?? TimeSpan.FromMilliseconds(200));
        }
    }
}
