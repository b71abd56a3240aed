using TradeEngine.Ledger.Outbox;

namespace TradeEngine.Ledger.Tests.Outbox;

public sealed class OutboxWakeSignalTests
{
    private static readonly Task Listening = new TaskCompletionSource().Task;

    [Fact]
    public async Task WaitAsync_ManySetsBeforeWait_OneWakeUp()
    {
        var signal = new OutboxWakeSignal();
        for (var i = 0; i < 1000; i++)
        {
            signal.Set();
        }

        var first = Task.Run(() => signal.WaitAsync(Listening, TimeSpan.FromSeconds(30), CancellationToken.None));
        Assert.Same(first, await Task.WhenAny(first, Task.Delay(TimeSpan.FromSeconds(10))));

        // The thousand Sets were one wake-up: the next wait sleeps (its idle time is far off), until the next Set. Before,
        // its idle time was 300 ms and a stalled thread pool could let it pass before the check.
        var second = signal.WaitAsync(Listening, TimeSpan.FromMinutes(5), CancellationToken.None);
        await Task.Delay(100);
        Assert.False(second.IsCompleted);
        signal.Set();
        Assert.Same(second, await Task.WhenAny(second, Task.Delay(TimeSpan.FromSeconds(10))));
        await second;
    }

    [Fact]
    public async Task WaitAsync_SetWhileWaiting_ReturnsBeforeIdleTime()
    {
        var signal = new OutboxWakeSignal();
        var waiting = signal.WaitAsync(Listening, TimeSpan.FromMinutes(5), CancellationToken.None);
        Assert.False(waiting.IsCompleted);

        signal.Set();

        Assert.Same(waiting, await Task.WhenAny(waiting, Task.Delay(TimeSpan.FromSeconds(10))));
        await waiting;
    }

    [Fact]
    public async Task WaitAsync_ListeningConnectionFailed_Throws()
    {
        var signal = new OutboxWakeSignal();
        var failed = Task.FromException(new InvalidOperationException("connection lost"));

        await Assert.ThrowsAsync<InvalidOperationException>(() => signal.WaitAsync(failed, TimeSpan.FromMinutes(5), CancellationToken.None));
    }
}
