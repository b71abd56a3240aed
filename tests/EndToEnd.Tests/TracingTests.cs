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
        var trace = TestTrace.Start();
        var ex = await Assert.ThrowsAsync<RpcException>(() => client.SetLeverageAsync(
            new SetLeverageRequest { IdempotencyKey = "trace-test-1", Symbol = "BTCUSDT", Leverage = 50 }, trace.Headers).ResponseAsync);
        Assert.Equal(StatusCode.FailedPrecondition, ex.StatusCode);

        var (execution, risk) = await WaitForSpans(trace.TraceId, TimeSpan.FromSeconds(30));

        Assert.Equal(execution.TraceId, risk.TraceId);
        Assert.NotEqual(execution.SpanId, risk.SpanId);
    }

    [Fact]
    public async Task SignedVenueRead_ClientAndSimulatorSpans_CarryNoSignature()
    {
        var client = new ExecutionService.ExecutionServiceClient(fixture.Channel("execution"));

        // GET /fapi/v3/account is signed in its query string: timestamp and signature.
        await client.GetAccountAsync(new GetAccountRequest());

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        IReadOnlyList<ReceivedSpan> spans;
        while (true)
        {
            spans = fixture.Traces.Snapshot();
            var sent = spans.Any(s => s.ServiceName == "execution" && s.Attributes.TryGetValue("url.full", out var url) && url.Contains("/fapi/v3/account", StringComparison.Ordinal));
            var received = spans.Any(s => s.ServiceName == "paper-exchange" && s.Attributes.TryGetValue("url.path", out var path) && path == "/fapi/v3/account");
            if (sent && received)
            {
                break;
            }

            Assert.True(DateTime.UtcNow < deadline, "no client and server spans of GET /fapi/v3/account arrived");
            await Task.Delay(200);
        }

        var leaks = spans.SelectMany(s => s.Attributes.Select(a => (s.ServiceName, a.Key, a.Value)))
            .Where(a => System.Text.RegularExpressions.Regex.IsMatch(a.Value, "signature=(?!REDACTED)", System.Text.RegularExpressions.RegexOptions.IgnoreCase))
            .ToList();
        Assert.True(leaks.Count == 0, "signatures in span attributes: " + string.Join("; ", leaks.Take(5)));
        Assert.Contains(spans, s => s.ServiceName == "paper-exchange" && s.Attributes.TryGetValue("url.query", out var q) && q.Contains("signature=REDACTED", StringComparison.Ordinal));
    }

    /// <summary>The Execution and Risk server spans of the test's own trace (<paramref name="traceId"/>).</summary>
    private async Task<(ReceivedSpan Execution, ReceivedSpan Risk)> WaitForSpans(string traceId, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var spans = fixture.Traces.Snapshot();
            var execution = spans.FirstOrDefault(s => s.ServiceName == "execution" && s.Kind == ServerKind && s.TraceId == traceId
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
