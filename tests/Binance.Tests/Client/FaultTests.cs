using System.Diagnostics;
using TradeEngine.Binance.Errors;
using TradeEngine.Binance.Models;
using TradeEngine.Binance.Tests.Infrastructure;
using TradeEngine.Domain;
using TradeEngine.PaperExchange.Control;

namespace TradeEngine.Binance.Tests.Client;

/// <summary>The client against the simulator's injected faults: never two orders, never hammering, re-sync on -1021.</summary>
public class FaultTests : PaperTest
{
    private const string OrderPath = "/fapi/v1/order";
    private static readonly NewOrder Buy = new("BTCUSDT", OrderSide.Buy, OrderType.Market, 0.010m);

    [Fact]
    public async Task PlaceOrderAsync_503AfterTheOrderWasPlaced_ReturnsThatOrderAndPlacesNoSecond()
    {
        await Client.GetExchangeInfoAsync();
        await Paper.InjectFaultAsync(FaultKind.UnknownAfterExecute, OrderPath);
        var placed = await Client.PlaceOrderAsync(Buy, "unknown-1");
        Assert.True(placed.RecoveredByLookup);
        Assert.Equal(OrderStatus.Filled, placed.Order.Status);
        Assert.Single(await Paper.OrdersAsync("unknown-1"));
        Assert.Equal(0.010m, (await Client.GetPositionsAsync("BTCUSDT")).Single().PositionAmt);
    }

    [Fact]
    public async Task PlaceOrderAsync_ConnectionDroppedAfterPlacement_ExactlyOneOrderExists()
    {
        await Client.GetExchangeInfoAsync();
        await Paper.InjectFaultAsync(FaultKind.DropAfterExecute, OrderPath);
        var placed = await Client.PlaceOrderAsync(Buy, "drop-1");
        Assert.True(placed.RecoveredByLookup);
        Assert.Single(await Paper.OrdersAsync("drop-1"));
        Assert.Equal(1, await Paper.RequestCountAsync("POST " + OrderPath));
    }

    [Fact]
    public async Task PlaceOrderAsync_503BeforePlacementWithResendAllowed_ResendsOnlyAfterTheOriginalExpiredAndPlacesOne()
    {
        var client = Paper.CreateClient(o => ShortWindow(o, maxAttempts: 2));
        await client.GetExchangeInfoAsync();
        await Paper.InjectFaultAsync(FaultKind.Unavailable, OrderPath);
        var watch = Stopwatch.StartNew();
        var placed = await client.PlaceOrderAsync(Buy, "retry-1");
        Assert.Equal((2, false), (placed.Attempts, placed.RecoveredByLookup));
        Assert.True(watch.Elapsed >= TimeSpan.FromMilliseconds(1_300), $"resent after {watch.Elapsed}, before timestamp + recvWindow + margin");
        Assert.Single(await Paper.OrdersAsync("retry-1"));
        Assert.Equal(2, await Paper.RequestCountAsync("POST " + OrderPath));
    }

    [Fact]
    public async Task PlaceOrderAsync_503BeforePlacementByDefault_ReportsNotPlacedWithoutResending()
    {
        var client = Paper.CreateClient(o => ShortWindow(o));
        await client.GetExchangeInfoAsync();
        await Paper.InjectFaultAsync(FaultKind.Unavailable, OrderPath);
        await Assert.ThrowsAsync<BinanceUnavailableException>(() => client.PlaceOrderAsync(Buy, "not-placed-1"));
        Assert.Empty(await Paper.OrdersAsync("not-placed-1"));
        Assert.Equal(1, await Paper.RequestCountAsync("POST " + OrderPath));
    }

    [Fact]
    public async Task PlaceOrderAsync_RequestLostInSlowNetworkBeforeTheVenue_ReportsNotPlacedAndSendsOnce()
    {
        // Latency holds the request in front of the engine; the client times out and the request dies with it.
        var client = Paper.CreateClient(o => ShortWindow(o, timeout: TimeSpan.FromMilliseconds(300)));
        await client.GetExchangeInfoAsync();
        await Paper.InjectFaultAsync(FaultKind.Latency, OrderPath, latencyMs: 2_000);
        await Assert.ThrowsAsync<BinanceUnavailableException>(() => client.PlaceOrderAsync(Buy, "slow-1"));
        Assert.Empty(await Paper.OrdersAsync("slow-1"));
        Assert.Equal(1, await Paper.RequestCountAsync("POST " + OrderPath));
    }

    [Fact]
    public async Task PlaceOrderAsync_UnknownOutcomeAndLookupsFail_ThrowsUnknownOutcomeWithoutResending()
    {
        var client = Paper.CreateClient(o => ShortWindow(o, maxAttempts: 3));
        await client.GetExchangeInfoAsync();
        await Paper.InjectFaultAsync(FaultKind.UnknownAfterExecute, OrderPath);
        await Paper.InjectFaultAsync(FaultKind.Unavailable, OrderPath, count: 1_000);
        var e = await Assert.ThrowsAsync<BinanceUnknownOrderOutcomeException>(() => client.PlaceOrderAsync(Buy, "lost-1"));
        Assert.Equal("lost-1", e.ClientOrderId);
        Assert.Equal(1, await Paper.RequestCountAsync("POST " + OrderPath));
        Assert.Single(await Paper.OrdersAsync("lost-1"));
    }

    [Fact]
    public async Task GetServerTimeAsync_429WithRetryAfterDate_MeasuresTheDateOnTheInjectedClock()
    {
        // The injected clock runs 10 minutes ahead of the machine: a Retry-After date 5 s after the venue's "now" is
        // already past for it, so the client retries at once. Measured on DateTimeOffset.UtcNow it would wait 5 s of
        // fake time that never passes.
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UtcNow.AddMinutes(10));
        var client = Paper.CreateClient(time: time);
        await Paper.InjectFaultAsync(FaultKind.RateLimit, "/fapi/v1/time", retryAfterSeconds: 5, retryAfterAsDate: true);
        await client.GetServerTimeAsync().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(2, await Paper.RequestCountAsync("GET /fapi/v1/time"));
    }

    /// <summary>A short recvWindow, so the wait until an unknown order can no longer execute stays short in tests.</summary>
    internal static void ShortWindow(BinanceOptions o, int maxAttempts = 1, TimeSpan? timeout = null)
    {
        o.RecvWindow = 1_000;
        o.UnknownOutcomeMargin = TimeSpan.FromMilliseconds(300);
        o.MaxOrderAttempts = maxAttempts;
        o.RequestTimeout = timeout ?? o.RequestTimeout;
    }

    [Fact]
    public async Task GetServerTimeAsync_429WithRetryAfter_WaitsThenSucceedsWithoutHammering()
    {
        await Paper.InjectFaultAsync(FaultKind.RateLimit, "/fapi/v1/time", retryAfterSeconds: 1);
        var watch = Stopwatch.StartNew();
        await Client.GetServerTimeAsync();
        Assert.True(watch.Elapsed >= TimeSpan.FromMilliseconds(950), $"waited only {watch.Elapsed}");
        Assert.Equal(2, await Paper.RequestCountAsync("GET /fapi/v1/time"));
    }

    /// <summary>
    /// Under a hold limit (an open's reads under its symbol's lock wait 2 s at most), a 429 whose Retry-After is past the
    /// limit is not retried: the caller gets the venue's 429 at once, and only that one request reached the venue. One
    /// whose Retry-After is within the limit is waited out and sent again, as without a limit.
    /// </summary>
    [Theory]
    [InlineData(5, false)]
    [InlineData(1, true)]
    public async Task GetServerTimeAsync_429UnderAHoldLimit_RetriedOnlyWhenRetryAfterIsWithinTheLimit(int retryAfterSeconds, bool retried)
    {
        await Paper.InjectFaultAsync(FaultKind.RateLimit, "/fapi/v1/time", retryAfterSeconds: retryAfterSeconds);
        var watch = Stopwatch.StartNew();
        Exception? refused;
        using (VenueHoldLimit.Enter(TimeSpan.FromSeconds(2)))
        {
            refused = await Record.ExceptionAsync(() => Client.GetServerTimeAsync().WaitAsync(TimeSpan.FromSeconds(20)));
        }

        if (retried)
        {
            Assert.Null(refused);
            Assert.True(watch.Elapsed >= TimeSpan.FromMilliseconds(950), $"waited only {watch.Elapsed}");
            Assert.Equal(2, await Paper.RequestCountAsync("GET /fapi/v1/time"));
            return;
        }

        // The venue's own answer, not a second pass through the back-off that the hold limit refuses ("not sent: backing off").
        var e = Assert.IsType<BinanceRateLimitException>(refused);
        Assert.Equal(429, e.HttpStatus);
        Assert.Contains("fapi/v1/time answered HTTP 429;", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("not sent", e.Message, StringComparison.Ordinal);
        Assert.InRange(e.RetryAt - DateTimeOffset.UtcNow, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(5));
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(2), $"refused at once, not after the wait ({watch.Elapsed})");
        Assert.Equal(1, await Paper.RequestCountAsync("GET /fapi/v1/time"));
    }

    [Fact]
    public async Task PlaceOrderAsync_429_WaitsRetryAfterAndPlacesExactlyOnce()
    {
        await Client.GetExchangeInfoAsync();
        await Paper.InjectFaultAsync(FaultKind.RateLimit, OrderPath, retryAfterSeconds: 1);
        var watch = Stopwatch.StartNew();
        var placed = await Client.PlaceOrderAsync(Buy, "after-429");
        Assert.True(watch.Elapsed >= TimeSpan.FromMilliseconds(950));
        Assert.Equal(OrderStatus.Filled, placed.Order.Status);
        Assert.Single(await Paper.OrdersAsync("after-429"));
    }

    [Fact]
    public async Task AnyCall_After418Ban_ThrowsAndSendsNothingUntilRetryAfter()
    {
        await Paper.InjectFaultAsync(FaultKind.Ban, "/fapi/v1/ticker/price", retryAfterSeconds: 120);
        var first = await Assert.ThrowsAsync<BinanceRateLimitException>(() => Client.GetTickerPriceAsync("BTCUSDT"));
        Assert.True(first.IsBan);
        await Assert.ThrowsAsync<BinanceRateLimitException>(() => Client.GetPremiumIndexAsync("BTCUSDT"));
        Assert.Equal(1, await Paper.RequestCountAsync("GET /fapi/v1/ticker/price"));
        Assert.Equal(0, await Paper.RequestCountAsync("GET /fapi/v1/premiumIndex"));
        Assert.True(Client.RateLimitedUntil > DateTimeOffset.UtcNow.AddSeconds(100));
    }

    [Fact]
    public async Task GetAccountAsync_Injected1021_ResyncsClockAndSucceeds()
    {
        await Client.GetAccountAsync();
        var timeCalls = await Paper.RequestCountAsync("GET /fapi/v1/time");
        await Paper.InjectFaultAsync(FaultKind.Timestamp, "/fapi/v3/account");
        var account = await Client.GetAccountAsync();
        Assert.Equal(10_000m, account.TotalWalletBalance);
        Assert.Equal(timeCalls + 1, await Paper.RequestCountAsync("GET /fapi/v1/time"));
        Assert.Equal(3, await Paper.RequestCountAsync("GET /fapi/v3/account"));
    }

    [Fact]
    public async Task PlaceOrderAsync_VenueClockJumpedAhead_RealMinus1021ThenResyncAndPlace()
    {
        await Client.GetAccountAsync();
        await Paper.AdvanceAsync(TimeSpan.FromMinutes(5));
        var placed = await Client.PlaceOrderAsync(Buy, "after-jump");
        Assert.Equal(OrderStatus.Filled, placed.Order.Status);
        Assert.Equal(2, await Paper.RequestCountAsync("POST " + OrderPath));
        Assert.InRange(Client.ServerNow - await Client.GetServerTimeAsync(), TimeSpan.FromSeconds(-2), TimeSpan.FromSeconds(2));
    }

    [Fact]
    public async Task PlaceConditionalOrderAsync_503AfterPlaced_ExactlyOneAlgoOrder()
    {
        await Client.PlaceOrderAsync(Buy, "pos-for-sl");
        await Paper.InjectFaultAsync(FaultKind.UnknownAfterExecute, "/fapi/v1/algoOrder");
        var sl = await Client.PlaceConditionalOrderAsync(new NewConditionalOrder("BTCUSDT", OrderSide.Sell, ConditionalOrderType.StopMarket, 55000m), "sl-unknown");
        Assert.Equal(AlgoStatus.New, sl.Status);
        Assert.Single(await Client.GetOpenConditionalOrdersAsync("BTCUSDT"));
    }

    [Fact]
    public async Task GetPositionsAsync_CallerCancels_ThrowsOperationCanceled()
    {
        await Paper.InjectFaultAsync(FaultKind.Latency, "/fapi/v2/positionRisk", latencyMs: 3_000);
        await Client.GetServerTimeAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Client.GetPositionsAsync(ct: cts.Token));
    }
}
