using TradeEngine.Testing.Paper;
using Grpc.Core;
using TradeEngine.Common.V1;
using TradeEngine.Execution.Tests.Support;
using TradeEngine.Execution.V1;
using TradeEngine.Risk.V1;
using TradeEngine.Testing.Servers;

namespace TradeEngine.Execution.Tests;

/// <summary>Everything Execution refuses: nothing of it may reach the venue.</summary>
[Collection(StackCollection.Name)]
public sealed class RefusalTests(PostgresServer postgres, RabbitMqServer rabbit)
{
    [Fact]
    public async Task OpenPosition_EachHardLimitBreached_DeniedWithItsReasonAndNoOrderSent()
    {
        await using var stack = await ExecutionStack.StartAsync(postgres, rabbit);
        var cases = new (OpenPositionRequest Request, RiskReasonCode Expected)[]
        {
            (Orders.Open(quantity: "0.01", leverage: 6), RiskReasonCode.LeverageOutOfRange),
            (Orders.Open(quantity: "0.2", leverage: 5), RiskReasonCode.NotionalAboveLimit),
            (Orders.Open(symbol: "ETHUSDT", quantity: "0.001", leverage: 2), RiskReasonCode.NotionalBelowExchangeMinimum),
        };

        foreach (var (request, expected) in cases)
        {
            var answer = await stack.Execution.OpenPositionAsync(request);
            Assert.Contains(answer.Denials, d => d.Code == expected);
            Assert.All(answer.Denials, d => Assert.NotEmpty(d.Message));
            Assert.Empty(answer.EntryPrice);
        }

        await stack.Risk.TriggerKillSwitchAsync(new TriggerKillSwitchRequest
        {
            IdempotencyKey = Orders.NewId("ks"), Trigger = KillSwitchTrigger.Operator, Reason = "test", Actor = "tester",
        });
        var afterKill = await stack.Execution.OpenPositionAsync(Orders.Open(quantity: "0.01"));
        Assert.Contains(afterKill.Denials, d => d.Code == RiskReasonCode.KillSwitchActive);

        Assert.Equal(0, await stack.OrderRequestsAsync());
        Assert.Empty(await stack.Paper.OrdersAsync());
        Assert.Equal(0, await stack.CountAsync("positions"));
    }

    /// <summary>
    /// A market buy fills at the ask, above the mark: it is judged at the mark plus 0.1 % (the fill allowance), so a buy
    /// within the $10,000 limit at the mark by less than that is denied and nothing is sent, while the same size sold
    /// (a short fills at the bid, at or under the mark) opens. Before, 0.166 BTC bought at a 60,240 mark (9,999.84) was
    /// allowed, and at a 1 bp spread filled above the limit.
    /// </summary>
    [Fact]
    public async Task OpenPosition_BuyWithinTheLimitAtTheMarkButNotAtItsFill_DeniedNothingSentAndTheSellOpens()
    {
        await using var stack = await ExecutionStack.StartAsync(postgres, rabbit);
        await stack.Paper.SetPriceAsync("BTCUSDT", 60_240m);

        var buy = await stack.Execution.OpenPositionAsync(Orders.Open(quantity: "0.166", leverage: 5));
        var requestsAfterTheBuy = await stack.OrderRequestsAsync();
        var sell = await stack.Execution.OpenPositionAsync(Orders.Open(quantity: "0.166", leverage: 5, side: Side.Short));

        var denial = Assert.Single(buy.Denials);
        Assert.Equal(RiskReasonCode.NotionalAboveLimit, denial.Code);
        // 0.166 × 60,240 × 1.001.
        Assert.Equal(("10009.83984", "10000"), (denial.Actual, denial.Limit));
        Assert.Equal(0, requestsAfterTheBuy);
        Assert.Empty(sell.Denials);
        Assert.Equal("0.166", sell.Quantity);
        Assert.Equal(1, await stack.CountAsync("positions WHERE side = 'short'"));
    }

    /// <summary>
    /// The allowance raises the price Risk judges a buy at, not the venue's minimum: a buy whose notional at the mark is
    /// under MIN_NOTIONAL (0.008 ETH at 2,499: 19.992 under 20), which Risk allows at 2,501.499 (20.012), is denied with
    /// Risk's reason at the mark and nothing is sent, the leverage included (the venue would refuse the order, -4164).
    /// </summary>
    [Fact]
    public async Task OpenPosition_BuyUnderTheMinimumAtTheMarkButNotAtTheAllowance_DeniedNothingSent()
    {
        await using var stack = await ExecutionStack.StartAsync(postgres, rabbit);
        await stack.Paper.SetPriceAsync("ETHUSDT", 2_499m);
        var requestsBefore = await stack.Paper.RequestCountAsync("POST /fapi/v1/leverage");

        var buy = await stack.Execution.OpenPositionAsync(Orders.Open(symbol: "ETHUSDT", quantity: "0.008", leverage: 2));

        var denial = Assert.Single(buy.Denials);
        Assert.Equal((RiskReasonCode.NotionalBelowExchangeMinimum, "19.992", "20"), (denial.Code, denial.Actual, denial.Limit));
        Assert.Equal(0, await stack.OrderRequestsAsync());
        Assert.Equal(requestsBefore, await stack.Paper.RequestCountAsync("POST /fapi/v1/leverage"));
    }

    /// <summary>
    /// A denial does nothing at the venue, so it is not kept as the client order id's result: the same request again is
    /// judged afresh (not replayed), and the request corrected under the same id opens. Before, the denial was answered
    /// again, and the corrected request was ALREADY_EXISTS though nothing had been sent (after a restart both were judged
    /// afresh: the answer depended on whether Execution had restarted).
    /// </summary>
    [Fact]
    public async Task OpenPosition_DeniedThenCorrectedUnderTheSameId_OpensOnce()
    {
        await using var stack = await ExecutionStack.StartAsync(postgres, rabbit);
        var tooLarge = Orders.Open(quantity: "0.2", leverage: 5);

        var denied = await stack.Execution.OpenPositionAsync(tooLarge);
        var again = await stack.Execution.OpenPositionAsync(tooLarge);

        Assert.Contains(denied.Denials, d => d.Code == RiskReasonCode.NotionalAboveLimit);
        Assert.Contains(again.Denials, d => d.Code == RiskReasonCode.NotionalAboveLimit);
        Assert.False(again.Replayed);
        Assert.Equal(0, await stack.OrderRequestsAsync());

        var corrected = tooLarge.Clone();
        corrected.Quantity = "0.01";
        var opened = await stack.Execution.OpenPositionAsync(corrected);

        Assert.Empty(opened.Denials);
        Assert.False(opened.Replayed);
        Assert.Equal("0.01", opened.Quantity);
        Assert.Single(await stack.Paper.OrdersAsync(corrected.ClientOrderId));
        // Once something was done, the id is the corrected request's: the first one again is another request.
        await Orders.FailsWith(StatusCode.AlreadyExists, () => stack.Execution.OpenPositionAsync(tooLarge).ResponseAsync);
        Assert.True((await stack.Execution.OpenPositionAsync(corrected)).Replayed);
        Assert.Equal(1, await stack.CountAsync("positions WHERE status = 'open' AND quantity = 0.01"));
    }

    /// <summary>
    /// A denial frees only a key nothing else holds: an earlier attempt under the id whose outcome was not known keeps it
    /// bound to its request (its order may yet appear at the venue), and a denial of the same request after it does not
    /// free it: another request under the id is still ALREADY_EXISTS.
    /// </summary>
    [Fact]
    public async Task OpenPosition_DeniedAfterAnAttemptWithItsOutcomeUnknown_TheIdStaysBoundToItsRequest()
    {
        await using var stack = await ExecutionStack.StartAsync(postgres, rabbit);
        await stack.Paper.InjectFaultAsync(PaperExchange.Control.FaultKind.Unavailable, "/fapi/v2/positionRisk", count: 1_000);
        var first = Orders.Open(quantity: "0.01");
        await Orders.FailsWith(StatusCode.Unavailable, () => stack.Execution.OpenPositionAsync(first).ResponseAsync);
        await stack.Paper.ClearFaultsAsync();
        await stack.Risk.TriggerKillSwitchAsync(new TriggerKillSwitchRequest
        {
            IdempotencyKey = Orders.NewId("ks"), Trigger = KillSwitchTrigger.Operator, Reason = "test", Actor = "tester",
        });
        Assert.Contains((await stack.Execution.OpenPositionAsync(first)).Denials, d => d.Code == RiskReasonCode.KillSwitchActive);

        var other = first.Clone();
        other.Symbol = "ETHUSDT";
        other.Quantity = "1";
        await Orders.FailsWith(StatusCode.AlreadyExists, () => stack.Execution.OpenPositionAsync(other).ResponseAsync);
        Assert.Equal(0, await stack.OrderRequestsAsync());
    }

    [Fact]
    public async Task OpenPosition_BadInput_RefusedNamingTheFieldAndNoOrderSent()
    {
        await using var stack = await ExecutionStack.StartAsync(postgres, rabbit);
        var execution = stack.Execution;

        await Orders.InvalidArgument("symbol", () => execution.OpenPositionAsync(Orders.Open(symbol: "NOPEUSDT")).ResponseAsync);
        await Orders.InvalidArgument("quantity", () => execution.OpenPositionAsync(Orders.Open(quantity: "0")).ResponseAsync);
        await Orders.InvalidArgument("quantity", () => execution.OpenPositionAsync(Orders.Open(quantity: "-0.01")).ResponseAsync);
        await Orders.InvalidArgument("quantity", () => execution.OpenPositionAsync(Orders.Open(quantity: "1e-2")).ResponseAsync);
        await Orders.InvalidArgument("leverage", () => execution.OpenPositionAsync(Orders.Open(leverage: 126)).ResponseAsync);
        await Orders.InvalidArgument("leverage", () => execution.OpenPositionAsync(Orders.Open(leverage: 0)).ResponseAsync);
        await Orders.InvalidArgument("client_order_id", () => execution.OpenPositionAsync(Orders.Open(clientOrderId: "has space")).ResponseAsync);
        await Orders.InvalidArgument("client_order_id", () => execution.OpenPositionAsync(Orders.Open(clientOrderId: new string('a', 37))).ResponseAsync);
        // Reserved forms: the venue client hashes a "te-" id (a look-up by the id as given would miss the order, and a
        // retry would place it again); "ex-" and ':' are the ids Execution derives for its own orders.
        await Orders.InvalidArgument("client_order_id", () => execution.OpenPositionAsync(Orders.Open(clientOrderId: "te-1")).ResponseAsync);
        await Orders.InvalidArgument("client_order_id", () => execution.OpenPositionAsync(Orders.Open(clientOrderId: "ex-1")).ResponseAsync);
        await Orders.InvalidArgument("client_order_id", () => execution.OpenPositionAsync(Orders.Open(clientOrderId: "mine:sl")).ResponseAsync);
        await Orders.InvalidArgument("quantity", () => execution.OpenPositionAsync(Orders.Open(quantity: "100000")).ResponseAsync);
        // Below BTCUSDT's minPrice (556.80): the venue would refuse the stop only after the position was opened.
        await Orders.InvalidArgument("stop_loss_price", () => execution.OpenPositionAsync(Orders.Open(stopLoss: "500")).ResponseAsync);
        await Orders.InvalidArgument("take_profit_price", () => execution.OpenPositionAsync(Orders.Open(takeProfit: "5000000")).ResponseAsync);
        await Orders.InvalidArgument("side", () => execution.OpenPositionAsync(Orders.Open(side: Side.Unspecified)).ResponseAsync);
        await Orders.InvalidArgument("stop_loss_price", () => execution.OpenPositionAsync(Orders.Open(stopLoss: "101000")).ResponseAsync);
        await Orders.InvalidArgument("take_profit_price", () => execution.OpenPositionAsync(Orders.Open(takeProfit: "99000")).ResponseAsync);
        await Orders.InvalidArgument("stop_loss_price", () =>
            execution.OpenPositionAsync(Orders.Open(side: Side.Short, stopLoss: "99000")).ResponseAsync);
        // As the Ledger would refuse it, but before the order (it was refused only by the Ledger's write, after the fill).
        var tabbed = Orders.Open();
        tabbed.Strategy = "grid\tv2";
        await Orders.InvalidArgument("strategy", () => execution.OpenPositionAsync(tabbed).ResponseAsync);
        Assert.Equal(0, await stack.OrderRequestsAsync());

        await execution.OpenPositionAsync(Orders.Open(quantity: "0.01"));
        var before = await stack.OrderRequestsAsync();
        var opposite = await Orders.FailsWith(StatusCode.FailedPrecondition,
            () => execution.OpenPositionAsync(Orders.Open(quantity: "0.01", side: Side.Short)).ResponseAsync);
        Assert.Contains("opposite_position", opposite.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(before, await stack.OrderRequestsAsync());

        // An add keeps the position's leverage and margin type: Binance would re-lever the whole position (or refuse the
        // margin type with -4048 after Risk), and the Ledger keeps the position's first figures.
        var leverage = await Orders.FailsWith(StatusCode.FailedPrecondition,
            () => execution.OpenPositionAsync(Orders.Open(quantity: "0.01", leverage: 5)).ResponseAsync);
        var margin = await Orders.FailsWith(StatusCode.FailedPrecondition,
            () => execution.OpenPositionAsync(Orders.Open(quantity: "0.01", marginType: MarginType.Isolated)).ResponseAsync);
        Assert.StartsWith("leverage: ", leverage.Status.Detail, StringComparison.Ordinal);
        Assert.StartsWith("margin_type: ", margin.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(before, await stack.OrderRequestsAsync());
        Assert.Equal(3, Assert.Single(await stack.Venue().GetPositionsAsync("BTCUSDT")).Leverage);
    }

    [Fact]
    public async Task OpenPosition_SymbolTheVenueIsSettling_RefusedNamingItsStatusAndNothingSent()
    {
        await using var stack = await ExecutionStack.StartAsync(postgres, rabbit);
        await stack.Execution.OpenPositionAsync(Orders.Open(symbol: "ETHUSDT", quantity: "0.1"));
        // The instrument catalog is read at start (and refreshed every few minutes): a start after the change sees it.
        await stack.StopExecutionAsync();
        await stack.Paper.SetStatusAsync("BTCUSDT", "SETTLING");
        await stack.StartExecutionAsync();
        var before = (await stack.OrderRequestsAsync(), await stack.Paper.RequestCountAsync("POST /fapi/v1/leverage"),
            await stack.Paper.RequestCountAsync("POST /fapi/v1/marginType"));

        var refused = await Orders.FailsWith(StatusCode.FailedPrecondition,
            () => stack.Execution.OpenPositionAsync(Orders.Open(quantity: "0.01", leverage: 5)).ResponseAsync);

        Assert.StartsWith("symbol: BTCUSDT is not open for trading at the venue (status SETTLING)", refused.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(before, (await stack.OrderRequestsAsync(), await stack.Paper.RequestCountAsync("POST /fapi/v1/leverage"),
            await stack.Paper.RequestCountAsync("POST /fapi/v1/marginType")));
        Assert.Equal(1, await stack.CountAsync("positions"));
        // Another symbol still trades.
        Assert.NotEmpty((await stack.Execution.OpenPositionAsync(Orders.Open(symbol: "ETHUSDT", quantity: "0.1"))).EntryPrice);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ClosePosition_WithTheOpensClientOrderId_RefusedAsAlreadyUsedAndThePositionStaysOpen(bool restarted)
    {
        await using var stack = await ExecutionStack.StartAsync(postgres, rabbit);
        var open = Orders.Open(quantity: "0.01");
        await stack.Execution.OpenPositionAsync(open);
        if (restarted)
        {
            // The key space open, close and reduce share is memory: after a restart the venue's order refuses the id.
            await stack.StopExecutionAsync();
            await stack.StartExecutionAsync();
        }

        var before = await stack.OrderRequestsAsync();

        // The venue holds the opening BUY under this id: it must not be taken for a close that already happened.
        var reused = await Orders.FailsWith(StatusCode.AlreadyExists,
            () => stack.Execution.ClosePositionAsync(new ClosePositionRequest { ClientOrderId = open.ClientOrderId, Symbol = "BTCUSDT" }).ResponseAsync);
        Assert.StartsWith("client_order_id:", reused.Status.Detail, StringComparison.Ordinal);
        var reduced = await Orders.FailsWith(StatusCode.AlreadyExists,
            () => stack.Execution.ReducePositionAsync(new ReducePositionRequest { ClientOrderId = open.ClientOrderId, Symbol = "BTCUSDT", Fraction = "0.5" }).ResponseAsync);
        Assert.StartsWith("client_order_id:", reduced.Status.Detail, StringComparison.Ordinal);

        Assert.Equal(before, await stack.OrderRequestsAsync());
        Assert.Equal(0.01m, (await stack.Venue().GetPositionsAsync("BTCUSDT")).Single(p => p.PositionAmt != 0m).PositionAmt);
        Assert.Equal(1, await stack.CountAsync("positions WHERE status = 'open' AND quantity = 0.01"));
    }

    /// <summary>
    /// While the venue's instrument list cannot be read (never loaded here: exchangeInfo answers 503), a request that is
    /// malformed whatever the venue lists is still INVALID_ARGUMENT naming its field. Before, the list was read first, and
    /// a leverage of 0, a reduce by 150 % or a close's over-long reason answered UNAVAILABLE, which tells the caller to
    /// send the same request again. A well-formed open does need the list: UNAVAILABLE. Nothing reaches the venue.
    /// </summary>
    [Fact]
    public async Task Requests_MalformedWhileTheInstrumentListIsOutOfReach_InvalidArgumentNamingTheField()
    {
        await using var stack = await ExecutionStack.StartAsync(postgres, rabbit);
        await stack.Paper.InjectFaultAsync(PaperExchange.Control.FaultKind.Unavailable, "/fapi/v1/exchangeInfo", count: 1_000);
        var execution = stack.Execution;

        await Orders.InvalidArgument("leverage", () => execution.OpenPositionAsync(Orders.Open(leverage: 0)).ResponseAsync);
        await Orders.InvalidArgument("quantity", () => execution.OpenPositionAsync(Orders.Open(quantity: "-0.01")).ResponseAsync);
        await Orders.InvalidArgument("fraction", () => execution.ReducePositionAsync(
            new ReducePositionRequest { ClientOrderId = Orders.NewId("r"), Symbol = "BTCUSDT", Fraction = "1.5" }).ResponseAsync);
        await Orders.InvalidArgument("reason", () => execution.ClosePositionAsync(
            new ClosePositionRequest { ClientOrderId = Orders.NewId("c"), Symbol = "BTCUSDT", Reason = new string('r', 257) }).ResponseAsync);
        await Orders.InvalidArgument("leverage", () => execution.SetLeverageAsync(
            new SetLeverageRequest { IdempotencyKey = Orders.NewId("l"), Symbol = "BTCUSDT", Leverage = 0 }).ResponseAsync);

        // The list was out of reach all along: a well-formed open cannot be judged without it.
        await Orders.FailsWith(StatusCode.Unavailable, () => execution.OpenPositionAsync(Orders.Open(quantity: "0.01")).ResponseAsync);
        Assert.Equal(0, await stack.OrderRequestsAsync());
        Assert.True(await stack.Paper.RequestCountAsync("POST /fapi/v1/leverage") == 0, "leverage was sent to the venue");
    }

    /// <summary>
    /// SetLeverage and SetMarginType take keys by the rule every other call does (Wire.Key): a control or invisible
    /// character, or a space at either end, is INVALID_ARGUMENT naming idempotency_key and nothing reaches the venue.
    /// Before, only emptiness and length were checked: the venue's leverage changed under "k\u0001" and the Ledger then
    /// refused the record's amend under that key (the record kept the old leverage until a reconciliation).
    /// </summary>
    [Theory]
    [InlineData("k\u0001")]
    [InlineData("k\u200B")]
    [InlineData("k ")]
    [InlineData(" k")]
    public async Task SetLeverageAndMarginType_KeyBreakingTheKeyRule_InvalidArgumentNothingSent(string key)
    {
        await using var stack = await ExecutionStack.StartAsync(postgres, rabbit);
        await stack.Execution.OpenPositionAsync(Orders.Open(quantity: "0.01", leverage: 3));
        var settings = (await stack.Paper.RequestCountAsync("POST /fapi/v1/leverage"), await stack.Paper.RequestCountAsync("POST /fapi/v1/marginType"));

        await Orders.InvalidArgument("idempotency_key", () => stack.Execution.SetLeverageAsync(
            new SetLeverageRequest { IdempotencyKey = key, Symbol = "BTCUSDT", Leverage = 2 }).ResponseAsync);
        await Orders.InvalidArgument("idempotency_key", () => stack.Execution.SetMarginTypeAsync(
            new SetMarginTypeRequest { IdempotencyKey = key, Symbol = "ETHUSDT", MarginType = TradeEngine.Common.V1.MarginType.Isolated }).ResponseAsync);

        Assert.Equal(settings, (await stack.Paper.RequestCountAsync("POST /fapi/v1/leverage"), await stack.Paper.RequestCountAsync("POST /fapi/v1/marginType")));
        Assert.Equal(3, Assert.Single(await stack.Venue().GetPositionsAsync("BTCUSDT"), p => p.PositionAmt != 0m).Leverage);
        Assert.Equal(1, await stack.CountAsync("positions WHERE symbol = 'BTCUSDT' AND status = 'open' AND leverage = 3"));
    }

    /// <summary>
    /// An open whose outcome was not known to Execution (UNAVAILABLE: the venue's account could not be read) keeps its
    /// client order id's request: the id with another request is refused, nothing sent, and the same request runs
    /// again. Before, the failure forgot the request too, and the other request went to the venue under the id the first
    /// one may have placed an order with.
    /// </summary>
    [Fact]
    public async Task OpenPosition_SameIdAfterAnUnavailableAnswer_AnotherRequestRefusedAndTheSameOneRunsAgain()
    {
        await using var stack = await ExecutionStack.StartAsync(postgres, rabbit);
        await stack.Paper.InjectFaultAsync(PaperExchange.Control.FaultKind.Unavailable, "/fapi/v2/positionRisk", count: 1_000);
        var first = Orders.Open(symbol: "BTCUSDT", quantity: "0.01");
        await Orders.FailsWith(StatusCode.Unavailable, () => stack.Execution.OpenPositionAsync(first).ResponseAsync);
        await stack.Paper.ResetAsync(10_000m);
        var before = await stack.OrderRequestsAsync();

        var other = first.Clone();
        other.Symbol = "ETHUSDT";
        other.Quantity = "1";
        var refused = await Orders.FailsWith(StatusCode.AlreadyExists, () => stack.Execution.OpenPositionAsync(other).ResponseAsync);

        Assert.StartsWith("client_order_id:", refused.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(before, await stack.OrderRequestsAsync());
        var opened = await stack.Execution.OpenPositionAsync(first);
        Assert.Equal("BTCUSDT", opened.Symbol);
        Assert.Single(await stack.Paper.OrdersAsync(first.ClientOrderId));
    }

    /// <summary>
    /// The venue refuses the order for the moment: -1021 (the clock, again after the client's one re-sync). The answer is
    /// UNAVAILABLE, so the caller retries with the same id, and that retry opens once. Before, FAILED_PRECONDITION told the
    /// caller the request would never pass, while its id stayed taken for this very request.
    /// </summary>
    [Fact]
    public async Task OpenPosition_VenueRefusesTheClockTwice_UnavailableAndTheRetryWithTheSameIdOpensOnce()
    {
        await using var stack = await ExecutionStack.StartAsync(postgres, rabbit);
        await stack.Paper.InjectFaultAsync(PaperExchange.Control.FaultKind.Timestamp, "/fapi/v1/order", count: 2);
        var open = Orders.Open(symbol: "BTCUSDT", quantity: "0.01");

        var refused = await Orders.FailsWith(StatusCode.Unavailable, () => stack.Execution.OpenPositionAsync(open).ResponseAsync);

        Assert.Contains("-1021", refused.Status.Detail, StringComparison.Ordinal);
        Assert.Empty(await stack.Paper.OrdersAsync(open.ClientOrderId));
        var opened = await stack.Execution.OpenPositionAsync(open);
        Assert.Equal("0.01", opened.Quantity);
        Assert.Single(await stack.Paper.OrdersAsync(open.ClientOrderId));
    }

    /// <summary>
    /// This service's venue credentials refused by the venue (-2015): FAILED_PRECONDITION saying so, nothing placed. Before,
    /// the same status read "rejected with code -2015" as if the request were at fault. (Credentials not configured at all
    /// keep Execution from its first reconciliation, so no open gets that far; the client's refusal before sending is
    /// FAILED_PRECONDITION too, no longer INVALID_ARGUMENT naming <c>Binance:ApiKey</c>.)
    /// </summary>
    [Fact]
    public async Task OpenPosition_TheVenueRefusesThisServicesCredentials_FailedPreconditionSayingSoAndNothingPlaced()
    {
        await using var stack = await ExecutionStack.StartAsync(postgres, rabbit);
        await stack.Paper.InjectFaultAsync(PaperExchange.Control.FaultKind.Reject, "/fapi/v1/order", count: 1, status: 401, code: -2015);
        var open = Orders.Open(symbol: "BTCUSDT", quantity: "0.01");

        var refused = await Orders.FailsWith(StatusCode.FailedPrecondition, () => stack.Execution.OpenPositionAsync(open).ResponseAsync);

        Assert.Contains("refused this service's credentials with code -2015", refused.Status.Detail, StringComparison.Ordinal);
        Assert.Empty(await stack.Paper.OrdersAsync(open.ClientOrderId));
    }

    /// <summary>
    /// A close's client order id given to a reduce once a new position stands: refused, nothing sent. Before, the
    /// reduce's own key space did not know the id, the venue's look-up found the close's order, and the reduce was
    /// answered as done (replayed, the whole position "reduced") while nothing happened.
    /// </summary>
    [Fact]
    public async Task ReducePosition_WithAClosesClientOrderId_AlreadyExistsAndTheNewPositionStays()
    {
        await using var stack = await ExecutionStack.StartAsync(postgres, rabbit);
        await stack.Execution.OpenPositionAsync(Orders.Open(symbol: "ETHUSDT", quantity: "1", leverage: 2));
        var close = Orders.Close("ETHUSDT");
        await stack.Execution.ClosePositionAsync(close);
        await stack.Execution.OpenPositionAsync(Orders.Open(symbol: "ETHUSDT", quantity: "1", leverage: 2));
        var before = await stack.OrderRequestsAsync();

        var reused = await Orders.FailsWith(StatusCode.AlreadyExists,
            () => stack.Execution.ReducePositionAsync(new ReducePositionRequest { ClientOrderId = close.ClientOrderId, Symbol = "ETHUSDT", Fraction = "0.5" }).ResponseAsync);

        Assert.StartsWith("client_order_id", reused.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(before, await stack.OrderRequestsAsync());
        Assert.Equal(1m, (await stack.Venue().GetPositionsAsync("ETHUSDT")).Single(p => p.PositionAmt != 0m).PositionAmt);
        Assert.Equal(1, await stack.CountAsync("positions WHERE status = 'open' AND quantity = 1"));
        Assert.Equal(0, await stack.CountAsync("risk_events WHERE reason LIKE '%' || $1 || '%'", close.ClientOrderId));
    }

    [Fact]
    public async Task SetLeverage_KeyReusedWithAnotherLeverage_AlreadyExistsAndALateRetryNeverPutsTheOldSettingBack()
    {
        await using var stack = await ExecutionStack.StartAsync(postgres, rabbit);
        var first = new SetLeverageRequest { IdempotencyKey = "lev-a", Symbol = "BTCUSDT", Leverage = 2 };
        Assert.Equal(2, (await stack.Execution.SetLeverageAsync(first)).Leverage);

        var reused = await Orders.FailsWith(StatusCode.AlreadyExists,
            () => stack.Execution.SetLeverageAsync(new SetLeverageRequest { IdempotencyKey = "lev-a", Symbol = "BTCUSDT", Leverage = 4 }).ResponseAsync);
        Assert.Contains("idempotency_key", reused.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(3, (await stack.Execution.SetLeverageAsync(new SetLeverageRequest { IdempotencyKey = "lev-b", Symbol = "BTCUSDT", Leverage = 3 })).Leverage);

        // A late retry of the first call answers as the first time and leaves the venue at the newer 3.
        Assert.Equal(2, (await stack.Execution.SetLeverageAsync(first)).Leverage);
        Assert.Equal(3, (await stack.Venue().GetPositionsAsync("BTCUSDT")).Single().Leverage);
    }

    [Fact]
    public async Task SetLeverage_AboveTheRiskLimit_FailedPreconditionNamingTheRuleAndVenueUnchanged()
    {
        await using var stack = await ExecutionStack.StartAsync(postgres, rabbit);
        var set = await stack.Execution.SetLeverageAsync(new SetLeverageRequest { IdempotencyKey = "lev-1", Symbol = "BTCUSDT", Leverage = 4 });
        Assert.Equal(4, set.Leverage);

        var refused = await Orders.FailsWith(StatusCode.FailedPrecondition,
            () => stack.Execution.SetLeverageAsync(new SetLeverageRequest { IdempotencyKey = "lev-2", Symbol = "BTCUSDT", Leverage = 20 }).ResponseAsync);

        Assert.Contains("leverage", refused.Status.Detail, StringComparison.Ordinal);
        Assert.Contains("limit", refused.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(4, await LeverageAtVenueAsync(stack));
        await Orders.InvalidArgument("leverage",
            () => stack.Execution.SetLeverageAsync(new SetLeverageRequest { IdempotencyKey = "lev-3", Symbol = "BTCUSDT", Leverage = 0 }).ResponseAsync);
        await Orders.InvalidArgument("symbol",
            () => stack.Execution.SetLeverageAsync(new SetLeverageRequest { IdempotencyKey = "lev-4", Symbol = "NOPEUSDT", Leverage = 2 }).ResponseAsync);
    }

    /// <summary>
    /// Lowering the leverage of an open isolated position, which Binance refuses (-4161): FAILED_PRECONDITION naming the
    /// venue's code and reason, and the venue's leverage unchanged. Before, the simulator took it (and the client knew
    /// the code as no rejection in particular).
    /// </summary>
    [Fact]
    public async Task SetLeverage_LoweredOnAnOpenIsolatedPosition_FailedPreconditionWithTheVenuesReason()
    {
        await using var stack = await ExecutionStack.StartAsync(postgres, rabbit);
        var venue = stack.Venue();
        await venue.ChangeMarginTypeAsync("BTCUSDT", Domain.MarginType.Isolated);
        await venue.ChangeLeverageAsync("BTCUSDT", 4);
        await venue.PlaceOrderAsync(new Binance.Models.NewOrder("BTCUSDT", Binance.Models.OrderSide.Buy, Binance.Models.OrderType.Market, 0.01m), "iso-open");

        var refused = await Orders.FailsWith(StatusCode.FailedPrecondition,
            () => stack.Execution.SetLeverageAsync(new SetLeverageRequest { IdempotencyKey = "lev-iso", Symbol = "BTCUSDT", Leverage = 2 }).ResponseAsync);

        Assert.Contains("-4161", refused.Status.Detail, StringComparison.Ordinal);
        Assert.Contains("Leverage reduction is not supported in Isolated Margin Mode with open positions", refused.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(4, await LeverageAtVenueAsync(stack));
    }

    private static async Task<int> LeverageAtVenueAsync(ExecutionStack stack)
    {
        using var http = new HttpClient { BaseAddress = stack.Paper.Address };
        var client = new Binance.BinanceClient(http, Microsoft.Extensions.Options.Options.Create(new Binance.BinanceOptions
        {
            BaseUrl = stack.Paper.Address.ToString(), ApiKey = PaperExchangeHost.ApiKey, ApiSecret = PaperExchangeHost.ApiSecret,
        }));
        return (await client.GetPositionsAsync("BTCUSDT")).Single().Leverage;
    }
}
