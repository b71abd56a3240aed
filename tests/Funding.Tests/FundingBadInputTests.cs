using Google.Rpc;
using Grpc.Core;
using TradeEngine.Common.V1;
using TradeEngine.Funding.Tests.Support;
using TradeEngine.Funding.V1;
using TradeEngine.Testing.Servers;

namespace TradeEngine.Funding.Tests;

/// <summary>Bad input is INVALID_ARGUMENT naming the field, over loopback gRPC, and nothing is posted.</summary>
[Collection(ServerCollection.Name)]
public sealed class FundingBadInputTests(PostgresServer postgres, RabbitMqServer rabbit) : IAsyncLifetime
{
    private FundingWorld world = null!;

    public async Task InitializeAsync() => world = await FundingWorld.StartAsync(postgres, rabbit);

    public async Task DisposeAsync() => await world.DisposeAsync();

    [Theory]
    [InlineData("NOSUCHUSDT")]
    [InlineData("btcusdt")]
    [InlineData("")]
    public async Task GetCurrentRate_UnknownSymbol_InvalidArgumentNamingSymbol(string symbol)
    {
        var ex = await Assert.ThrowsAsync<RpcException>(() => world.Funding.GetCurrentRateAsync(new GetCurrentRateRequest { Symbol = symbol }).ResponseAsync);

        AssertField(ex, "symbol");
    }

    /// <summary>
    /// Funding started without the venue's API key: its answers are FAILED_PRECONDITION naming the settings, not
    /// INVALID_ARGUMENT blaming the caller's request (the instrument catalog reads a signed endpoint).
    /// </summary>
    [Fact]
    public async Task GetCurrentRate_ServiceWithoutApiKey_FailedPreconditionNotTheCallersFault()
    {
        await using var keyless = await FundingWorld.StartAsync(postgres, rabbit, funding: new Dictionary<string, string?>
        {
            ["Binance:ApiKey"] = "", ["Binance:ApiSecret"] = "",
        });

        var ex = await Assert.ThrowsAsync<RpcException>(() => keyless.Funding.GetCurrentRateAsync(new GetCurrentRateRequest { Symbol = "BTCUSDT" }).ResponseAsync);

        Assert.Equal(StatusCode.FailedPrecondition, ex.StatusCode);
        Assert.Contains("Binance:ApiKey", ex.Status.Detail, StringComparison.Ordinal);
    }

    /// <summary>The venue refuses Funding's key (-2015): FAILED_PRECONDITION too, not UNAVAILABLE, which a caller retries.</summary>
    [Fact]
    public async Task GetCurrentRate_VenueRefusesTheServicesKey_FailedPrecondition()
    {
        await using var refused = await FundingWorld.StartAsync(postgres, rabbit, startFunding: false);
        await refused.Paper.InjectFaultAsync(PaperExchange.Control.FaultKind.Reject, "/fapi/v1/leverageBracket", count: 10, status: 401, code: -2015);
        await refused.StartFundingAsync();

        var ex = await Assert.ThrowsAsync<RpcException>(() => refused.Funding.GetCurrentRateAsync(new GetCurrentRateRequest { Symbol = "BTCUSDT" }).ResponseAsync);

        Assert.Equal(StatusCode.FailedPrecondition, ex.StatusCode);
        Assert.Contains("refused this service's API key", ex.Status.Detail, StringComparison.Ordinal);
    }

    /// <summary>
    /// One malformed fundingInfo entry (SOLUSDT's cap of 2, outside (-1, 1)) leaves that symbol out of the instrument
    /// catalog, and every other symbol is served. Before, the whole list failed to parse, and with it the catalog: every
    /// Funding request answered UNAVAILABLE until the venue mended the one entry.
    /// </summary>
    [Fact]
    public async Task GetCurrentRate_OneMalformedFundingInfoEntry_OnlyThatSymbolIsLeftOut()
    {
        await using var badEntry = await FundingWorld.StartAsync(postgres, rabbit, rewriteVenueAnswer: (path, body) =>
            path.EndsWith("/fapi/v1/fundingInfo", StringComparison.Ordinal)
                ? System.Text.RegularExpressions.Regex.Replace(body,
                    "(\"symbol\":\"SOLUSDT\",\"adjustedFundingRateCap\":)\"[^\"]*\"", "$1\"2.00000000\"")
                : body);

        var btc = await badEntry.Funding.GetCurrentRateAsync(new GetCurrentRateRequest { Symbol = "BTCUSDT" });
        var sol = await Assert.ThrowsAsync<RpcException>(() => badEntry.Funding.GetCurrentRateAsync(new GetCurrentRateRequest { Symbol = "SOLUSDT" }).ResponseAsync);

        Assert.Equal("BTCUSDT", btc.Symbol);
        Assert.Equal(8, btc.FundingIntervalHours);
        Assert.Equal(StatusCode.InvalidArgument, sol.StatusCode);
        Assert.Contains("SOLUSDT", sol.Status.Detail, StringComparison.Ordinal);
    }

    /// <summary>
    /// The venue answers premiumIndex with a mark price of 0: UNAVAILABLE (the venue could not answer), not
    /// INVALID_ARGUMENT naming a price the caller never sent. Before, the client passed the 0 on and the estimate was
    /// refused with "price: must be greater than 0".
    /// </summary>
    [Fact]
    public async Task EstimateDailyCost_VenueMarkPriceZero_UnavailableNotInvalidArgument()
    {
        await using var zeroMark = await FundingWorld.StartAsync(postgres, rabbit, rewriteVenueAnswer: (path, body) =>
            path.EndsWith("/fapi/v1/premiumIndex", StringComparison.Ordinal)
                ? System.Text.RegularExpressions.Regex.Replace(body, "\"markPrice\":\"[^\"]*\"", "\"markPrice\":\"0.00000000\"")
                : body);

        var ex = await Assert.ThrowsAsync<RpcException>(() => zeroMark.Funding.EstimateDailyCostAsync(new EstimateDailyCostRequest
        {
            Symbol = "BTCUSDT", Side = Side.Long, Quantity = "0.1",
        }).ResponseAsync);

        Assert.Equal(StatusCode.Unavailable, ex.StatusCode);
        Assert.Contains("venue could not answer", ex.Status.Detail, StringComparison.Ordinal);
        Assert.DoesNotContain("price", ex.Status.Detail, StringComparison.Ordinal);
    }

    /// <summary>
    /// The venue holds premiumIndex past the rate load's own 15 s: UNAVAILABLE, which a caller retries. Before, the
    /// load's cancellation reached the caller as INTERNAL ("Internal error"), though its own deadline had not passed.
    /// </summary>
    [Fact]
    public async Task GetCurrentRate_VenueSlowerThanTheLoadsTimeout_UnavailableNotInternal()
    {
        await world.Funding.GetCurrentRateAsync(new GetCurrentRateRequest { Symbol = "BTCUSDT" }); // the catalog, read once
        await world.Paper.InjectFaultAsync(PaperExchange.Control.FaultKind.Latency, "/fapi/v1/premiumIndex", count: 3, latencyMs: 20_000);

        var ex = await Assert.ThrowsAsync<RpcException>(() => world.Funding.GetCurrentRateAsync(
            new GetCurrentRateRequest { Symbol = "ETHUSDT" }, deadline: DateTime.UtcNow.AddSeconds(60)).ResponseAsync);

        Assert.Equal(StatusCode.Unavailable, ex.StatusCode);
        Assert.Contains("did not answer in time", ex.Status.Detail, StringComparison.Ordinal);
    }

    /// <summary>
    /// The venue answers a rate read 429 with a Retry-After longer than the client waits: nothing is sent again, and the
    /// caller hears RESOURCE_EXHAUSTED with the delay (google.rpc.RetryInfo), not an UNAVAILABLE its client would retry at
    /// once into the same refusal.
    /// </summary>
    [Fact]
    public async Task GetCurrentRate_VenueRateLimitBacksOffLongerThanTheClientWaits_ResourceExhaustedWithTheDelay()
    {
        await world.Funding.GetCurrentRateAsync(new GetCurrentRateRequest { Symbol = "BTCUSDT" }); // the catalog, read once
        var before = await world.Paper.RequestCountAsync("GET /fapi/v1/premiumIndex");
        await world.Paper.InjectFaultAsync(PaperExchange.Control.FaultKind.RateLimit, "/fapi/v1/premiumIndex", retryAfterSeconds: 120);

        var ex = await Assert.ThrowsAsync<RpcException>(() => world.Funding.GetCurrentRateAsync(
            new GetCurrentRateRequest { Symbol = "ETHUSDT" }, deadline: DateTime.UtcNow.AddSeconds(30)).ResponseAsync);

        Assert.Equal(StatusCode.ResourceExhausted, ex.StatusCode);
        Assert.Contains("rate limit holds this read back (nothing was sent); retry after", ex.Status.Detail, StringComparison.Ordinal);
        Assert.InRange(ServiceDefaults.Grpc.GrpcStatuses.RetryDelay(ex)!.Value, TimeSpan.FromSeconds(100), TimeSpan.FromSeconds(120));
        Assert.Equal(before + 1, await world.Paper.RequestCountAsync("GET /fapi/v1/premiumIndex"));
    }

    [Fact]
    public async Task EstimateCost_UnknownSymbol_InvalidArgumentNamingSymbol()
    {
        var ex = await Assert.ThrowsAsync<RpcException>(() => world.Funding.EstimateCostAsync(new EstimateCostRequest
        {
            Symbol = "NOSUCHUSDT", Side = Side.Long, Quantity = "1", Price = "1", FundingRate = "0.0001", Settlements = 1,
        }).ResponseAsync);

        AssertField(ex, "symbol");
    }

    [Fact]
    public async Task GetFundingHistory_EndBeforeStart_InvalidArgumentNamingRangeEnd()
    {
        var ex = await Assert.ThrowsAsync<RpcException>(() => world.Funding.GetFundingHistoryAsync(new GetFundingHistoryRequest
        {
            Symbol = "BTCUSDT",
            Range = new TimeRange
            {
                Start = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(FundingWorld.Start),
                End = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(FundingWorld.Start.AddHours(-1)),
            },
        }).ResponseAsync);

        AssertField(ex, "range.end");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(1001)]
    [InlineData(1_000_000)]
    public async Task GetFundingHistory_PageSizeOutOfRange_InvalidArgumentNamingPageSize(int size)
    {
        var ex = await Assert.ThrowsAsync<RpcException>(() => world.Funding.GetFundingHistoryAsync(new GetFundingHistoryRequest
        {
            Symbol = "BTCUSDT",
            Range = new TimeRange
            {
                Start = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(FundingWorld.Start),
                End = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(FundingWorld.Start.AddHours(8)),
            },
            Page = new PageRequest { PageSize = size },
        }).ResponseAsync);

        AssertField(ex, "page.page_size");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(8785)]
    [InlineData(-1)]
    public async Task EstimateCost_HorizonOutOfRange_InvalidArgumentNamingHorizonHours(int hours)
    {
        var ex = await Assert.ThrowsAsync<RpcException>(() => world.Funding.EstimateCostAsync(new EstimateCostRequest
        {
            Symbol = "BTCUSDT", Side = Side.Long, Quantity = "1", HorizonHours = hours,
        }).ResponseAsync);

        AssertField(ex, "horizon_hours");
    }

    [Fact]
    public async Task EstimateCost_NoHorizon_InvalidArgumentNamingHorizon()
    {
        var ex = await Assert.ThrowsAsync<RpcException>(() => world.Funding.EstimateCostAsync(new EstimateCostRequest
        {
            Symbol = "BTCUSDT", Side = Side.Long, Quantity = "1",
        }).ResponseAsync);

        AssertField(ex, "horizon");
    }

    [Theory]
    [InlineData("0", "quantity")]
    [InlineData("1e5", "quantity")]
    [InlineData("-1", "quantity")]
    [InlineData("99999999999999999999", "quantity")] // x the mark overflows decimal: a named refusal, not INTERNAL
    [InlineData("100000000000000", "quantity")] // 1e14 BTC at ~60,000: over the 1e15 USDT bound
    public async Task EstimateDailyCost_BadQuantity_InvalidArgumentNamingQuantity(string quantity, string field)
    {
        var ex = await Assert.ThrowsAsync<RpcException>(() => world.Funding.EstimateDailyCostAsync(new EstimateDailyCostRequest
        {
            Symbol = "BTCUSDT", Side = Side.Long, Quantity = quantity,
        }).ResponseAsync);

        AssertField(ex, field);
    }

    [Fact]
    public async Task EstimateCost_QuantityTimesPriceOverflows_InvalidArgumentNamingQuantity()
    {
        var ex = await Assert.ThrowsAsync<RpcException>(() => world.Funding.EstimateCostAsync(new EstimateCostRequest
        {
            Symbol = "BTCUSDT", Side = Side.Long, Quantity = "99999999999999999999", Price = "100000000000", Settlements = 1,
        }).ResponseAsync);

        AssertField(ex, "quantity");
    }

    [Fact]
    public async Task EstimateCost_UnspecifiedSide_InvalidArgumentNamingSide()
    {
        var ex = await Assert.ThrowsAsync<RpcException>(() => world.Funding.EstimateCostAsync(new EstimateCostRequest
        {
            Symbol = "BTCUSDT", Quantity = "1", Settlements = 1,
        }).ResponseAsync);

        AssertField(ex, "side");
        Assert.Equal(0, await world.CountAsync("SELECT count(*) FROM funding_events"));
    }

    private static void AssertField(RpcException ex, string field)
    {
        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
        Assert.Contains(ex.GetRpcStatus()!.GetDetail<BadRequest>().FieldViolations, v => v.Field == field);
    }
}
