using Google.Rpc;
using Grpc.Core;
using TradeEngine.Risk.Tests.Support;
using TradeEngine.Risk.V1;
using TradeEngine.Testing.Servers;
using TradeEngine.Testing.Venue;

namespace TradeEngine.Risk.Tests;

/// <summary>
/// Every limit Risk judges is a USDT figure: an order on a contract the venue lists as margined in another asset, or on
/// a contract that is not a perpetual, is refused as input (naming the order's symbol), not judged as a USDT perpetual.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class ContractKindTests(PostgresServer postgres, RabbitMqServer rabbit)
{
    [Fact]
    public async Task CheckPreTrade_OnAUsdcMarginedSymbol_InvalidArgumentNamingTheSymbol_AUsdtPerpetualStillJudged()
    {
        await using var world = await RiskWorld.StartAsync(postgres, rabbit,
            riskServices: s => VenueProxy.Install(s, venue => VenueProxy.Wrap(venue, VenueProxy.ListingAs("ETHUSDT", "USDC"))));

        var refused = await Assert.ThrowsAsync<RpcException>(() => world.Risk.CheckPreTradeAsync(new CheckPreTradeRequest
        {
            Order = RiskWorld.Order("0.1", price: "3000", symbol: "ETHUSDT"), Account = RiskWorld.Account(10_000m),
        }).ResponseAsync);
        var check = await world.Risk.CheckPreTradeAsync(new CheckPreTradeRequest { Order = RiskWorld.Order("0.01"), Account = RiskWorld.Account(10_000m) });

        Assert.Equal(StatusCode.InvalidArgument, refused.StatusCode);
        var violation = Assert.Single(refused.GetRpcStatus()!.GetDetail<BadRequest>().FieldViolations);
        Assert.Equal("order.symbol", violation.Field);
        Assert.Contains("margined in USDC", violation.Description, StringComparison.Ordinal);
        Assert.True(check.Allowed, string.Join("; ", check.Reasons.Select(r => r.Code + ": " + r.Message)));
    }

    /// <summary>
    /// A contract the venue is settling takes no order that opens or adds: a check on it is FAILED_PRECONDITION naming
    /// the order's symbol and the status, and a BTCUSDT check beside it is judged. Before, it was allowed.
    /// </summary>
    [Fact]
    public async Task CheckPreTrade_OnASymbolTheVenueIsSettling_FailedPreconditionNamingTheStatus()
    {
        await using var paper = await TradeEngine.Testing.Paper.PaperExchangeHost.StartAsync();
        await paper.SetStatusAsync("ETHUSDT", "SETTLING");
        await using var world = await RiskWorld.StartAsync(postgres, rabbit, paper: paper);

        var refused = await Assert.ThrowsAsync<RpcException>(() => world.Risk.CheckPreTradeAsync(new CheckPreTradeRequest
        {
            Order = RiskWorld.Order("0.1", price: "3000", symbol: "ETHUSDT"), Account = RiskWorld.Account(10_000m),
        }).ResponseAsync);
        var check = await world.Risk.CheckPreTradeAsync(new CheckPreTradeRequest { Order = RiskWorld.Order("0.01"), Account = RiskWorld.Account(10_000m) });

        Assert.Equal(StatusCode.FailedPrecondition, refused.StatusCode);
        Assert.StartsWith("order.symbol: ETHUSDT is not open for trading at the venue (status SETTLING)", refused.Status.Detail, StringComparison.Ordinal);
        Assert.True(check.Allowed, string.Join("; ", check.Reasons.Select(r => r.Code + ": " + r.Message)));
    }
}
