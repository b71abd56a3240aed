using System.Diagnostics;
using TradeEngine.Binance.Errors;
using TradeEngine.Binance.Models;
using TradeEngine.Binance.Tests.Infrastructure;
using TradeEngine.Domain;
using TradeEngine.PaperExchange.Control;
using TradeEngine.Testing;

namespace TradeEngine.Binance.Tests.Client;

/// <summary>
/// Orders whose outcome the client cannot see at once, against a simulator that accepts a client order id again once
/// the first order is no longer open (as Binance USD-M does): one idempotency key must never give two fills.
/// </summary>
public class UnknownOutcomeTests : PaperTest
{
    private const string OrderPath = "/fapi/v1/order";
    private static readonly NewOrder Buy = new("BTCUSDT", OrderSide.Buy, OrderType.Market, 0.010m);

    [Fact]
    public async Task PlaceOrderAsync_VenueExecutesAfterTheClientTimedOut_OneFillForTheKeyEvenWithResendsAllowed()
    {
        var client = Paper.CreateClient(o => { o.RequestTimeout = TimeSpan.FromMilliseconds(300); o.MaxOrderAttempts = 3; });
        await client.GetExchangeInfoAsync();
        await Paper.InjectFaultAsync(FaultKind.ExecuteLate, OrderPath, latencyMs: 1_500);
        var watch = Stopwatch.StartNew();

        var placed = await client.PlaceOrderAsync(Buy, "late-1");

        // Let the late execution land whatever the client did, then count.
        if (watch.Elapsed < TimeSpan.FromMilliseconds(1_800))
        {
            await Task.Delay(TimeSpan.FromMilliseconds(1_800) - watch.Elapsed);
        }

        var orders = await Paper.OrdersAsync("late-1");
        Assert.Single(orders);
        Assert.Equal(orders[0].OrderId, placed.Order.OrderId);
        Assert.True(placed.RecoveredByLookup);
        Assert.Equal(1, await Paper.RequestCountAsync("POST " + OrderPath));
        Assert.Equal(0.010m, (await client.GetPositionsAsync("BTCUSDT")).Single().PositionAmt);
    }

    [Theory]
    [InlineData(400, -1006)] // "An unexpected response was received from the message bus. Execution status unknown."
    [InlineData(400, -4999)] // a code the client has never mapped
    [InlineData(500, -1100)] // a "definite" code, but on a 5xx
    public async Task PlaceOrderAsync_ErrorCodeNotOnTheRejectionAllowlist_ResolvesByLookupInsteadOfReportingRejection(int status, int code)
    {
        await Client.GetExchangeInfoAsync();
        await Paper.InjectFaultAsync(FaultKind.ErrorAfterExecute, OrderPath, status: status, code: code);
        var placed = await Client.PlaceOrderAsync(Buy, "odd-code");
        Assert.True(placed.RecoveredByLookup);
        Assert.Single(await Paper.OrdersAsync("odd-code"));
    }

    [Fact]
    public async Task PlaceOrderAsync_OutcomeUnknown_LookupsGoUrgentWhateverTheCallersPriorityAndHoldLimit()
    {
        using var source = new ActivitySource("UnknownOutcomeTests.Priority");
        var spans = new List<(string Name, string? Priority, ActivityTraceId Trace)>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name is "TradeEngine.Binance" or "UnknownOutcomeTests.Priority",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = a =>
            {
                lock (spans)
                {
                    spans.Add((a.DisplayName, a.GetTagItem("binance.priority") as string, a.TraceId));
                }
            },
        };
        ActivitySource.AddActivityListener(listener);
        await Client.GetExchangeInfoAsync();
        await Paper.InjectFaultAsync(FaultKind.ErrorAfterExecute, OrderPath, status: 400, code: -1006);

        ActivityTraceId trace;
        using (var root = source.StartActivity("test"))
        using (Domain.VenueRequestPriority.Enter(Domain.VenuePriority.Background))
        using (VenueHoldLimit.Enter(TimeSpan.Zero))
        {
            trace = root!.TraceId;
            Assert.True((await Client.PlaceOrderAsync(Buy, "urgent-lookup")).RecoveredByLookup);
        }

        List<(string Name, string? Priority)> mine;
        lock (spans)
        {
            mine = spans.Where(s => s.Trace == trace && s.Priority is not null && s.Name != "binance GET fapi/v1/time").Select(s => (s.Name, s.Priority)).ToList();
        }

        Assert.Equal(("binance POST fapi/v1/order", "background"), mine[0]);
        Assert.Contains(("binance GET fapi/v1/order", "urgent"), mine);
        Assert.All(mine.Skip(1), s => Assert.Equal("urgent", s.Priority));
    }

    [Fact]
    public async Task PlaceOrderAsync_AllowlistedRejection_ThrowsApiExceptionAtOnce()
    {
        await Client.GetExchangeInfoAsync();
        var e = await Assert.ThrowsAsync<BinanceApiException>(() =>
            Client.PlaceOrderAsync(new NewOrder("BTCUSDT", OrderSide.Buy, OrderType.Market, 0.001m), "too-small"));
        Assert.Equal(BinanceErrors.MinNotional, e.Code);
        Assert.Equal(0, await Paper.RequestCountAsync("GET " + OrderPath));
    }

    /// <summary>
    /// A conditional order refused as one that would trigger at once (-4142, the algo counterpart of -2021) or under the
    /// reduce-only rules (-4118) is a rejection at once, not an unknown outcome looked up for seconds.
    /// </summary>
    [Theory]
    [InlineData(-4142)]
    [InlineData(-4118)]
    public async Task PlaceConditionalOrderAsync_OrderRuleRefusal_ThrowsApiExceptionAtOnceWithoutLookups(int code)
    {
        await Client.GetExchangeInfoAsync();
        await Paper.InjectFaultAsync(FaultKind.Reject, "/fapi/v1/algoOrder", code: code);
        var e = await Assert.ThrowsAsync<BinanceApiException>(() => Client.PlaceConditionalOrderAsync(
            new NewConditionalOrder("BTCUSDT", OrderSide.Sell, ConditionalOrderType.StopMarket, 58000m), "refused-" + (-code)));
        Assert.Equal(code, e.Code);
        Assert.Equal(0, await Paper.RequestCountAsync("GET /fapi/v1/algoOrder"));
        Assert.Empty(await Client.GetOpenConditionalOrdersAsync("BTCUSDT"));
    }

    [Theory]
    [InlineData(-1115)] // INVALID_TIF
    [InlineData(-2010)] // NEW_ORDER_REJECTED
    [InlineData(-2020)] // UNABLE_TO_FILL
    [InlineData(-2025)] // MAX_OPEN_ORDER_EXCEEDED
    [InlineData(-4001)] // PRICE_LESS_THAN_ZERO
    [InlineData(-4002)] // PRICE_GREATER_THAN_MAX_PRICE
    [InlineData(-4003)] // QTY_LESS_THAN_ZERO
    [InlineData(-4004)] // QTY_LESS_THAN_MIN_QTY
    [InlineData(-4013)] // PRICE_LESS_THAN_MIN_PRICE
    [InlineData(-4016)] // PRICE_HIGHTER_THAN_MULTIPLIER_UP
    [InlineData(-4024)] // PRICE_LOWER_THAN_MULTIPLIER_DOWN
    [InlineData(-4045)] // MAX_STOP_ORDER_EXCEEDED
    [InlineData(-4061)] // POSITION_SIDE_NOT_MATCH
    [InlineData(-4130)] // a closePosition order of the type already stands in the direction
    [InlineData(-4509)] // a closePosition (GTE_GTC) order with no position
    [InlineData(-4131)] // MARKET_ORDER_REJECT (PERCENT_PRICE)
    [InlineData(-5021)] // FOK_ORDER_REJECT
    [InlineData(-2024)] // POSITION_NOT_SUFFICIENT
    [InlineData(-2026)] // REDUCE_ONLY_ORDER_TYPE_NOT_SUPPORTED
    [InlineData(-2028)] // MIN_LEVERAGE_RATIO
    [InlineData(-4118)] // REDUCE_ONLY_MARGIN_CHECK_FAILED
    [InlineData(-4137)] // QUANTITY_EXISTS_WITH_CLOSE_POSITION
    [InlineData(-4138)] // REDUCE_ONLY_MUST_BE_TRUE
    [InlineData(-4140)] // INVALID_OPENING_POSITION_STATUS
    [InlineData(-4141)] // SYMBOL_ALREADY_CLOSED
    [InlineData(-4142)] // STRATEGY_INVALID_TRIGGER_PRICE
    [InlineData(-4161)] // ISOLATED_LEVERAGE_REJECT_WITH_POSITION (a leverage change refused)
    public void IsDefiniteRejection_DocumentedOrderRejectionCode_IsOnTheAllowlistWithItsMessage(int code)
    {
        Assert.True(BinanceErrors.IsDefiniteRejection(code));
        Assert.NotEqual(BinanceErrors.MessageOf(BinanceErrors.Unknown), BinanceErrors.MessageOf(code));
    }

    [Fact]
    public async Task PlaceOrderAsync_LookupAfterUnknownOutcomeRefusedWithMinus2015_ThrowsUnknownOutcomeWithTheId()
    {
        await Client.GetExchangeInfoAsync();
        await Paper.InjectFaultAsync(FaultKind.UnknownAfterExecute, OrderPath);
        await Paper.InjectFaultAsync(FaultKind.ErrorAfterExecute, OrderPath, status: 401, code: -2015);
        var e = await Assert.ThrowsAsync<BinanceUnknownOrderOutcomeException>(() => Client.PlaceOrderAsync(Buy, "refused-lookup"));
        Assert.Equal("refused-lookup", e.ClientOrderId);
        Assert.Single(await Paper.OrdersAsync("refused-lookup"));
    }

    [Fact]
    public async Task PlaceOrderAsync_Unreadable200AfterExecution_ResolvesByLookup()
    {
        await Client.GetExchangeInfoAsync();
        await Paper.InjectFaultAsync(FaultKind.GarbledAfterExecute, OrderPath);
        var placed = await Client.PlaceOrderAsync(Buy, "garbled");
        Assert.True(placed.RecoveredByLookup);
        Assert.Equal(OrderStatus.Filled, placed.Order.Status);
        Assert.Single(await Paper.OrdersAsync("garbled"));
    }

    [Fact]
    public async Task PlaceOrderAsync_CallerCancelsWhileTheOrderIsInFlight_ThrowsUnknownOutcomeNotCancellation()
    {
        var e = await LeaveInDoubtAsync("cancelled");

        Assert.Equal("cancelled", e.ClientOrderId);
        await Poll.UntilAsync(() => Paper.OrdersAsync("cancelled"), orders => orders.Count == 1, TimeSpan.FromSeconds(10));
    }

    /// <summary>
    /// The same key sent again at once after a call left it in doubt (the caller gave up while the venue held the order,
    /// which executes later): the second call waits until the first copy can no longer execute, finds it, and sends
    /// nothing. Before, it looked the order up (not there yet), sent it again, and both filled: a double position.
    /// </summary>
    [Fact]
    public async Task PlaceOrderAsync_SameKeyAgainRightAfterACallLeftItInDoubt_WaitsFindsTheLateOrderAndSendsNoSecond()
    {
        await LeaveInDoubtAsync("in-doubt");

        var again = await Client.PlaceOrderAsync(Buy, "in-doubt");

        Assert.True(again.RecoveredByLookup);
        var order = Assert.Single(await Paper.OrdersAsync("in-doubt"));
        Assert.Equal(order.OrderId, again.Order.OrderId);
        Assert.Equal(1, await Paper.RequestCountAsync("POST " + OrderPath));
        Assert.Equal(0.010m, (await Client.GetPositionsAsync("BTCUSDT")).Single().PositionAmt);
    }

    /// <summary>
    /// Another order under an id an earlier call left in doubt (a buy in doubt, then a reduce-only sell with the same
    /// key): refused once the earlier order is found, naming the id, and nothing sent. It is not that order's answer.
    /// </summary>
    [Fact]
    public async Task PlaceOrderAsync_AnotherOrderUnderAnIdLeftInDoubt_RefusedAndNothingSent()
    {
        await LeaveInDoubtAsync("in-doubt-2");

        var ex = await Assert.ThrowsAsync<BinanceRequestRefusedException>(() =>
            Client.PlaceOrderAsync(new NewOrder("BTCUSDT", OrderSide.Sell, OrderType.Market, 0.010m, ReduceOnly: true), "in-doubt-2"));

        Assert.Equal(BinanceErrorKind.DuplicateClientOrderId, ex.Kind);
        Assert.Contains("in-doubt-2", ex.Reason, StringComparison.Ordinal);
        Assert.Single(await Paper.OrdersAsync("in-doubt-2"));
        Assert.Equal(0.010m, (await Client.GetPositionsAsync("BTCUSDT")).Single().PositionAmt);
    }

    /// <summary>
    /// A buy under <paramref name="key"/> whose caller gives up once the venue has it (it executes 2 s after it arrived,
    /// within the 5 s recvWindow). The caller cancels when the simulator has counted the request, not after a fixed
    /// 300 ms, which a loaded machine could spend before the request arrived (then nothing is in doubt).
    /// </summary>
    private async Task<BinanceUnknownOrderOutcomeException> LeaveInDoubtAsync(string key)
    {
        await Client.GetExchangeInfoAsync();
        await Client.GetAccountAsync();
        await Paper.InjectFaultAsync(FaultKind.ExecuteLate, OrderPath, latencyMs: 2_000);
        var sent = await Paper.RequestCountAsync("POST " + OrderPath);
        using var cts = new CancellationTokenSource();
        var call = Client.PlaceOrderAsync(Buy, key, cts.Token);
        await Poll.UntilAsync(() => Paper.RequestCountAsync("POST " + OrderPath), n => n > sent, TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(10));
        await cts.CancelAsync();
        return await Assert.ThrowsAsync<BinanceUnknownOrderOutcomeException>(() => call);
    }

    [Fact]
    public async Task PlaceOrderAsync_ClockSyncFailsBeforeSending_ThrowsUnavailableAndSendsNoOrder()
    {
        await Client.GetExchangeInfoAsync();
        await Paper.InjectFaultAsync(FaultKind.Unavailable, "/fapi/v1/time");
        await Assert.ThrowsAsync<BinanceUnavailableException>(() => Client.PlaceOrderAsync(Buy, "never-sent"));
        Assert.Equal(0, await Paper.RequestCountAsync("POST " + OrderPath));
        Assert.Empty(await Paper.OrdersAsync("never-sent"));
    }

    [Fact]
    public async Task GetAccountAsync_ClockSyncTimesOut_ThrowsBinanceUnavailable()
    {
        var client = Paper.CreateClient(o => o.RequestTimeout = TimeSpan.FromMilliseconds(300));
        await Paper.InjectFaultAsync(FaultKind.Latency, "/fapi/v1/time", latencyMs: 2_000);
        await Assert.ThrowsAsync<BinanceUnavailableException>(() => client.GetAccountAsync());
    }
}
