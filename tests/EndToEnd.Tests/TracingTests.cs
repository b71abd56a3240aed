using Grpc.Core;
using TradeEngine.EndToEnd.Tests.Telemetry;
using TradeEngine.Execution.V1;

namespace TradeEngine.EndToEnd.Tests;

[Collection(AppHostCollection.Name)]
public sealed class TracingTests(AppHostFixture fixture)
{
    private const int ServerKind = 2;

    [Fact]
    public async Task SetLeverage_ExecutionAsksRisk_SpansInBothServicesShareOneTrace()
    {
        var client = new ExecutionService.ExecutionServiceClient(fixture.Channel("execution"));

        // Leverage 50 is above the default maximum (5): Execution asks Risk, which says no, so no venue call follows.
        var ex = await Assert.ThrowsAsync<RpcException>(() => client.SetLeverageAsync(
            new SetLeverageRequest { IdempotencyKey = "trace-test-1", Symbol = "BTCUSDT", Leverage = 50 }).ResponseAsync);
        Assert.Equal(StatusCode.FailedPrecondition, ex.StatusCode);

        var (execution, risk) = await WaitForSpans(TimeSpan.FromSeconds(30));

        Assert.Equal(execution.TraceId, risk.TraceId);
        Assert.NotEqual(execution.SpanId, risk.SpanId);
    }

    private async Task<(ReceivedSpan Execution, ReceivedSpan Risk)> WaitForSpans(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var spans = fixture.Traces.Snapshot();
            var execution = spans.FirstOrDefault(s => s.ServiceName == "execution" && s.Kind == ServerKind
                && s.Name.Contains("ExecutionService/SetLeverage", StringComparison.Ordinal));
            var risk = execution is null ? null : spans.FirstOrDefault(s => s.ServiceName == "risk" && s.Kind == ServerKind
                && s.TraceId == execution.TraceId && s.Name.Contains("RiskService/ValidateLeverage", StringComparison.Ordinal));
            if (execution is not null && risk is not null)
            {
                return (execution, risk);
            }

            if (DateTime.UtcNow > deadline)
            {
                var seen = string.Join(", ", spans.Select(s => $"{s.ServiceName}:{s.Name}").Distinct().Take(30));
                Assert.Fail($"No execution→risk spans sharing a trace arrived within {timeout}. Seen: {seen}");
            }

            await Task.Delay(200);
        }
    }
}
