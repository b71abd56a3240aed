using Grpc.Core;
using Grpc.Core.Interceptors;
using TradeEngine.Demo;
using TradeEngine.Execution.Tests.Support;
using TradeEngine.Execution.V1;
using TradeEngine.Funding.V1;
using TradeEngine.Risk.V1;
using TradeEngine.Testing.Servers;

namespace TradeEngine.Execution.Tests;

/// <summary>The demo against the real services: it leaves no position behind, whatever fails after its open.</summary>
[Collection(StackCollection.Name)]
public sealed class DemoTests(PostgresServer postgres, RabbitMqServer rabbit)
{
    /// <summary>
    /// Risk's margin check fails after the demo opened: the demo closes the position, then reports the failure (it throws,
    /// so the process ends with an error). Before, it stopped there and left the position open on the simulator, whose
    /// state outlives the run: the next run's close (by symbol) closed both and reported the sum as its own PnL.
    /// </summary>
    [Fact]
    public async Task Demo_StepAfterTheOpenFails_ClosesThePositionAndReportsTheFailure()
    {
        await using var stack = await ExecutionStack.StartAsync(postgres, rabbit);
        var demo = new PerpetualFuturesDemo(
            new ExecutionService.ExecutionServiceClient(stack.ExecutionHost.Channel),
            new FundingService.FundingServiceClient(stack.FundingHost.Channel),
            new RiskService.RiskServiceClient(stack.RiskHost.Channel.Intercept(new FailingMarginHealth())));
        using var output = new StringWriter();

        var failure = await Assert.ThrowsAsync<RpcException>(() => demo.RunAsync(output, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(90)));

        Assert.Equal(StatusCode.Internal, failure.StatusCode);
        Assert.Contains("closing the position before stopping", output.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("Demo complete!", output.ToString(), StringComparison.Ordinal);
        Assert.Single(await stack.Paper.OrdersAsync(), o => o.ClientOrderId.StartsWith("demo-open-", StringComparison.Ordinal));
        Assert.Single(await stack.Paper.OrdersAsync(), o => o.ClientOrderId.StartsWith("demo-close-", StringComparison.Ordinal) && o.Status == "FILLED");
        Assert.All(await stack.Venue().GetPositionsAsync("BTCUSDT"), p => Assert.Equal(0m, p.PositionAmt));
        Assert.Equal(1, await stack.CountAsync("positions WHERE symbol = 'BTCUSDT' AND status = 'closed' AND exit_reason = 'Demo failed after the open'"));
    }

    /// <summary>Answers GetMarginHealth with INTERNAL; every other call goes through.</summary>
    private sealed class FailingMarginHealth : Interceptor
    {
        public override AsyncUnaryCall<TResponse> AsyncUnaryCall<TRequest, TResponse>(
            TRequest request, ClientInterceptorContext<TRequest, TResponse> context, AsyncUnaryCallContinuation<TRequest, TResponse> continuation) =>
            context.Method.Name == "GetMarginHealth"
                ? throw new RpcException(new Status(StatusCode.Internal, "margin check failed (test)"))
                : continuation(request, context);
    }
}
