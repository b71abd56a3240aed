using Microsoft.Extensions.Logging;
using TradeEngine.Binance.Errors;
using TradeEngine.Binance.Models;
using TradeEngine.Binance.Tests.Infrastructure;
using TradeEngine.Domain;

namespace TradeEngine.Binance.Tests.Client;

public class TradingTests : PaperTest
{
    private static NewOrder MarketBuy(decimal qty, string symbol = "BTCUSDT") => new(symbol, OrderSide.Buy, OrderType.Market, qty);

    [Fact]
    public async Task PlaceOrderAsync_MarketBuy_FillsAtMarkWithTakerCommission()
    {
        var placed = await Client.PlaceOrderAsync(MarketBuy(0.010m), "buy-1");
        Assert.Equal((OrderStatus.Filled, 60000m, 0.010m, 1, false), (placed.Order.Status, placed.Order.AvgPrice, placed.Order.ExecutedQty, placed.Attempts, placed.RecoveredByLookup));
        var trade = (await Client.GetUserTradesAsync(new UserTradesQuery("BTCUSDT"))).Single();
        Assert.Equal(600m * 0.0005m, trade.Commission);
    }

    /// <summary>
    /// An add at another price: the average entry (9002 / 3) is printed to 8 places. Before, the simulator printed the
    /// 28-digit quotient, which the client refuses as unreadable, so every position read failed after such an add.
    /// </summary>
    [Fact]
    public async Task GetPositionsAsync_AddAtAnotherPrice_EntryPriceTo8Places()
    {
        await Paper.SetPriceAsync("ETHUSDT", 3000m);
        await Client.PlaceOrderAsync(MarketBuy(1m, "ETHUSDT"), "eth-1");
        await Paper.SetPriceAsync("ETHUSDT", 3001m);
        await Client.PlaceOrderAsync(MarketBuy(2m, "ETHUSDT"), "eth-2");

        var position = Assert.Single(await Client.GetPositionsAsync("ETHUSDT"), p => p.PositionAmt != 0m);

        Assert.Equal((3m, 3000.66666667m), (position.PositionAmt, position.EntryPrice));
    }

    [Fact]
    public async Task GetUserTradesAsync_TwoSymbolsOverTime_WindowsFromIdAndLimitSelectAsBinanceDoes()
    {
        // Trades of two symbols interleaved, a minute apart: t0 BTC, t1 ETH, t2 BTC, t3 ETH, t4 BTC.
        var times = new List<DateTimeOffset>();
        for (var i = 0; i < 5; i++)
        {
            var symbol = i % 2 == 0 ? "BTCUSDT" : "ETHUSDT";
            await Client.PlaceOrderAsync(MarketBuy(symbol == "BTCUSDT" ? 0.010m : 0.100m, symbol), $"window-{i}");
            times.Add(Paper.Clock.GetUtcNow());
            await Paper.AdvanceAsync(TimeSpan.FromMinutes(1));
        }

        var btc = await Client.GetUserTradesAsync(new UserTradesQuery("BTCUSDT"));
        Assert.Equal(3, btc.Count);
        Assert.All(btc, t => Assert.Equal("BTCUSDT", t.Symbol));
        Assert.True(btc[0].Id < btc[1].Id && btc[1].Id < btc[2].Id);

        // A window holding only the middle BTC trade; from an id; a limit counts from the window's start.
        var middle = await Client.GetUserTradesAsync(new UserTradesQuery("BTCUSDT", times[1], times[3]));
        Assert.Equal(btc[1].Id, Assert.Single(middle).Id);
        var fromSecond = await Client.GetUserTradesAsync(new UserTradesQuery("BTCUSDT", FromId: btc[1].Id));
        Assert.Equal([btc[1].Id, btc[2].Id], fromSecond.Select(t => t.Id));
        var firstOnly = await Client.GetUserTradesAsync(new UserTradesQuery("BTCUSDT", times[0].AddSeconds(-1), times[4], Limit: 1));
        Assert.Equal(btc[0].Id, Assert.Single(firstOnly).Id);
        Assert.Empty(await Client.GetUserTradesAsync(new UserTradesQuery("ETHUSDT", times[4].AddSeconds(1), times[4].AddMinutes(1))));

        // One order's fills by its id; fromId with a window is refused before anything is sent, as Binance refuses it.
        var ofOrder = await Client.GetUserTradesAsync(new UserTradesQuery("BTCUSDT", OrderId: btc[1].OrderId));
        Assert.Equal(btc[1].Id, Assert.Single(ofOrder).Id);
        await Assert.ThrowsAsync<BinanceRequestRefusedException>(
            () => Client.GetUserTradesAsync(new UserTradesQuery("BTCUSDT", StartTime: times[0], FromId: btc[0].Id)));
    }

    [Fact]
    public async Task PlaceOrderAsync_SameIdempotencyKeyWhileTheFirstIsOpen_ReturnsTheFirstOrderAndPlacesNoSecond()
    {
        // Binance refuses a reused client order id only while the first order is open (-4116); once it is filled or
        // cancelled the id is free again, so a caller retrying a key looks the order up first (GetOrderAsync).
        var resting = new NewOrder("BTCUSDT", OrderSide.Buy, OrderType.Limit, 0.010m, 55000m, TimeInForce.Gtc);
        var first = await Client.PlaceOrderAsync(resting, "intent with spaces #1");
        var second = await Client.PlaceOrderAsync(resting, "intent with spaces #1");
        Assert.Equal(first.Order.OrderId, second.Order.OrderId);
        Assert.True(second.RecoveredByLookup);
        Assert.Single(await Paper.OrdersAsync(first.Order.ClientOrderId));
    }

    /// <summary>
    /// Another order under the id of an open one (a sell of another quantity with the same key): the venue refuses it
    /// as a duplicate (-4116), and the order it finds under the id is not this one's answer. Refused naming the id, as
    /// after an id left in doubt. Before, the open buy was returned as this sell, "recovered by look-up".
    /// </summary>
    [Fact]
    public async Task PlaceOrderAsync_AnotherOrderUnderTheIdOfAnOpenOne_RefusedAsDuplicateNotAnsweredWithIt()
    {
        var resting = new NewOrder("BTCUSDT", OrderSide.Buy, OrderType.Limit, 0.010m, 55000m, TimeInForce.Gtc);
        var first = await Client.PlaceOrderAsync(resting, "same-key");

        var ex = await Assert.ThrowsAsync<BinanceRequestRefusedException>(() =>
            Client.PlaceOrderAsync(new NewOrder("BTCUSDT", OrderSide.Sell, OrderType.Limit, 0.020m, 65000m, TimeInForce.Gtc), "same-key"));

        Assert.Equal(BinanceErrorKind.DuplicateClientOrderId, ex.Kind);
        Assert.Contains(first.Order.ClientOrderId, ex.Reason, StringComparison.Ordinal);
        var only = Assert.Single(await Paper.OrdersAsync(first.Order.ClientOrderId));
        Assert.Equal(first.Order.OrderId, only.OrderId);
    }

    [Fact]
    public async Task PlaceOrderAsync_LimitBelowMarket_RestsUntilCancelled()
    {
        var placed = await Client.PlaceOrderAsync(new NewOrder("BTCUSDT", OrderSide.Buy, OrderType.Limit, 0.010m, 55000m, TimeInForce.Gtc), "rest-1");
        Assert.Equal(OrderStatus.New, placed.Order.Status);
        Assert.Single(await Client.GetOpenOrdersAsync("BTCUSDT"));
        await Client.CancelAllOpenOrdersAsync("BTCUSDT");
        Assert.Empty(await Client.GetOpenOrdersAsync());
        Assert.Equal(OrderStatus.Canceled, (await Client.GetOrderAsync("BTCUSDT", "rest-1"))!.Status);
    }

    [Fact]
    public async Task PlaceOrderAsync_RestingLimitThenPriceReachesIt_FillsAsMakerAtLimit()
    {
        await Client.PlaceOrderAsync(new NewOrder("ETHUSDT", OrderSide.Buy, OrderType.Limit, 0.100m, 2900m, TimeInForce.Gtc), "maker-1");
        await Paper.SetPriceAsync("ETHUSDT", 2899.50m);
        var order = await Client.GetOrderAsync("ETHUSDT", "maker-1");
        Assert.Equal((OrderStatus.Filled, 2900m), (order!.Status, order.AvgPrice));
        var trade = (await Client.GetUserTradesAsync(new UserTradesQuery("ETHUSDT"))).Single();
        Assert.True(trade.Maker);
        Assert.Equal(290m * 0.0002m, trade.Commission);
    }

    [Fact]
    public async Task GetOrderAsync_UnknownClientOrderId_ReturnsNullWithoutAWarning()
    {
        // Every open and close looks its client id up before placing it: "does not exist" (-2013) is the usual answer,
        // an answer and not a failure. It must not log a warning per order (nor throw internally to say so).
        var sink = new LevelledLogs();
        using var loggers = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Trace).AddProvider(sink));
        var client = Paper.CreateClient(loggers: loggers);

        Assert.Null(await client.GetOrderAsync("BTCUSDT", "never-placed"));
        Assert.Null(await client.GetConditionalOrderAsync("never-placed-algo"));

        Assert.DoesNotContain(sink.Entries, e => e.Level >= LogLevel.Warning);
        Assert.Equal(2, sink.Entries.Count(e => e.Level == LogLevel.Debug && e.Message.Contains("not found (code -2013)", StringComparison.Ordinal)));

        // Any other refusal of the same look-up is still an error, and still warned about.
        var refused = await Assert.ThrowsAsync<BinanceApiException>(() => client.GetOrderAsync("NOSUCHUSDT", "never-placed"));
        Assert.NotEqual(BinanceErrors.NoSuchOrder, refused.Code);
        Assert.Contains(sink.Entries, e => e.Level == LogLevel.Warning && e.Message.Contains("fapi/v1/order", StringComparison.Ordinal));
    }

    [Fact]
    public async Task GetOrderByIdAsync_TheVenuesOrderId_TheOrderWithItsClientIdOrNullForAnUnknownOrOtherSymbolsId()
    {
        var placed = await Client.PlaceOrderAsync(MarketBuy(0.010m), "by-id-1");
        var fill = (await Client.GetUserTradesAsync(new UserTradesQuery("BTCUSDT"))).Single();

        var found = await Client.GetOrderByIdAsync("BTCUSDT", fill.OrderId);

        Assert.NotNull(found);
        Assert.Equal((placed.Order.OrderId, placed.Order.ClientOrderId, OrderStatus.Filled, 0.010m), (found.OrderId, found.ClientOrderId, found.Status, found.ExecutedQty));
        Assert.Null(await Client.GetOrderByIdAsync("BTCUSDT", fill.OrderId + 1_000_000));
        Assert.Null(await Client.GetOrderByIdAsync("ETHUSDT", fill.OrderId));
    }

    private sealed class LevelledLogs : ILoggerProvider
    {
        public System.Collections.Concurrent.ConcurrentQueue<(LogLevel Level, string Message)> Entries { get; } = new();

        public ILogger CreateLogger(string categoryName) => new Logger(Entries);

        public void Dispose()
        {
        }

        private sealed class Logger(System.Collections.Concurrent.ConcurrentQueue<(LogLevel, string)> entries) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                entries.Enqueue((logLevel, formatter(state, exception)));
        }
    }

    [Fact]
    public async Task PlaceConditionalOrderAsync_StopLossClosePosition_TriggersOnMarkAndClosesPosition()
    {
        await Client.PlaceOrderAsync(MarketBuy(0.020m), "long-1");
        var stop = await Client.PlaceConditionalOrderAsync(new NewConditionalOrder("BTCUSDT", OrderSide.Sell, ConditionalOrderType.StopMarket, 58000m), "sl-1");
        Assert.Equal((AlgoStatus.New, true), (stop.Status, stop.ClosePosition));
        await Paper.SetPriceAsync("BTCUSDT", 58500m);
        Assert.Equal(AlgoStatus.New, (await Client.GetConditionalOrderAsync("sl-1"))!.Status);
        await Paper.SetPriceAsync("BTCUSDT", 57990m);
        Assert.Equal(AlgoStatus.Finished, (await Client.GetConditionalOrderAsync("sl-1"))!.Status);
        var position = (await Client.GetPositionsAsync("BTCUSDT")).Single();
        Assert.Equal(0m, position.PositionAmt);
        var pnl = await Client.GetIncomeHistoryAsync(new IncomeQuery("BTCUSDT", IncomeType.RealizedPnl));
        Assert.Equal(0.020m * (57990m - 60000m), pnl.Single().Income);
    }

    [Fact]
    public async Task PlaceConditionalOrderAsync_TakeProfit_ListedUntilCancelAll()
    {
        await Client.PlaceOrderAsync(MarketBuy(0.100m, "ETHUSDT"), "long-eth");
        await Client.PlaceConditionalOrderAsync(
            new NewConditionalOrder("ETHUSDT", OrderSide.Sell, ConditionalOrderType.TakeProfitMarket, 3300m, ClosePosition: false, Quantity: 0.050m), "tp-1");
        var open = await Client.GetOpenConditionalOrdersAsync("ETHUSDT");
        Assert.Equal(("tp-1", 0.050m, true), (open.Single().ClientAlgoId, open.Single().Quantity, open.Single().ReduceOnly));
        await Client.CancelAllOpenConditionalOrdersAsync("ETHUSDT");
        Assert.Empty(await Client.GetOpenConditionalOrdersAsync());
        Assert.Equal(AlgoStatus.Canceled, (await Client.GetConditionalOrderAsync("tp-1"))!.Status);
    }

    [Fact]
    public async Task CancelConditionalOrderAsync_OneOfTwo_CancelsOnlyThatOneAndARepeatIsFalse()
    {
        await Client.PlaceOrderAsync(MarketBuy(0.020m), "long-c");
        await Client.PlaceConditionalOrderAsync(new NewConditionalOrder("BTCUSDT", OrderSide.Sell, ConditionalOrderType.StopMarket, 58000m), "sl-old");
        // One closePosition order per type and direction may stand (-4130): the other one is a take-profit.
        await Client.PlaceConditionalOrderAsync(new NewConditionalOrder("BTCUSDT", OrderSide.Sell, ConditionalOrderType.TakeProfitMarket, 70000m), "tp-new");

        Assert.True(await Client.CancelConditionalOrderAsync("sl-old"));

        Assert.Equal("tp-new", (await Client.GetOpenConditionalOrdersAsync("BTCUSDT")).Single().ClientAlgoId);
        Assert.Equal(AlgoStatus.Canceled, (await Client.GetConditionalOrderAsync("sl-old"))!.Status);
        // Already cancelled, never placed, or triggered: not open, so nothing to cancel (not an error).
        Assert.False(await Client.CancelConditionalOrderAsync("sl-old"));
        Assert.False(await Client.CancelConditionalOrderAsync("sl-never"));
        await Paper.SetPriceAsync("BTCUSDT", 70010m);
        Assert.Equal(AlgoStatus.Finished, (await Client.GetConditionalOrderAsync("tp-new"))!.Status);
        Assert.False(await Client.CancelConditionalOrderAsync("tp-new"));
    }

    [Fact]
    public async Task PlaceConditionalOrderAsync_TriggerAlreadyCrossed_IsRejectedWith2021()
    {
        var e = await Assert.ThrowsAsync<BinanceApiException>(() =>
            Client.PlaceConditionalOrderAsync(new NewConditionalOrder("BTCUSDT", OrderSide.Sell, ConditionalOrderType.StopMarket, 61000m), "sl-bad"));
        Assert.Equal((-2021, BinanceErrorKind.OrderWouldTrigger), (e.Code, e.Kind));
    }

    [Fact]
    public async Task ChangeLeverageAsync_WithinBracket_ReturnsLeverageAndItsMaxNotional()
    {
        var setting = await Client.ChangeLeverageAsync("BTCUSDT", 50);
        Assert.Equal((50, 3_000_000m), (setting.Leverage, setting.MaxNotionalValue));
        Assert.Equal(50, (await Client.GetPositionsAsync("BTCUSDT")).Single().Leverage);
    }

    /// <summary>
    /// Binance does not lower the leverage of an open isolated position (its margin was fixed at the leverage it was
    /// opened at): -4161, a definite refusal, and the leverage stays. Raising it is allowed. Before, the simulator
    /// took the lower leverage.
    /// </summary>
    [Fact]
    public async Task ChangeLeverageAsync_LoweredOnAnOpenIsolatedPosition_RefusedWithMinus4161AndLeverageKept()
    {
        await Client.ChangeMarginTypeAsync("BTCUSDT", MarginType.Isolated);
        await Client.ChangeLeverageAsync("BTCUSDT", 20);
        await Client.PlaceOrderAsync(MarketBuy(0.100m), "iso-open");

        var e = await Assert.ThrowsAsync<BinanceApiException>(() => Client.ChangeLeverageAsync("BTCUSDT", 10));

        Assert.Equal((-4161, BinanceErrorKind.InvalidLeverage), (e.Code, e.Kind));
        Assert.True(BinanceErrors.IsDefiniteRejection(e.Code));
        Assert.Equal("Leverage reduction is not supported in Isolated Margin Mode with open positions", e.VenueMessage);
        Assert.Equal(20, (await Client.GetPositionsAsync("BTCUSDT")).Single().Leverage);
        Assert.Equal(25, (await Client.ChangeLeverageAsync("BTCUSDT", 25)).Leverage);
    }

    /// <summary>
    /// An open cross position's leverage lowered so far that its initial margin passes the available balance: Binance
    /// refuses it (-2028) and the leverage stays; lowered within the balance, it is taken. 2 BTC at 60,000 is 120,000
    /// of notional: 6,000 of margin at 20x leaves about 3,940 of 10,000 available, 12,000 at 10x would leave -2,060,
    /// 8,000 at 15x leaves about 1,940. Before, the simulator took 10x.
    /// </summary>
    [Fact]
    public async Task ChangeLeverageAsync_CrossLoweredPastTheAvailableBalance_RefusedWithMinus2028AndLeverageKept()
    {
        await Client.ChangeLeverageAsync("BTCUSDT", 20);
        await Client.PlaceOrderAsync(MarketBuy(2.000m), "cross-open");

        var e = await Assert.ThrowsAsync<BinanceApiException>(() => Client.ChangeLeverageAsync("BTCUSDT", 10));

        Assert.Equal((-2028, BinanceErrorKind.InvalidLeverage), (e.Code, e.Kind));
        Assert.Equal(20, (await Client.GetPositionsAsync("BTCUSDT")).Single().Leverage);
        Assert.True((await Client.GetAccountAsync()).AvailableBalance > 0m);
        Assert.Equal(15, (await Client.ChangeLeverageAsync("BTCUSDT", 15)).Leverage);
        Assert.Equal(15, (await Client.GetPositionsAsync("BTCUSDT")).Single().Leverage);
    }

    [Fact]
    public async Task ChangeMarginTypeAsync_SameTypeTwice_SecondReportsUnchanged()
    {
        Assert.True((await Client.ChangeMarginTypeAsync("SOLUSDT", MarginType.Isolated)).Changed);
        Assert.False((await Client.ChangeMarginTypeAsync("SOLUSDT", MarginType.Isolated)).Changed);
        Assert.Equal(MarginType.Isolated, (await Client.GetPositionsAsync("SOLUSDT")).Single().MarginType);
    }

    [Fact]
    public async Task GetPositionsAsync_IsolatedLong_ShowsTheExchangeFormulasLiquidationPrice()
    {
        await Client.ChangeMarginTypeAsync("BTCUSDT", MarginType.Isolated);
        await Client.ChangeLeverageAsync("BTCUSDT", 20);
        await Client.PlaceOrderAsync(MarketBuy(0.100m), "iso-long");
        var position = (await Client.GetPositionsAsync("BTCUSDT")).Single();
        Assert.Equal((0.100m, 60000m, 300m), (position.PositionAmt, position.EntryPrice, position.IsolatedWallet));
        // Worked by hand (the simulator prices it with Domain's LiquidationPrice, so that cannot be the expectation):
        // LP = (WB - Side x Q x EP + cum) / (Q x MMR - Side x Q) = (300 - 6,000 + 0) / (0.1 x 0.004 - 0.1) = 57228.9156626506...,
        // BTCUSDT's first bracket (maintenance 0.4 %, cum 0), 8 places.
        Assert.Equal(57228.91566265m, position.LiquidationPrice);
    }

    [Fact]
    public async Task GetAccountAsync_AfterRoundTrip_WalletMovesByPnlAndCommission()
    {
        await Client.PlaceOrderAsync(MarketBuy(0.010m), "rt-open");
        await Paper.SetPriceAsync("BTCUSDT", 61000m);
        await Client.PlaceOrderAsync(new NewOrder("BTCUSDT", OrderSide.Sell, OrderType.Market, 0.010m, ReduceOnly: true), "rt-close");
        var account = await Client.GetAccountAsync();
        var commission = (600m + 610m) * 0.0005m;
        Assert.Equal(10_000m + 10m - commission, account.TotalWalletBalance);
        Assert.Empty(account.Positions);
        var balance = (await Client.GetBalancesAsync()).Single();
        Assert.Equal(("USDT", account.TotalWalletBalance), (balance.Asset, balance.Balance));
        var income = await Client.GetIncomeHistoryAsync(new IncomeQuery("BTCUSDT"));
        Assert.Equal(2, income.Count(i => i.IncomeType == IncomeType.Commission));
        Assert.Equal(10m, income.Single(i => i.IncomeType == IncomeType.RealizedPnl).Income);
        Assert.Equal(2, (await Client.GetUserTradesAsync(new UserTradesQuery("BTCUSDT"))).Count);
    }

    [Fact]
    public async Task PlaceOrderAsync_MoreThanMarginAllows_ThrowsMarginInsufficient()
    {
        await Client.ChangeLeverageAsync("BTCUSDT", 1);
        var e = await Assert.ThrowsAsync<BinanceApiException>(() => Client.PlaceOrderAsync(MarketBuy(1.000m), "too-big"));
        Assert.Equal((-2019, BinanceErrorKind.MarginInsufficient), (e.Code, e.Kind));
        Assert.Empty(await Paper.OrdersAsync());
    }

    [Fact]
    public async Task PlaceOrderAsync_MarketNotionalBelowMinimum_ThrowsMinNotional()
    {
        var e = await Assert.ThrowsAsync<BinanceApiException>(() => Client.PlaceOrderAsync(MarketBuy(0.001m), "tiny"));
        Assert.Equal((-4164, BinanceErrorKind.MinNotional), (e.Code, e.Kind));
    }

    [Theory]
    [InlineData(OrderSide.Buy, "63100", -4016, "Price is higher than mark price multiplier cap.")]
    [InlineData(OrderSide.Sell, "56900", -4024, "Price is lower than mark price multiplier floor.")]
    public async Task PlaceOrderAsync_LimitOutsidePercentPrice_ThrowsDefiniteRejectionAndNoOrderExists(OrderSide side, string price, int code, string message)
    {
        var limit = decimal.Parse(price, System.Globalization.CultureInfo.InvariantCulture);
        var e = await Assert.ThrowsAsync<BinanceApiException>(() =>
            Client.PlaceOrderAsync(new NewOrder("BTCUSDT", side, OrderType.Limit, 0.010m, limit, TimeInForce.Gtc), "band"));
        Assert.Equal((code, BinanceErrorKind.PriceOutsideBand, message), (e.Code, e.Kind, e.VenueMessage));
        // A definite rejection: the client did not look the order up as it does after an unknown outcome.
        Assert.Equal(0, await Paper.RequestCountAsync("GET /fapi/v1/order"));
        Assert.Empty(await Paper.OrdersAsync());
        Assert.Null(await Client.GetOrderAsync("BTCUSDT", "band"));
    }

    /// <summary>A thin book (the control API's depth): a market order fills what the book holds and the rest expires; a limit order is not limited.</summary>
    [Fact]
    public async Task PlaceOrderAsync_MarketOrderLargerThanTheBook_FillsTheDepthAndExpires()
    {
        await Paper.SetDepthAsync("BTCUSDT", 0.004m);
        var partial = (await Client.PlaceOrderAsync(MarketBuy(0.010m), "thin")).Order;
        await Paper.SetDepthAsync("BTCUSDT", 0m);
        var none = (await Client.PlaceOrderAsync(MarketBuy(0.010m), "empty")).Order;
        // The book's depth limits market orders only; a marketable limit order fills as before.
        var limit = (await Client.PlaceOrderAsync(new NewOrder("BTCUSDT", OrderSide.Buy, OrderType.Limit, 0.010m, 61_000m, TimeInForce.Gtc), "limit")).Order;
        await Assert.ThrowsAsync<InvalidOperationException>(() => Paper.SetDepthAsync("BTCUSDT", 0.0015m)); // off the 0.001 step
        await Paper.SetDepthAsync("BTCUSDT", null);
        var full = (await Client.PlaceOrderAsync(MarketBuy(0.010m), "deep")).Order;

        Assert.Equal((OrderStatus.Expired, 0.004m), (partial.Status, partial.ExecutedQty));
        Assert.Equal((OrderStatus.Expired, 0m, 0m), (none.Status, none.ExecutedQty, none.AvgPrice));
        Assert.Equal((OrderStatus.Filled, 0.010m), (limit.Status, limit.ExecutedQty));
        Assert.Equal((OrderStatus.Filled, 0.010m), (full.Status, full.ExecutedQty));
        Assert.Equal(0.024m, Assert.Single(await Client.GetPositionsAsync("BTCUSDT")).PositionAmt);
        Assert.Equal(3, (await Client.GetUserTradesAsync(new UserTradesQuery("BTCUSDT"))).Count);
    }

    [Fact]
    public async Task PlaceOrderAsync_ReduceOnlyWithoutPosition_ThrowsReduceOnlyRejected()
    {
        var e = await Assert.ThrowsAsync<BinanceApiException>(() =>
            Client.PlaceOrderAsync(new NewOrder("BTCUSDT", OrderSide.Sell, OrderType.Market, 0.010m, ReduceOnly: true), "ro"));
        Assert.Equal((-2022, BinanceErrorKind.ReduceOnlyRejected), (e.Code, e.Kind));
    }
}
