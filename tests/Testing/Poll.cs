using Grpc.Core;

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

    /// <summary>
    /// Returns once a loop's run counter (<paramref name="runs"/>: a monitor's ticks, an accrual's passes) shows
    /// <paramref name="more"/> whole runs after the call: the run going on now may have started before it, so one more is
    /// waited for. What a test waits on to know a background loop ran, instead of a sleep in which, on a loaded machine, it
    /// may not have. Times out (60 s) as <see cref="UntilAsync{T}"/> does.
    /// </summary>
    public static Task RunsAsync(Func<long> runs, int more)
    {
        ArgumentNullException.ThrowIfNull(runs);
        var target = runs() + more + 1;
        return UntilAsync(() => Task.FromResult(runs()), n => n >= target, TimeSpan.FromSeconds(60));
    }

    /// <summary>
    /// Calls every 100 ms until the answer is not RESOURCE_EXHAUSTED (a wait refused under a hold limit while the shared
    /// work it waited for goes on) and returns it; any other failure is thrown at once, and a timeout (default 10 s) as
    /// <see cref="TimeoutException"/>.
    /// </summary>
    public static async Task<T> UntilNotExhaustedAsync<T>(Func<Task<T>> call, TimeSpan? timeout = null)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(call);
        var answer = await UntilAsync(
            async () =>
            {
                try
                {
                    return await call();
                }
                catch (RpcException e) when (e.StatusCode == StatusCode.ResourceExhausted)
                {
                    return null;
                }
            },
            r => r is not null, timeout ?? TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(100));
        return answer!;
    }
}
