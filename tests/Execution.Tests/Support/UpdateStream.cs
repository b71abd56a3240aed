using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using TradeEngine.Execution.Streaming;
using TradeEngine.Execution.V1;

namespace TradeEngine.Execution.Tests.Support;

/// <summary>A StreamPositionUpdates subscriber, for the tests of what a change streams.</summary>
public static class UpdateStream
{
    /// <summary>Opens the stream and waits until Execution holds the subscription (no SNAPSHOT says so when nothing is open).</summary>
    public static async Task<AsyncServerStreamingCall<PositionUpdate>> SubscribeAsync(ExecutionStack stack, CancellationToken ct)
    {
        var hub = stack.ExecutionHost.Services.GetRequiredService<PositionUpdateHub>();
        var call = stack.Execution.StreamPositionUpdates(new StreamPositionUpdatesRequest(), cancellationToken: ct);
        await ExecutionStack.WaitUntilAsync(() => Task.FromResult(hub.SubscriberCount > 0), TimeSpan.FromSeconds(20), "the subscription");
        return call;
    }

    public static async Task<PositionUpdate> NextAsync(AsyncServerStreamingCall<PositionUpdate> call, CancellationToken ct)
    {
        Assert.True(await call.ResponseStream.MoveNext(ct));
        return call.ResponseStream.Current;
    }
}
