using TradeEngine.Testing;

namespace TradeEngine.Ledger.Tests.Support;

/// <summary>The tests' wait for background work: a wait that runs out fails where it waited.</summary>
public sealed class PollTests
{
    [Fact]
    public async Task UntilAsync_ConditionMet_ReturnsTheValueThatMetIt()
    {
        var reads = 0;

        var value = await Poll.UntilAsync(() => Task.FromResult(++reads), n => n >= 3, TimeSpan.FromSeconds(5), TimeSpan.FromMilliseconds(1));

        Assert.Equal(3, value);
    }

    [Fact]
    public async Task UntilAsync_ConditionNeverMet_ThrowsNamingTheLastValue()
    {
        var ex = await Assert.ThrowsAsync<TimeoutException>(() =>
            Poll.UntilAsync(() => Task.FromResult("still waiting"), s => s == "done", TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(10)));

        Assert.Contains("still waiting", ex.Message, StringComparison.Ordinal);
    }
}
