using Grpc.Core;
using TradeEngine.Domain;
using TradeEngine.ServiceDefaults.Grpc;

namespace TradeEngine.ServiceDefaults.Tests.Grpc;

/// <summary>
/// A caller under a hold limit waits for shared work no longer than the limit left, and the wait counts against it; the
/// shared work is not cancelled. Without a limit, or with the work done, an ordinary wait.
/// </summary>
public sealed class HoldLimitedWaitTests
{
    [Fact]
    public async Task WaitAsync_WorkOutlastsTheLimit_ResourceExhaustedAfterTheLimitAndTheWorkGoesOn()
    {
        var work = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        TimeSpan? refusedAt = null;
        using var limit = VenueHoldLimit.Enter(TimeSpan.FromMilliseconds(300));

        var refused = await Assert.ThrowsAsync<RpcException>(() =>
            HoldLimitedWait.WaitAsync(work.Task, "The test's shared read", left => refusedAt = left, CancellationToken.None));

        Assert.Equal(StatusCode.ResourceExhausted, refused.StatusCode);
        Assert.Equal("The test's shared read takes longer than this call may wait (0.3 s); not waited for: retry in a moment", refused.Status.Detail);
        Assert.Equal(TimeSpan.FromSeconds(1), GrpcStatuses.RetryDelay(refused));
        Assert.Equal(TimeSpan.FromMilliseconds(300), refusedAt);
        // The wait counted against the limit: nothing is left for a later wait of the call.
        Assert.True(VenueHoldLimit.Current < TimeSpan.FromMilliseconds(50), $"{VenueHoldLimit.Current} left");
        Assert.False(work.Task.IsCanceled);
        work.SetResult("done");
        Assert.Equal("done", await HoldLimitedWait.WaitAsync(work.Task, "The test's shared read", null, CancellationToken.None));
    }

    [Fact]
    public async Task WaitAsync_WorkEndsWithinTheLimit_ItsResultAndTheRestOfTheLimitLeft()
    {
        var work = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var limit = VenueHoldLimit.Enter(TimeSpan.FromSeconds(30));
        _ = Task.Delay(200).ContinueWith(_ => work.SetResult("done"), TaskScheduler.Default);

        Assert.Equal("done", await HoldLimitedWait.WaitAsync(work.Task, "The test's shared read", null, CancellationToken.None));
        Assert.InRange(VenueHoldLimit.Current!.Value, TimeSpan.FromSeconds(1), TimeSpan.FromMilliseconds(29_850));
    }

    [Fact]
    public async Task WaitAsync_NoLimit_WaitsAsLongAsTheWorkTakes()
    {
        Assert.Null(VenueHoldLimit.Current);
        var work = Task.Delay(500).ContinueWith(_ => "done", TaskScheduler.Default);

        Assert.Equal("done", await HoldLimitedWait.WaitAsync(work, "The test's shared read", _ => Assert.Fail("refused"), CancellationToken.None));
    }
}
