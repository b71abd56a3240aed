using Grpc.Core;
using TradeEngine.Common.V1;
using TradeEngine.Ledger.Tests.Support;
using TradeEngine.Ledger.V1;
using TradeEngine.Testing.Servers;
using static TradeEngine.Ledger.Tests.Support.Requests;

namespace TradeEngine.Ledger.Tests;

/// <summary>Open, reduce and close with the order's fills: the position change and one trade per fill in one transaction.</summary>
[Collection(LedgerCollection.Name)]
public sealed class FillsTests(PostgresServer postgres, RabbitMqServer rabbit) : IAsyncLifetime
{
    private LedgerHost _ledger = null!;

    private LedgerService.LedgerServiceClient Client => _ledger.Client;

    public async Task InitializeAsync() => _ledger = await LedgerHost.StartAsync(postgres, rabbit, relay: false);

    public async Task DisposeAsync() => await _ledger.DisposeAsync();

    [Fact]
    public async Task OpenPosition_TwoFills_PositionAndBothTradesLinkedWithEventsInOrder()
    {
        var request = WithFills(Open(quantity: "1.00000001", price: "100.5"), ("t1", "0.6", "100", "0.06"), ("t2", "0.40000001", "101.25", "0.04"));

        var opened = await Client.OpenPositionAsync(request);

        Assert.Equal(2, await _ledger.CountAsync("trades WHERE position_id = $1::uuid", opened.PositionId));
        Assert.Equal(1, await _ledger.CountAsync(
            "trades WHERE exchange_trade_id = 't2' AND price = 101.25 AND quantity = 0.40000001 AND fee = 0.04 AND side = 'buy' " +
            "AND venue = 'binance' AND symbol = 'BTCUSDT' AND strategy = 's1' AND client_order_id = 'order-1'"));
        // The position's events, in the order the relay publishes them: the position first, then its trades.
        Assert.Equal(1, await _ledger.CountAsync(
            "(SELECT array_agg(message_type ORDER BY outbox_id) AS types FROM outbox WHERE aggregate_id = $1) o " +
            "WHERE types = ARRAY['PositionOpened', 'TradeRecorded', 'TradeRecorded']::varchar[]", opened.PositionId));
    }

    /// <summary>
    /// An add's fills, and a trade recorded with the position's id, are the position's trades, under the position's
    /// strategy (as a reduce's and a close's fills are), whatever strategy the request names. Before, they were booked
    /// under the request's: none when it named none.
    /// </summary>
    [Fact]
    public async Task OpenPosition_AddWithFillsNamingNoStrategy_TradesUnderThePositionsStrategy()
    {
        var opened = await Client.OpenPositionAsync(Open(quantity: "1", price: "100"));
        var add = WithFills(Open(quantity: "0.5", price: "110"), ("a1", "0.5", "110", "0.05"));
        add.Strategy = string.Empty;
        add.OpenedAt = At(T0.AddMinutes(1));

        var added = await Client.OpenPositionAsync(add);

        Assert.Equal((opened.PositionId, "1.5", "s1"), (added.PositionId, added.Quantity, added.Strategy));
        Assert.Equal(1, await _ledger.CountAsync("trades WHERE exchange_trade_id = 'a1' AND position_id = $1::uuid AND strategy = 's1'", opened.PositionId));

        // A trade of the position recorded on its own (an add whose fills could not be read) is the position's too.
        var alone = Trade();
        alone.PositionId = opened.PositionId;
        alone.RealizedPnl = "0";
        await Client.RecordTradeAsync(alone);
        Assert.Equal(1, await _ledger.CountAsync("trades WHERE exchange_trade_id = $1 AND strategy = 's1'", alone.ExchangeTradeId));
    }

    [Fact]
    public async Task GetOrderTrades_AnOrdersFills_ReturnedExactlyOldestFirstAndOnlyThatOrders()
    {
        var opened = await Client.OpenPositionAsync(
            WithFills(Open(quantity: "1.00000001", price: "100.5"), ("t1", "0.6", "100", "0.06"), ("t2", "0.40000001", "12345678901.12345678", "0.00000001")));
        await Client.RecordTradeAsync(Trade("another-order"));

        var found = await Client.GetOrderTradesAsync(new GetOrderTradesRequest { Venue = "binance", Symbol = "BTCUSDT", ClientOrderId = "order-1" });

        Assert.False(found.Truncated);
        Assert.Equal(["t1", "t2"], found.Trades.Select(t => t.ExchangeTradeId));
        var second = found.Trades[1];
        Assert.Equal(("12345678901.12345678", "0.40000001", "0.00000001", TradeSide.Buy), (second.Price, second.Quantity, second.Fee, second.Side));
        Assert.Equal((opened.PositionId, "order-1", "s1"), (second.PositionId, second.ClientOrderId, second.Strategy));
        Assert.Empty((await Client.GetOrderTradesAsync(new GetOrderTradesRequest { Venue = "binance", Symbol = "ETHUSDT", ClientOrderId = "order-1" })).Trades);
        Assert.Empty((await Client.GetOrderTradesAsync(new GetOrderTradesRequest { Venue = "binance", Symbol = "BTCUSDT", ClientOrderId = "no-such-order" })).Trades);
        // No symbol: the order's trades on any symbol of the venue, each naming its own (how a caller learns an id was
        // spent on another symbol; the venue keeps ids per symbol).
        var anySymbol = await Client.GetOrderTradesAsync(new GetOrderTradesRequest { Venue = "binance", ClientOrderId = "order-1" });
        Assert.Equal([("t1", "BTCUSDT"), ("t2", "BTCUSDT")], anySymbol.Trades.Select(t => (t.ExchangeTradeId, t.Symbol)));
        Assert.Empty((await Client.GetOrderTradesAsync(new GetOrderTradesRequest { Venue = "okx", ClientOrderId = "order-1" })).Trades);
    }

    [Theory]
    [InlineData("", "BTCUSDT", "order-1", "venue")]
    [InlineData("binance", "btcusdt", "order-1", "symbol")]
    [InlineData("binance", "BTCUSDT", "", "client_order_id")]
    [InlineData("binance", "BTCUSDT", "0123456789012345678901234567890123456789012345678901234567890123456789", "client_order_id")]
    public async Task GetOrderTrades_MissingOrTooLongField_InvalidArgumentNamingIt(string venue, string symbol, string clientOrderId, string field) =>
        await RpcAssert.InvalidArgument(field, () =>
            Client.GetOrderTradesAsync(new GetOrderTradesRequest { Venue = venue, Symbol = symbol, ClientOrderId = clientOrderId }).ResponseAsync);

    [Fact]
    public async Task OpenPosition_SameKeyAgain_ReplaysWithoutMoreTrades()
    {
        var request = WithFills(Open(quantity: "1"), ("t1", "1", "100", "0.1"));
        await Client.OpenPositionAsync(request);

        var again = await Client.OpenPositionAsync(request);

        Assert.True(again.Replayed);
        Assert.Equal(1, await _ledger.CountAsync("trades"));
        Assert.Equal(2, await _ledger.CountAsync("outbox"));
    }

    [Theory]
    [InlineData("0.5", "0.1")] // quantities add up to 0.5 of 1
    [InlineData("1", "0.05")] // fees add up to 0.05 of 0.1
    public async Task OpenPosition_FillsDisagreeWithThePosition_InvalidArgumentNothingWritten(string quantity, string fillFee)
    {
        var request = WithFills(Open(quantity: "1"), ("t1", quantity, "100", fillFee));
        request.Fee = "0.1";

        await RpcAssert.InvalidArgument("fills", () => Client.OpenPositionAsync(request).ResponseAsync);

        await AssertNothingWrittenAsync();
    }

    /// <summary>
    /// A fill whose commission the venue charged in BNB (the account's BNB fee discount) keeps its BNB amount and asset
    /// on its trade; the position's fee is the USDT its other fills paid. Before, every fill's fee was taken for USDT.
    /// </summary>
    [Fact]
    public async Task OpenThenClose_FillsPaidInBnb_TradesKeepTheBnbFeeAndThePositionsFeesAreTheUsdtOnes()
    {
        var request = WithFills(Open(quantity: "1", price: "100"), ("b1", "0.6", "100", "0.00009"), ("u1", "0.4", "100", "0.02"));
        request.Fills[0].FeeAsset = "BNB";
        request.Fee = "0.02";

        var opened = await Client.OpenPositionAsync(request);
        var close = new ClosePositionRequest
        {
            IdempotencyKey = Key(), PositionId = opened.PositionId, ExitPrice = "110", Fee = "0", ClosedAt = At(T0.AddMinutes(1)),
            Fills = { Fill("c1", "1", "110", "0.000165") },
        };
        close.Fills[0].FeeAsset = "BNB";
        var closed = await Client.ClosePositionAsync(close);

        Assert.Equal(("0.02", "10"), (closed.Fees, closed.RealizedPnl));
        Assert.Equal(1, await _ledger.CountAsync("trades WHERE exchange_trade_id = 'b1' AND fee = 0.00009 AND fee_asset = 'BNB'"));
        Assert.Equal(1, await _ledger.CountAsync("trades WHERE exchange_trade_id = 'u1' AND fee = 0.02 AND fee_asset = 'USDT'"));
        Assert.Equal(1, await _ledger.CountAsync("trades WHERE exchange_trade_id = 'c1' AND fee = 0.000165 AND fee_asset = 'BNB'"));
        var found = await Client.GetOrderTradesAsync(new GetOrderTradesRequest { Venue = "binance", Symbol = "BTCUSDT", ClientOrderId = "order-1" });
        Assert.Equal([("b1", "0.00009", "BNB"), ("u1", "0.02", "USDT")], found.Trades.Select(t => (t.ExchangeTradeId, t.Fee, t.FeeAsset)));
        // The day's fees are the positions' (USDT), not the BNB amounts.
        var day = await Client.GetDailyPnlAsync(new GetDailyPnlRequest { Day = At(T0) });
        Assert.Equal("0.02", day.Fees);
        // A trade recorded on its own keeps its asset too.
        var alone = Trade("bnb-order");
        alone.FeeAsset = "BNB";
        await Client.RecordTradeAsync(alone);
        Assert.Equal("BNB", Assert.Single((await Client.GetOrderTradesAsync(
            new GetOrderTradesRequest { Venue = "binance", Symbol = "BTCUSDT", ClientOrderId = "bnb-order" })).Trades).FeeAsset);
    }

    /// <summary>
    /// The request's price is the order's average, so it lies between its fills' lowest and highest prices: a fill or a
    /// price from another order (or a typo) is refused with nothing written.
    /// </summary>
    [Theory]
    [InlineData("99.99", "100", "101")] // below every fill
    [InlineData("101.01", "100", "101")] // above every fill
    [InlineData("100", "100.5", "100.5")] // one price, another
    public async Task OpenPosition_EntryPriceOutsideItsFillsPrices_InvalidArgumentNothingWritten(string entry, string first, string second)
    {
        var request = WithFills(Open(quantity: "1", price: entry), ("t1", "0.5", first, "0.05"), ("t2", "0.5", second, "0.05"));

        await RpcAssert.InvalidArgument("fills", () => Client.OpenPositionAsync(request).ResponseAsync);

        await AssertNothingWrittenAsync();
    }

    [Fact]
    public async Task ReduceAndClose_ExitPriceOutsideTheirFillsPrices_InvalidArgumentAndThePositionUnchanged()
    {
        var opened = await Client.OpenPositionAsync(Open(quantity: "2", price: "100"));
        var reduce = new ReducePositionRequest
        {
            IdempotencyKey = Key(), PositionId = opened.PositionId, Quantity = "1", ExitPrice = "120", Fee = "0.11", ReducedAt = At(T0.AddMinutes(1)),
            Fills = { Fill("r1", "1", "110", "0.11") },
        };
        var close = new ClosePositionRequest
        {
            IdempotencyKey = Key(), PositionId = opened.PositionId, ExitPrice = "94", Fee = "0.19", ClosedAt = At(T0.AddMinutes(2)),
            Fills = { Fill("c1", "1.5", "95", "0.1"), Fill("c2", "0.5", "97", "0.09") },
        };

        await RpcAssert.InvalidArgument("fills", () => Client.ReducePositionAsync(reduce).ResponseAsync);
        await RpcAssert.InvalidArgument("fills", () => Client.ClosePositionAsync(close).ResponseAsync);

        Assert.Equal(1, await _ledger.CountAsync("positions WHERE status = 'open' AND quantity = 2"));
        Assert.Equal(0, await _ledger.CountAsync("trades"));
        Assert.Equal(1, await _ledger.CountAsync("outbox"));
    }

    [Theory]
    [InlineData("BNB", "0.05")] // a BNB fill's fee counted as if USDT
    [InlineData("", "0")] // a USDT fill's fee left out
    public async Task OpenPosition_FeeAssetsAndFeeDisagree_InvalidArgumentNothingWritten(string asset, string fee)
    {
        var request = WithFills(Open(quantity: "1"), ("t1", "1", "100", "0.05"));
        request.Fills[0].FeeAsset = asset;
        request.Fee = fee;

        await RpcAssert.InvalidArgument("fills", () => Client.OpenPositionAsync(request).ResponseAsync);

        await AssertNothingWrittenAsync();
    }

    [Theory]
    [InlineData("bnb")]
    [InlineData("BNB ")]
    [InlineData("B")]
    [InlineData("BNB-1")]
    [InlineData("ABCDEFGHIJKLMNOPQ")]
    public async Task OpenPosition_MalformedFeeAsset_InvalidArgumentNamingItNothingWritten(string asset)
    {
        var request = WithFills(Open(quantity: "1"), ("t1", "1", "100", "0.05"));
        request.Fills[0].FeeAsset = asset;
        request.Fee = "0";

        await RpcAssert.InvalidArgument("fills[0].fee_asset", () => Client.OpenPositionAsync(request).ResponseAsync);

        await AssertNothingWrittenAsync();
        var trade = Trade();
        trade.FeeAsset = asset;
        await RpcAssert.InvalidArgument("fee_asset", () => Client.RecordTradeAsync(trade).ResponseAsync);
        Assert.Equal(0, await _ledger.CountAsync("trades"));
    }

    [Theory]
    [InlineData("fills[1].exchange_trade_id", "t1", "100", "0.5")]
    [InlineData("fills[1].price", "t2", "-1", "0.5")]
    [InlineData("fills[1].quantity", "t2", "100", "0,5")]
    public async Task OpenPosition_BadFill_InvalidArgumentNamingTheFillNothingWritten(string field, string id, string price, string quantity)
    {
        var request = WithFills(Open(quantity: "1"), ("t1", "0.5", "100", "0.05"), (id, quantity, price, "0.05"));

        await RpcAssert.InvalidArgument(field, () => Client.OpenPositionAsync(request).ResponseAsync);

        await AssertNothingWrittenAsync();
    }

    [Fact]
    public async Task OpenPosition_FillAlreadyRecorded_AlreadyExistsAndNoPosition()
    {
        var trade = Trade();
        await Client.RecordTradeAsync(trade);

        await RpcAssert.FailsWith(StatusCode.AlreadyExists,
            () => Client.OpenPositionAsync(WithFills(Open(quantity: "1"), (trade.ExchangeTradeId, "1", "100", "0.1"))).ResponseAsync);

        Assert.Equal(0, await _ledger.CountAsync("positions"));
        Assert.Equal(1, await _ledger.CountAsync("trades"));
        Assert.Equal(1, await _ledger.CountAsync("idempotency_keys"));
    }

    [Fact]
    public async Task ReduceThenClose_WithFills_TradesOnTheClosingSideWithTheirRealizedPnlAfterEachEvent()
    {
        var opened = await Client.OpenPositionAsync(WithFills(Open(quantity: "3", price: "100"), ("o1", "3", "100", "0.3")));

        var reduce = new ReducePositionRequest
        {
            IdempotencyKey = Key(), PositionId = opened.PositionId, Quantity = "1", ExitPrice = "110", Fee = "0.11", ReducedAt = At(T0.AddMinutes(1)),
            Fills = { Fill("r1", "1", "110", "0.11") },
        };
        await Client.ReducePositionAsync(reduce);
        var close = new ClosePositionRequest
        {
            IdempotencyKey = Key(), PositionId = opened.PositionId, ExitPrice = "95.5", Fee = "0.19", ClosedAt = At(T0.AddMinutes(2)),
            Fills = { Fill("c1", "1.5", "95", "0.1"), Fill("c2", "0.5", "97", "0.09") },
        };
        var closed = await Client.ClosePositionAsync(close);

        Assert.Equal(PositionStatus.Closed, closed.Status);
        // A long closes by selling: (110 − 100) × 1, (95 − 100) × 1.5, (97 − 100) × 0.5.
        Assert.Equal(1, await _ledger.CountAsync("trades WHERE exchange_trade_id = 'r1' AND side = 'sell' AND realized_pnl = 10"));
        Assert.Equal(1, await _ledger.CountAsync("trades WHERE exchange_trade_id = 'c1' AND side = 'sell' AND realized_pnl = -7.5"));
        Assert.Equal(1, await _ledger.CountAsync("trades WHERE exchange_trade_id = 'c2' AND side = 'sell' AND realized_pnl = -1.5 AND fee = 0.09"));
        Assert.Equal(1, await _ledger.CountAsync(
            "(SELECT array_agg(message_type ORDER BY outbox_id) AS types FROM outbox WHERE aggregate_id = $1) o WHERE types = " +
            "ARRAY['PositionOpened', 'TradeRecorded', 'PositionReduced', 'TradeRecorded', 'PositionClosed', 'TradeRecorded', 'TradeRecorded']::varchar[]",
            opened.PositionId));
    }

    [Fact]
    public async Task ClosePosition_FillsShortOfTheOpenQuantity_InvalidArgumentStillOpenNoTrade()
    {
        var opened = await Client.OpenPositionAsync(Open(quantity: "2"));
        var close = new ClosePositionRequest
        {
            IdempotencyKey = Key(), PositionId = opened.PositionId, ExitPrice = "100", Fee = "0.1", ClosedAt = At(T0.AddMinutes(1)),
            Fills = { Fill("c1", "1.5", "100", "0.1") },
        };

        await RpcAssert.InvalidArgument("fills", () => Client.ClosePositionAsync(close).ResponseAsync);

        Assert.Equal(1, await _ledger.CountAsync("positions WHERE status = 'open'"));
        Assert.Equal(0, await _ledger.CountAsync("trades"));
        Assert.Equal(1, await _ledger.CountAsync("outbox"));
    }

    private static Fill Fill(string id, string quantity, string price, string fee) => new()
    {
        ClientOrderId = "order-2", ExchangeTradeId = id, ExchangeOrderId = "43", Price = price, Quantity = quantity, Fee = fee, ExecutedAt = At(T0.AddMinutes(1)),
    };

    [Fact]
    public async Task GetPositionSizeAt_AcrossReduceAndClose_SizeAtEachInstant()
    {
        var opened = await Client.OpenPositionAsync(Open(quantity: "3", price: "100"));
        await Client.ReducePositionAsync(new ReducePositionRequest
        {
            IdempotencyKey = Key(), PositionId = opened.PositionId, Quantity = "1", ExitPrice = "110", ReducedAt = At(T0.AddMinutes(10)),
        });
        await Client.ClosePositionAsync(new ClosePositionRequest
        {
            IdempotencyKey = Key(), PositionId = opened.PositionId, ExitPrice = "120", ClosedAt = At(T0.AddMinutes(20)),
        });

        async Task<string> SizeAt(DateTimeOffset at) =>
            (await Client.GetPositionSizeAtAsync(new GetPositionSizeAtRequest { PositionId = opened.PositionId, At = At(at) })).Quantity;

        // A change at the instant asked comes after it (funding's rule: a close at a settlement pays it, an open does not).
        Assert.Equal("0", await SizeAt(T0.AddSeconds(-1)));
        Assert.Equal("0", await SizeAt(T0));
        Assert.Equal("3", await SizeAt(T0.AddTicks(10)));
        Assert.Equal("3", await SizeAt(T0.AddMinutes(10)));
        Assert.Equal("2", await SizeAt(T0.AddMinutes(10).AddTicks(10)));
        Assert.Equal("2", await SizeAt(T0.AddMinutes(20)));
        Assert.Equal("0", await SizeAt(T0.AddMinutes(20).AddTicks(10)));
        await RpcAssert.FailsWith(StatusCode.NotFound, () => Client.GetPositionSizeAtAsync(
            new GetPositionSizeAtRequest { PositionId = Guid.NewGuid().ToString(), At = At(T0) }).ResponseAsync);
        await RpcAssert.InvalidArgument("position_id", () => Client.GetPositionSizeAtAsync(
            new GetPositionSizeAtRequest { PositionId = "not-a-uuid", At = At(T0) }).ResponseAsync);
        await RpcAssert.InvalidArgument("at", () => Client.GetPositionSizeAtAsync(
            new GetPositionSizeAtRequest { PositionId = opened.PositionId }).ResponseAsync);
    }

    private async Task AssertNothingWrittenAsync()
    {
        Assert.Equal(0, await _ledger.CountAsync("positions"));
        Assert.Equal(0, await _ledger.CountAsync("trades"));
        Assert.Equal(0, await _ledger.CountAsync("outbox"));
        Assert.Equal(0, await _ledger.CountAsync("idempotency_keys"));
    }

    private static OpenPositionRequest WithFills(
        OpenPositionRequest request, params (string Id, string Quantity, string Price, string Fee)[] fills)
    {
        var fee = 0m;
        foreach (var (id, quantity, price, feeText) in fills)
        {
            request.Fills.Add(new Fill
            {
                ClientOrderId = "order-1", ExchangeTradeId = id, ExchangeOrderId = "42", Price = price, Quantity = quantity, Fee = feeText,
                ExecutedAt = At(T0),
            });
            fee += decimal.TryParse(feeText, System.Globalization.CultureInfo.InvariantCulture, out var f) ? f : 0m;
        }

        request.Fee = fee.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return request;
    }
}
