using System.Diagnostics;
using TradeEngine.Binance.Errors;
using TradeEngine.Binance.Models;
using TradeEngine.Domain;
using TradeEngine.PaperExchange.Control;

namespace TradeEngine.Binance.Tests.Client;

/// <summary>
/// Several of our services share one IP's limits at the venue. A request's share follows its priority: background work
/// (<see cref="BinanceOptions.BackgroundRateLimitUsage"/>, 0.6) stops first, a request someone waits on
/// (<see cref="BinanceOptions.RateLimitUsage"/>, 0.9) next, and an urgent one (a close, the margin monitor's read) only at
/// the venue's limit itself; a new order (weight 0) is never held back by the IP's weight;
/// and the funding routes (fundingRate, fundingInfo) count against their own limit of 500 per 5 minutes, not the weight.
/// The simulator enforces its limits here, on a clock started 5 s into a 5-minute window so no window ends during a test.
/// </summary>
public sealed class RateLimitPriorityTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Start = new(2026, 3, 2, 12, 0, 5, TimeSpan.Zero);
    private PaperExchangeHost _paper = null!;

    public async Task InitializeAsync() => _paper = await PaperExchangeHost.StartAsync(
        new Dictionary<string, string?>
        {
            ["Paper:EnforceRateLimits"] = "true",
            ["Paper:RequestWeightLimitPerMinute"] = "100",
            ["Paper:FundingRouteLimitPer5Minutes"] = "10",
        },
        Start);

    public async Task DisposeAsync() => await _paper.DisposeAsync();

    [Fact]
    public async Task Reads_EachPriorityStopsAtItsShare_UrgentOnlyAtTheLimitAndOrdersPastTheWholeBudget()
    {
        var client = _paper.CreateClient(o => (o.RateLimitUsage, o.BackgroundRateLimitUsage) = (0.9, 0.6));
        await client.GetExchangeInfoAsync();
        // A first order: the client's clock sync and symbol rules are read (weighted reads) before the weight runs out.
        await client.PlaceOrderAsync(new NewOrder("BTCUSDT", OrderSide.Buy, OrderType.Market, 0.010m), "tier-order-0");

        // Background reads (a poller's) go until the IP's weight reaches their 60 of 100; the next waits for the next minute.
        using (VenueRequestPriority.Enter(VenuePriority.Background))
        {
            Assert.InRange(await ReadUntilHeldAsync(client), 45, 60);
        }

        Assert.InRange(await UsedWeightAsync(), 59, 63);

        // Reads someone waits on (normal) read on to 90 of 100, and then are held too.
        Assert.InRange(await ReadUntilHeldAsync(client), 25, 32);
        Assert.InRange(await UsedWeightAsync(), 89, 93);

        // Another process on the IP reads on past the client's share (to 96 of 100). A new order weighs 0 on the IP's
        // weight (the venue counts it on the order counts only): orders still go at once, the first one's answer telling
        // the client the IP is past its budget, and the second going all the same.
        for (var i = 0; i < 5; i++)
        {
            using var other = await _paper.Http.GetAsync("fapi/v1/time");
            other.EnsureSuccessStatusCode();
        }

        foreach (var (side, id) in new[] { (OrderSide.Sell, "tier-order-1"), (OrderSide.Buy, "tier-order-2") })
        {
            var placed = await client.PlaceOrderAsync(new NewOrder("BTCUSDT", side, OrderType.Market, 0.010m), id)
                .WaitAsync(TimeSpan.FromSeconds(5));
            Assert.Equal((OrderStatus.Filled, 0.010m), (placed.Order.Status, placed.Order.ExecutedQty));
        }

        // Urgent reads (a close's, the margin monitor's) go on to the limit itself, and stop there rather than be refused.
        using (VenueRequestPriority.Enter(VenuePriority.Urgent))
        {
            Assert.InRange(await ReadUntilHeldAsync(client), 2, 5);
        }

        // This look costs 1 itself: the IP is now one past its limit (the venue refuses it, and says so in the header).
        Assert.InRange(await UsedWeightAsync(), 101, 102);
    }

    [Fact]
    public async Task FundingRoutes_ShareUsedUp_RefusedWithoutSendingWhileWeightedReadsGoOn()
    {
        var client = _paper.CreateClient(o => (o.FundingRouteLimit, o.RateLimitUsage) = (10, 0.5));
        await client.GetExchangeInfoAsync();
        await client.GetPositionsAsync("BTCUSDT"); // a signed read: the client's clock is the venue's (5 s into the window)
        var weightBefore = await UsedWeightAsync();

        for (var i = 0; i < 5; i++)
        {
            await client.GetFundingInfoAsync();
        }

        // Its share (5 of 10) is used up for the rest of the 5-minute window: refused at once, nothing sent.
        var refused = await Assert.ThrowsAsync<BinanceRateLimitException>(() => client.GetFundingInfoAsync().WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.Equal(429, refused.HttpStatus);
        Assert.Contains("share of the funding routes' limit (5 of 10 requests per 5 minutes, normal priority)", refused.Message, StringComparison.Ordinal);
        Assert.Equal(5, await _paper.RequestCountAsync("GET /fapi/v1/fundingInfo"));

        // The funding routes weigh nothing on the IP's weight, and a weighted read is not held back by their limit.
        Assert.Equal(weightBefore + 1, await UsedWeightAsync());
        await client.GetPremiumIndexAsync("BTCUSDT").WaitAsync(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task FundingRoutes_VenueAnswers429_OnlyTheFundingRoutesAreHeldBack()
    {
        // Another process on the IP used the funding routes' limit: this client (its own count far below) gets the 429.
        var client = _paper.CreateClient(o => o.MaxRetryAfterWait = TimeSpan.FromSeconds(5));
        await client.GetExchangeInfoAsync();
        for (var i = 0; i < 10; i++)
        {
            using var other = await _paper.Http.GetAsync("fapi/v1/fundingInfo");
            other.EnsureSuccessStatusCode();
        }

        await Assert.ThrowsAsync<BinanceRateLimitException>(() => client.GetFundingRateHistoryAsync(new FundingRateQuery("BTCUSDT", null, null, 10)));

        // The 429 held back the funding routes (Retry-After: the window's end, past the client's wait) and nothing else.
        Assert.Equal(DateTimeOffset.MinValue, client.RateLimitedUntil);
        await client.GetPremiumIndexAsync("BTCUSDT").WaitAsync(TimeSpan.FromSeconds(5));
        await Assert.ThrowsAsync<BinanceRateLimitException>(() => client.GetFundingInfoAsync().WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.Equal(10, await _paper.RequestCountAsync("GET /fapi/v1/fundingInfo"));
    }

    [Fact]
    public async Task FundingRoutes_429WithTheIpWeightOverItsLimit_EveryRequestBacksOff()
    {
        var client = _paper.CreateClient(o => o.MaxRetryAfterWait = TimeSpan.FromSeconds(5));
        await client.GetExchangeInfoAsync();
        // Another process on the IP goes past the weight's limit (100): the venue refuses every request, weightless too.
        while (await UsedWeightAsync() <= 100)
        {
        }

        await Assert.ThrowsAsync<BinanceRateLimitException>(() => client.GetFundingInfoAsync());

        // The venue reported the weight over its limit: not the funding routes' own limit, so everything backs off.
        Assert.True(client.RateLimitedUntil > DateTimeOffset.UtcNow);
        await Assert.ThrowsAsync<BinanceRateLimitException>(() => client.GetPremiumIndexAsync("BTCUSDT").WaitAsync(TimeSpan.FromSeconds(5)));
    }

    /// <summary>
    /// A leverage change (not an order: the transport retries it once after an unknown outcome) is applied, but its answer
    /// is lost (a 503 after the venue executed it). The answer still tells the client the IP's weight, now at the client's
    /// share (90 of 100, another process having read the rest), and under the 2 s hold limit the retry would wait for the
    /// next minute: it is refused, not sent. The caller must hear that the change's outcome is unknown (it was in fact
    /// applied), not the "not sent" refusal of the retry alone, which says nothing was done.
    /// </summary>
    [Fact]
    public async Task ChangeLeverage_OutcomeUnknownThenItsRetryRefusedForTheShare_UnavailableWithTheOutcomeUnknown_NotANotSentRefusal()
    {
        var client = _paper.CreateClient(o => o.RateLimitUsage = 0.9);
        await client.GetExchangeInfoAsync();
        // The clock sync and the symbol's brackets (a leverage change reads them first) while the weight is low.
        await client.ChangeLeverageAsync("BTCUSDT", 5);

        // Another process on the IP reads to one below the client's share: the client has not seen that weight yet.
        while (await UsedWeightAsync() < 89)
        {
        }

        await _paper.InjectFaultAsync(FaultKind.UnknownAfterExecute, "/fapi/v1/leverage");
        var started = Stopwatch.StartNew();
        BinanceUnavailableException refused;
        using (VenueHoldLimit.Enter(TimeSpan.FromSeconds(2)))
        {
            refused = await Assert.ThrowsAsync<BinanceUnavailableException>(
                () => client.ChangeLeverageAsync("BTCUSDT", 7).WaitAsync(TimeSpan.FromSeconds(20)));
        }

        Assert.Contains("the first attempt's outcome is unknown and its retry was refused", refused.Message, StringComparison.Ordinal);
        var retry = Assert.IsType<BinanceRateLimitException>(refused.InnerException);
        Assert.Contains("not sent: this client's normal share of the weight limit is used up", retry.Message, StringComparison.Ordinal);
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(5), $"refused at once, not after the wait ({started.Elapsed})");

        // One copy reached the venue, the first: it applied the leverage the caller was told may have been applied.
        Assert.Equal(2, await _paper.RequestCountAsync("POST /fapi/v1/leverage"));
        using (VenueRequestPriority.Enter(VenuePriority.Urgent))
        {
            Assert.Equal(7, Assert.Single(await client.GetPositionsAsync("BTCUSDT")).Leverage);
        }
    }

    /// <summary>
    /// The twin of the test above at the clock sync: a leverage change is applied and its answer lost (a 503 after the venue
    /// executed it); its retry is refused on timing alone (-1021), so the client re-syncs its clock first, and the venue's
    /// rate limit refuses that sync (429, two minutes). The caller must hear that the change's outcome is unknown (it was
    /// applied), not the sync's "rate limited", which a caller reads as nothing done.
    /// </summary>
    [Fact]
    public async Task ChangeLeverage_OutcomeUnknownThenTheRetrysClockSyncRefused_UnavailableWithTheOutcomeUnknown_NotARateLimit()
    {
        var client = _paper.CreateClient();
        await client.GetExchangeInfoAsync();
        // The clock sync and the symbol's brackets (a leverage change reads them first).
        await client.ChangeLeverageAsync("BTCUSDT", 5);
        var syncs = await _paper.RequestCountAsync("GET /fapi/v1/time");

        await _paper.InjectFaultAsync(FaultKind.UnknownAfterExecute, "/fapi/v1/leverage");
        await _paper.InjectFaultAsync(FaultKind.Timestamp, "/fapi/v1/leverage");
        await _paper.InjectFaultAsync(FaultKind.RateLimit, "/fapi/v1/time", retryAfterSeconds: 120);
        var refused = await Assert.ThrowsAsync<BinanceUnavailableException>(
            () => client.ChangeLeverageAsync("BTCUSDT", 7).WaitAsync(TimeSpan.FromSeconds(20)));

        Assert.Contains("the first attempt's outcome is unknown and its retry was refused", refused.Message, StringComparison.Ordinal);
        Assert.IsType<BinanceRateLimitException>(refused.InnerException);
        // The change and its retry reached the venue (the retry refused there for its timestamp), then the sync was tried once.
        Assert.Equal(3, await _paper.RequestCountAsync("POST /fapi/v1/leverage"));
        Assert.Equal(syncs + 1, await _paper.RequestCountAsync("GET /fapi/v1/time"));
        await _paper.ClearFaultsAsync();
        using (VenueRequestPriority.Enter(VenuePriority.Urgent))
        {
            Assert.Equal(7, Assert.Single(await _paper.CreateClient().GetPositionsAsync("BTCUSDT")).Leverage);
        }
    }

    /// <summary>
    /// Reads (weight 1 each) until one is held back for more than 6 seconds (a held read waits for the minute's end, some
    /// 40 s away; a loaded machine's slowest read is far below 6 s); returns how many went.
    /// </summary>
    private static async Task<int> ReadUntilHeldAsync(BinanceClient client)
    {
        for (var reads = 0; reads < 200; reads++)
        {
            using var cts = new CancellationTokenSource();
            var read = client.GetPremiumIndexAsync("BTCUSDT", cts.Token);
            if (await Task.WhenAny(read, Task.Delay(TimeSpan.FromSeconds(6))) != read)
            {
                await cts.CancelAsync();
                await Assert.ThrowsAnyAsync<OperationCanceledException>(() => read);
                return reads;
            }

            await read;
        }

        throw new Xunit.Sdk.XunitException("200 reads went without being held back.");
    }

    /// <summary>
    /// The IP's weight used this minute as the venue reports it, read from GET time (which costs 1 itself; a client's
    /// own clock sync in the background may have added 1 or 2).
    /// </summary>
    private async Task<int> UsedWeightAsync()
    {
        using var response = await _paper.Http.GetAsync("fapi/v1/time");
        return int.Parse(response.Headers.GetValues("X-MBX-USED-WEIGHT-1M").Single(), System.Globalization.CultureInfo.InvariantCulture);
    }
}
