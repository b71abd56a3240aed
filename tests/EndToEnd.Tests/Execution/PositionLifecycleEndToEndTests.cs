using Grpc.Core;
using TradeEngine.Common.V1;
using TradeEngine.EndToEnd.Tests.Telemetry;
using TradeEngine.Execution.V1;

namespace TradeEngine.EndToEnd.Tests.Execution;

/// <summary>Open then close through the whole system started by the AppHost (PaperExchange as the venue).</summary>
[Collection(AppHostCollection.Name)]
public sealed class PositionLifecycleEndToEndTests(AppHostFixture fixture)
{
    private const int ServerKind = 2;

    [Fact]
    public async Task OpenPosition_ThenClosePosition_FillsAtTheVenueAndTheTraceSpansEveryService()
    {
        var client = new ExecutionService.ExecutionServiceClient(fixture.Channel("execution"));
        var id = Guid.NewGuid().ToString("N")[..16];
        var trace = TestTrace.Start();

        var opened = await client.OpenPositionAsync(new OpenPositionRequest
        {
            ClientOrderId = "e2e-open-" + id,
            Symbol = "ETHUSDT",
            Side = Side.Long,
            Quantity = "0.05",
            Leverage = 2,
            MarginType = MarginType.Cross,
            Strategy = "e2e",
        }, trace.Headers);

        Assert.Empty(opened.Denials);
        Assert.NotEmpty(opened.PositionId);
        Assert.NotEmpty(opened.EntryPrice);
        Assert.NotEmpty(opened.LiquidationPrice);
        Assert.NotEmpty(opened.FundingRate);
        var position = await client.GetPositionAsync(new GetPositionRequest { Symbol = "ETHUSDT" });
        Assert.Equal(opened.PositionId, position.PositionId);

        var closed = await client.ClosePositionAsync(new ClosePositionRequest { ClientOrderId = "e2e-close-" + id, Symbol = "ETHUSDT", Reason = "e2e" });

        Assert.Equal(opened.PositionId, closed.PositionId);
        Assert.Equal("0.05", closed.Quantity);
        Assert.NotEmpty(closed.RealizedPnl);
        var gone = await Assert.ThrowsAsync<RpcException>(() => client.GetPositionAsync(new GetPositionRequest { Symbol = "ETHUSDT" }).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, gone.StatusCode);

        // This open's trace (its own trace id, not the demo's open) reaches Risk, Funding and the Ledger from Execution.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var spans = fixture.Traces.Snapshot().Where(s => s.TraceId == trace.TraceId && s.Kind == ServerKind).ToList();
            var services = spans.Select(s => s.ServiceName).ToHashSet();
            if (spans.Any(s => s.ServiceName == "execution" && s.Name.Contains("ExecutionService/OpenPosition", StringComparison.Ordinal))
                && services.IsSupersetOf(["execution", "risk", "funding", "ledger"]))
            {
                break;
            }

            Assert.True(DateTime.UtcNow < deadline, "The open's trace did not reach every service: " + string.Join(", ", services));
            await Task.Delay(200);
        }
    }
}
