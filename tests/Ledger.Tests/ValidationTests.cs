using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using TradeEngine.Common.V1;
using TradeEngine.Ledger.Mapping;
using TradeEngine.Ledger.Tests.Support;
using TradeEngine.Ledger.V1;
using TradeEngine.Testing.Servers;
using static TradeEngine.Ledger.Tests.Support.Requests;

namespace TradeEngine.Ledger.Tests;

/// <summary>Bad input is INVALID_ARGUMENT naming the field, and nothing is written.</summary>
[Collection(LedgerCollection.Name)]
public sealed class ValidationTests(PostgresServer postgres, RabbitMqServer rabbit) : IAsyncLifetime
{
    private LedgerHost _ledger = null!;

    private LedgerService.LedgerServiceClient Client => _ledger.Client;

    public async Task InitializeAsync() => _ledger = await LedgerHost.StartAsync(postgres, rabbit);

    public async Task DisposeAsync() => await _ledger.DisposeAsync();

    [Theory]
    [InlineData("price", "abc")]
    [InlineData("price", "-1")]
    [InlineData("price", "0")]
    [InlineData("price", "1e5")]
    [InlineData("price", "1,5")]
    [InlineData("price", "0.000000001")]
    [InlineData("price", "123456789012345678901")]
    [InlineData("quantity", "-0.00000001")]
    [InlineData("quantity", "")]
    [InlineData("fee", "-0.1")]
    [InlineData("symbol", "BTCUSDTBTCUSDTBTCUSDTBTCUSDTBTCUS")]
    [InlineData("client_order_id", "")]
    [InlineData("position_id", "not-a-uuid")]
    // Identifiers the Ledger keys rows by, in a second spelling: "123 " would record fill 123 twice, "btcusdt" open a
    // second BTCUSDT market; a UUID in braces or without hyphens would hash as another request under the same key.
    [InlineData("symbol", "BTCUSDT ")]
    [InlineData("symbol", "btcusdt")]
    [InlineData("venue", " binance")]
    [InlineData("exchange_trade_id", "123 ")]
    [InlineData("client_order_id", "o 1")]
    [InlineData("position_id", "{00000000-0000-0000-0000-000000000001}")]
    [InlineData("position_id", "00000000000000000000000000000001")]
    // Invisible format characters (Unicode Cf), neither whitespace nor control: "123\u200B" recorded fill 123 twice.
    [InlineData("exchange_trade_id", "123\u200B")]
    [InlineData("exchange_trade_id", "\uFEFF123")]
    [InlineData("client_order_id", "o\u20601")]
    [InlineData("venue", "binance\u200D")]
    [InlineData("symbol", "BTC\u00ADUSDT")]
    [InlineData("symbol", "BTCUSDT\u202E")]
    [InlineData("exchange_order_id", "778899\u200B")]
    [InlineData("exchange_trade_id", "123\U000E0020")]
    // Upper case: the same id in a second spelling, which a retry under the same key hashed as another request.
    [InlineData("position_id", "0000000A-0000-0000-0000-000000000001")]
    [InlineData("position_id", "ABCDEF01-2345-6789-ABCD-EF0123456789")]
    public async Task RecordTrade_BadField_InvalidArgumentNamingFieldNothingWritten(string field, string value)
    {
        var request = Trade();
        switch (field)
        {
            case "price": request.Price = value; break;
            case "quantity": request.Quantity = value; break;
            case "fee": request.Fee = value; break;
            case "symbol": request.Symbol = value; break;
            case "client_order_id": request.ClientOrderId = value; break;
            case "position_id": request.PositionId = value; break;
            case "venue": request.Venue = value; break;
            case "exchange_trade_id": request.ExchangeTradeId = value; break;
            case "exchange_order_id": request.ExchangeOrderId = value; break;
        }

        await RpcAssert.InvalidArgument(field, () => Client.RecordTradeAsync(request).ResponseAsync);

        Assert.Equal(0, await _ledger.CountAsync("trades"));
        Assert.Equal(0, await _ledger.CountAsync("outbox"));
        Assert.Equal(0, await _ledger.CountAsync("idempotency_keys"));
    }

    [Fact]
    public async Task RecordTrade_UnspecifiedSide_InvalidArgumentNamingSide()
    {
        var request = Trade();
        request.Side = TradeSide.Unspecified;
        await RpcAssert.InvalidArgument("side", () => Client.RecordTradeAsync(request).ResponseAsync);
        Assert.Equal(0, await _ledger.CountAsync("trades"));
    }

    [Theory]
    [InlineData("quantity", "-1")]
    [InlineData("entry_price", "abc")]
    [InlineData("symbol", "ABCDEFGHIJKLMNOPQRSTUVWXYZ1234567")]
    [InlineData("leverage", "0")]
    [InlineData("idempotency_key", "")]
    [InlineData("idempotency_key", "key ")]
    [InlineData("symbol", "BTCUSDT ")]
    [InlineData("symbol", "BtcUsdt")]
    [InlineData("account", "main ")]
    [InlineData("account", "main\u200B")]
    [InlineData("idempotency_key", "key\u200B")]
    [InlineData("idempotency_key", "\u2060key")]
    public async Task OpenPosition_BadField_InvalidArgumentNothingWritten(string field, string value)
    {
        var request = Open();
        switch (field)
        {
            case "quantity": request.Quantity = value; break;
            case "entry_price": request.EntryPrice = value; break;
            case "symbol": request.Symbol = value; break;
            case "leverage": request.Leverage = int.Parse(value, System.Globalization.CultureInfo.InvariantCulture); break;
            case "idempotency_key": request.IdempotencyKey = value; break;
            case "account": request.Account = value; break;
        }

        await RpcAssert.InvalidArgument(field, () => Client.OpenPositionAsync(request).ResponseAsync);

        Assert.Equal(0, await _ledger.CountAsync("positions"));
        Assert.Equal(0, await _ledger.CountAsync("idempotency_keys"));
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(0)]
    [InlineData(1001)]
    [InlineData(1_000_000)]
    public async Task GetPositions_PageSizeOutOfRange_InvalidArgumentNamingPageSize(int size)
    {
        await RpcAssert.InvalidArgument("page.page_size", () => Client.GetPositionsAsync(
            new GetPositionsRequest { Page = new PageRequest { PageSize = size } }).ResponseAsync);
    }

    [Fact]
    public async Task GetPositions_PageSizeUnset_UsesDefaultOfOneHundred()
    {
        for (var i = 0; i < LedgerWire.DefaultPageSize + 1; i++)
        {
            await Client.OpenPositionAsync(Open(symbol: $"P{i:D3}USDT"));
        }

        var first = await Client.GetPositionsAsync(new GetPositionsRequest { Page = new PageRequest() });
        var second = await Client.GetPositionsAsync(new GetPositionsRequest { Page = new PageRequest { PageToken = first.NextPageToken } });

        Assert.False(new PageRequest().HasPageSize);
        Assert.Equal(LedgerWire.DefaultPageSize, first.Positions.Count);
        Assert.Single(second.Positions);
        Assert.Empty(second.NextPageToken);
    }

    [Theory]
    [InlineData("%%%")]
    // A time without its id, past the calendar: it failed as INTERNAL.
    [InlineData("kp:4000000000000000000")]
    // A time without its id, in range: it was taken, and rows tying with the time were skipped.
    [InlineData("kp:638000000000000000")]
    // Another list's shape and kind.
    [InlineData("kh:12")]
    // The shape this list issued before tokens carried their filter's fingerprint.
    [InlineData("kp:638000000000000000:0123456789abcdef0123456789abcdef")]
    // A fingerprint of no filter.
    [InlineData("kp:638000000000000000:0123456789abcdef0123456789abcdef:0000000000000000")]
    public async Task GetPositions_ForgedPageToken_InvalidArgumentNamingToken(string token)
    {
        var sent = token == "%%%" ? token : Convert.ToBase64String(System.Text.Encoding.ASCII.GetBytes(token));
        await RpcAssert.InvalidArgument("page.page_token", () => Client.GetPositionsAsync(
            new GetPositionsRequest { Page = new PageRequest { PageToken = sent } }).ResponseAsync);
    }

    [Theory]
    [InlineData("kf:4000000000000000000")]
    [InlineData("kf:638000000000000000")]
    public async Task GetFundingHistory_PageTokenWithoutItsId_InvalidArgumentNamingToken(string token)
    {
        await RpcAssert.InvalidArgument("page.page_token", () => Client.GetFundingHistoryAsync(new GetFundingHistoryRequest
        {
            Range = new TimeRange { Start = At(T0), End = At(T0.AddDays(1)) },
            Page = new PageRequest { PageToken = Convert.ToBase64String(System.Text.Encoding.ASCII.GetBytes(token)) },
        }).ResponseAsync);
    }

    [Fact]
    public async Task GetPositions_TokenSentWithAnotherFilter_InvalidArgumentNamingToken()
    {
        foreach (var symbol in new[] { "AUSDT", "AUSDT", "BUSDT" })
        {
            var open = await Client.OpenPositionAsync(Open(symbol));
            await Client.ClosePositionAsync(Close(open.PositionId));
        }

        var first = await Client.GetPositionsAsync(new GetPositionsRequest { Symbol = "AUSDT", Page = new PageRequest { PageSize = 1 } });
        Assert.NotEmpty(first.NextPageToken);

        // The same filter pages on; another symbol, another status, or no filter at all is refused.
        var same = await Client.GetPositionsAsync(new GetPositionsRequest { Symbol = "AUSDT", Page = new PageRequest { PageSize = 1, PageToken = first.NextPageToken } });
        Assert.Equal("AUSDT", Assert.Single(same.Positions).Symbol);
        await RpcAssert.InvalidArgument("page.page_token", () => Client.GetPositionsAsync(new GetPositionsRequest
        {
            Symbol = "BUSDT", Page = new PageRequest { PageSize = 1, PageToken = first.NextPageToken },
        }).ResponseAsync);
        await RpcAssert.InvalidArgument("page.page_token", () => Client.GetPositionsAsync(new GetPositionsRequest
        {
            Symbol = "AUSDT", Status = PositionStatus.Open, Page = new PageRequest { PageSize = 1, PageToken = first.NextPageToken },
        }).ResponseAsync);
        await RpcAssert.InvalidArgument("page.page_token", () => Client.GetPositionsAsync(new GetPositionsRequest
        {
            Page = new PageRequest { PageSize = 1, PageToken = first.NextPageToken },
        }).ResponseAsync);
    }

    [Fact]
    public async Task GetFundingHistory_TokenSentWithAnotherRange_InvalidArgumentNamingToken()
    {
        var open = await Client.OpenPositionAsync(Open("BTCUSDT"));
        foreach (var hours in new[] { 1, 8 })
        {
            await Client.LogFundingEventAsync(FundingEvent(open.PositionId, T0.AddHours(hours)));
        }

        var range = new TimeRange { Start = At(T0), End = At(T0.AddDays(1)) };
        var first = await Client.GetFundingHistoryAsync(new GetFundingHistoryRequest { Range = range, Page = new PageRequest { PageSize = 1 } });
        Assert.NotEmpty(first.NextPageToken);

        await RpcAssert.InvalidArgument("page.page_token", () => Client.GetFundingHistoryAsync(new GetFundingHistoryRequest
        {
            Range = new TimeRange { Start = At(T0), End = At(T0.AddDays(2)) }, Page = new PageRequest { PageSize = 1, PageToken = first.NextPageToken },
        }).ResponseAsync);
        await RpcAssert.InvalidArgument("page.page_token", () => Client.GetFundingHistoryAsync(new GetFundingHistoryRequest
        {
            Range = range, Symbol = "ETHUSDT", Page = new PageRequest { PageSize = 1, PageToken = first.NextPageToken },
        }).ResponseAsync);
        var rest = await Client.GetFundingHistoryAsync(new GetFundingHistoryRequest { Range = range, Page = new PageRequest { PageSize = 1, PageToken = first.NextPageToken } });
        Assert.Single(rest.Events);
        Assert.Empty(rest.NextPageToken);
    }

    [Fact]
    public async Task GetFundingHistory_PageSizeMillion_InvalidArgument()
    {
        await RpcAssert.InvalidArgument("page.page_size", () => Client.GetFundingHistoryAsync(new GetFundingHistoryRequest
        {
            Range = new TimeRange { Start = At(T0), End = At(T0.AddDays(1)) }, Page = new PageRequest { PageSize = 1_000_000 },
        }).ResponseAsync);
    }

    [Fact]
    public async Task GetFundingHistory_EndBeforeStart_InvalidArgumentNamingRangeEnd()
    {
        await RpcAssert.InvalidArgument("range.end", () => Client.GetFundingHistoryAsync(new GetFundingHistoryRequest
        {
            Range = new TimeRange { Start = At(T0), End = At(T0.AddDays(-1)) },
        }).ResponseAsync);
    }

    /// <summary>The curve ranks every snapshot of its range: a range of two centuries sorted the whole table in one call.</summary>
    [Fact]
    public async Task GetEquityCurve_RangeLongerThanAYear_InvalidArgumentNamingRangeEnd_AYearTaken()
    {
        await Client.LogPnlSnapshotAsync(new LogPnlSnapshotRequest
        {
            IdempotencyKey = Key(), Balance = "1", UnrealizedPnl = "0", RealizedPnl = "0", TotalPnl = "0", Equity = "1", TakenAt = At(T0),
        });

        await RpcAssert.InvalidArgument("range.end", () => Client.GetEquityCurveAsync(new GetEquityCurveRequest
        {
            Range = new TimeRange { Start = At(T0), End = At(T0.AddDays(366).AddTicks(10)) },
        }).ResponseAsync);
        await RpcAssert.InvalidArgument("range.end", () => Client.GetEquityCurveAsync(new GetEquityCurveRequest
        {
            Range = new TimeRange { Start = At(new DateTimeOffset(2000, 1, 1, 0, 0, 0, TimeSpan.Zero)), End = At(new DateTimeOffset(2199, 1, 1, 0, 0, 0, TimeSpan.Zero)) },
        }).ResponseAsync);
        var year = await Client.GetEquityCurveAsync(new GetEquityCurveRequest { Range = new TimeRange { Start = At(T0), End = At(T0.AddDays(366)) } });
        Assert.Single(year.Points);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(5001)]
    [InlineData(-3)]
    public async Task GetEquityCurve_MaxPointsOutOfRange_InvalidArgument(int maxPoints)
    {
        await RpcAssert.InvalidArgument("max_points", () => Client.GetEquityCurveAsync(new GetEquityCurveRequest
        {
            Range = new TimeRange { Start = At(T0), End = At(T0.AddDays(1)) }, MaxPoints = maxPoints,
        }).ResponseAsync);
    }

    /// <summary>
    /// A settlement's notional and payment are the ones its size, mark and rate make (8 decimals, half to even; positive
    /// when we pay, and at a positive rate longs pay): 1 × 100 × 0.0001 = 0.01 paid on 100. Anything else is refused
    /// naming the field, and nothing is posted; before, a payment of the wrong sign (received where it was paid) or size
    /// was booked as sent. A rate outside (−1, 1) is refused too.
    /// </summary>
    [Theory]
    [InlineData("0.0001", "100", "-0.01", "payment")]
    [InlineData("0.0001", "100", "0.02", "payment")]
    [InlineData("0.0001", "100", "0.00999999", "payment")]
    [InlineData("-0.0001", "100", "0.01", "payment")]
    [InlineData("0.0001", "1", "0.01", "notional")]
    [InlineData("0.0001", "-100", "0.01", "notional")]
    [InlineData("1", "100", "100", "funding_rate")]
    [InlineData("-1", "100", "-100", "funding_rate")]
    public async Task LogFundingEvent_AmountsNotTheSettlements_InvalidArgumentNothingPosted(string rate, string notional, string payment, string field)
    {
        var opened = await Client.OpenPositionAsync(Open());
        var request = new LogFundingEventRequest
        {
            IdempotencyKey = Key(), PositionId = opened.PositionId, Symbol = "BTCUSDT", Venue = "binance", FundingRate = rate,
            PositionSize = "1", MarkPrice = "100", Notional = notional, Payment = payment, FundingTime = At(T0.AddHours(1)),
        };

        await RpcAssert.InvalidArgument(field, () => Client.LogFundingEventAsync(request).ResponseAsync);

        Assert.Equal(0, await _ledger.CountAsync("funding_events"));
        Assert.Equal(0, await _ledger.CountAsync("idempotency_keys WHERE rpc = 'LogFundingEvent'"));
        Assert.Equal("0", (await Client.GetPositionAsync(new GetPositionRequest { PositionId = opened.PositionId })).Funding);
        // The settlement's own amounts are taken.
        request.FundingRate = "0.0001";
        request.Notional = "100";
        request.Payment = "0.01";
        await Client.LogFundingEventAsync(request);
        Assert.Equal("0.01", (await Client.GetPositionAsync(new GetPositionRequest { PositionId = opened.PositionId })).Funding);
    }

    /// <summary>The size is signed (long positive): none, or the other side's, is not a settlement of this long position.</summary>
    [Theory]
    [InlineData("0")]
    [InlineData("-1")]
    public async Task LogFundingEvent_SizeOfNoneOrOfTheOtherSide_InvalidArgumentNothingPosted(string size)
    {
        var opened = await Client.OpenPositionAsync(Open());
        await RpcAssert.InvalidArgument("position_size", () => Client.LogFundingEventAsync(new LogFundingEventRequest
        {
            IdempotencyKey = Key(), PositionId = opened.PositionId, Symbol = "BTCUSDT", Venue = "binance", FundingRate = "0.0001",
            PositionSize = size, MarkPrice = "100", Notional = "100", Payment = "0.01", FundingTime = At(T0.AddHours(1)),
        }).ResponseAsync);
        Assert.Equal(0, await _ledger.CountAsync("funding_events"));
        Assert.Equal(1, await _ledger.CountAsync("positions WHERE funding = 0"));
        Assert.Equal(0, await _ledger.CountAsync("outbox WHERE message_type = 'FundingPaid'"));
    }

    [Fact]
    public async Task LogFundingEvent_MalformedPayment_InvalidArgumentNothingPosted()
    {
        var opened = await Client.OpenPositionAsync(Open());
        await RpcAssert.InvalidArgument("payment", () => Client.LogFundingEventAsync(new LogFundingEventRequest
        {
            IdempotencyKey = Key(), PositionId = opened.PositionId, Symbol = "BTCUSDT", Venue = "binance", FundingRate = "0.0001",
            PositionSize = "1", MarkPrice = "100", Notional = "100", Payment = "0.01.0", FundingTime = At(T0),
        }).ResponseAsync);
        Assert.Equal(0, await _ledger.CountAsync("funding_events"));
    }

    /// <summary>A settlement naming a BTCUSDT position but another market would be counted in ETH's history and BTC's totals.</summary>
    [Theory]
    [InlineData("symbol", "ETHUSDT", "binance")]
    [InlineData("venue", "BTCUSDT", "okx")]
    public async Task LogFundingEvent_MarketNotThePositions_InvalidArgumentNothingPosted(string field, string symbol, string venue)
    {
        var opened = await Client.OpenPositionAsync(Open());

        await RpcAssert.InvalidArgument(field, () => Client.LogFundingEventAsync(new LogFundingEventRequest
        {
            IdempotencyKey = Key(), PositionId = opened.PositionId, Symbol = symbol, Venue = venue, FundingRate = "0.0001",
            PositionSize = "1", MarkPrice = "100", Notional = "100", Payment = "0.01", FundingTime = At(T0.AddHours(1)),
        }).ResponseAsync);

        Assert.Equal(0, await _ledger.CountAsync("funding_events"));
        Assert.Equal(1, await _ledger.CountAsync("positions WHERE funding = 0"));
    }

    [Theory]
    [InlineData("symbol", "ETHUSDT", "binance")]
    [InlineData("venue", "BTCUSDT", "okx")]
    public async Task RecordTrade_MarketNotThePositions_InvalidArgumentNothingWritten(string field, string symbol, string venue)
    {
        var opened = await Client.OpenPositionAsync(Open());
        var trade = Trade();
        (trade.PositionId, trade.Symbol, trade.Venue) = (opened.PositionId, symbol, venue);

        await RpcAssert.InvalidArgument(field, () => Client.RecordTradeAsync(trade).ResponseAsync);

        Assert.Equal(0, await _ledger.CountAsync("trades WHERE client_order_id = $1", trade.ClientOrderId));
        // The same trade on the position's own market is taken.
        (trade.Symbol, trade.Venue) = ("BTCUSDT", "binance");
        trade.ExchangeTradeId = Key();
        Assert.False((await Client.RecordTradeAsync(trade)).Replayed);
        Assert.Equal(1, await _ledger.CountAsync("trades WHERE client_order_id = $1 AND position_id = $2::uuid", trade.ClientOrderId, opened.PositionId));
    }

    [Fact]
    public async Task LogFundingEvent_UnknownPosition_NotFoundNothingWritten()
    {
        await RpcAssert.FailsWith(Grpc.Core.StatusCode.NotFound, () => Client.LogFundingEventAsync(new LogFundingEventRequest
        {
            IdempotencyKey = Key(), PositionId = Guid.NewGuid().ToString(), Symbol = "BTCUSDT", Venue = "binance", FundingRate = "0.0001",
            PositionSize = "1", MarkPrice = "100", Notional = "100", Payment = "0.01", FundingTime = At(T0),
        }).ResponseAsync);
        Assert.Equal(0, await _ledger.CountAsync("idempotency_keys"));
    }

    /// <summary>
    /// Filters take identifiers and upper-case symbols, as the rows were written (and as GetFundingHistory's filters do):
    /// "btcusdt" or "binance " matched nothing and answered an empty list, as if the position did not exist.
    /// </summary>
    [Theory]
    [InlineData("symbol", "btcusdt")]
    [InlineData("symbol", " ")]
    [InlineData("symbol", "BTCUSDT ")]
    [InlineData("venue", "binance ")]
    [InlineData("venue", " ")]
    [InlineData("venue", "bin ance")]
    public async Task GetPositions_FilterNotAnIdentifier_InvalidArgumentNamingField(string field, string value)
    {
        await Client.OpenPositionAsync(Open());
        var request = new GetPositionsRequest();
        if (field == "symbol") { request.Symbol = value; } else { request.Venue = value; }

        await RpcAssert.InvalidArgument(field, () => Client.GetPositionsAsync(request).ResponseAsync);
        if (field == "venue")
        {
            await RpcAssert.InvalidArgument("venue", () => Client.GetOpenPositionsAsync(new GetOpenPositionsRequest { Venue = value }).ResponseAsync);
        }

        // An empty filter still means any; the written spelling still matches.
        Assert.Single((await Client.GetPositionsAsync(new GetPositionsRequest())).Positions);
        Assert.Single((await Client.GetPositionsAsync(new GetPositionsRequest { Venue = "binance", Symbol = "BTCUSDT" })).Positions);
        Assert.Single((await Client.GetOpenPositionsAsync(new GetOpenPositionsRequest { Venue = "binance" })).Positions);
        Assert.Single((await Client.GetOpenPositionsAsync(new GetOpenPositionsRequest())).Positions);
    }

    /// <summary>A risk event's symbol is written as every other row's: "btcusdt" was stored as given, a market of its own.</summary>
    [Theory]
    [InlineData("btcusdt")]
    [InlineData(" ")]
    [InlineData("BTCUSDT ")]
    [InlineData("BTC USDT")]
    public async Task LogRiskEvent_SymbolNotAsTheVenueListsIt_InvalidArgumentNamingSymbolNothingWritten(string symbol)
    {
        await RpcAssert.InvalidArgument("symbol", () => Client.LogRiskEventAsync(new LogRiskEventRequest
        {
            IdempotencyKey = Key(), EventType = "reconciliation_mismatch", Severity = RiskEventSeverity.Warning, Reason = "r", Symbol = symbol,
        }).ResponseAsync);

        Assert.Equal(0, await _ledger.CountAsync("risk_events"));
        Assert.Equal(0, await _ledger.CountAsync("outbox"));
        Assert.Equal(0, await _ledger.CountAsync("idempotency_keys"));
        // Without a symbol, or with one as the venue lists it, the event is logged.
        await Client.LogRiskEventAsync(new LogRiskEventRequest { IdempotencyKey = Key(), EventType = "t", Severity = RiskEventSeverity.Info, Reason = "r" });
        await Client.LogRiskEventAsync(new LogRiskEventRequest
        {
            IdempotencyKey = Key(), EventType = "t", Severity = RiskEventSeverity.Info, Reason = "r", Symbol = "BTCUSDT",
        });
        Assert.Equal(1, await _ledger.CountAsync("risk_events WHERE symbol = 'BTCUSDT'"));
        Assert.Equal(1, await _ledger.CountAsync("risk_events WHERE symbol IS NULL"));
    }

    [Fact]
    public async Task SetKillSwitch_ActiveWithoutTrigger_InvalidArgumentStateUnchanged()
    {
        await RpcAssert.InvalidArgument("trigger", () => Client.SetKillSwitchAsync(
            new SetKillSwitchRequest { IdempotencyKey = Key(), Active = true, Actor = "risk" }).ResponseAsync);
        Assert.Equal(0, await _ledger.CountAsync("kill_switch_history"));
    }

    /// <summary>
    /// The trigger is one of the values the contract lists, as Risk writes and reads them: any other text was stored and
    /// came back to Risk as a trigger it cannot name.
    /// </summary>
    [Theory]
    [InlineData(true, "panic")]
    [InlineData(true, "Operator")]
    [InlineData(true, "operator ")]
    [InlineData(true, " ")]
    [InlineData(false, "reset")]
    [InlineData(false, " ")]
    public async Task SetKillSwitch_TriggerNotAListedValue_InvalidArgumentNamingTriggerNoHistory(bool active, string trigger)
    {
        await RpcAssert.InvalidArgument("trigger", () => Client.SetKillSwitchAsync(new SetKillSwitchRequest
        {
            IdempotencyKey = Key(), Active = active, Trigger = trigger, Reason = "r", Actor = "risk",
        }, LedgerHost.OperatorHeaders).ResponseAsync);

        Assert.Equal(0, await _ledger.CountAsync("kill_switch_history"));
        Assert.Equal(0, await _ledger.CountAsync("outbox"));
        Assert.False((await Client.GetKillSwitchAsync(new GetKillSwitchRequest())).Active);
    }

    /// <summary>Each listed trigger latches; a reset takes Risk's "operator", or none (then "operator").</summary>
    [Fact]
    public async Task SetKillSwitch_ListedTriggersAndResets_Taken()
    {
        foreach (var trigger in new[] { "daily_loss", "drawdown", "liquidate_all", "operator", "emergency_close_all" })
        {
            var latched = await Client.SetKillSwitchAsync(new SetKillSwitchRequest { IdempotencyKey = Key(), Active = true, Trigger = trigger, Actor = "risk" });
            Assert.Equal(trigger, latched.Trigger);
            var reset = await Client.SetKillSwitchAsync(new SetKillSwitchRequest
            {
                IdempotencyKey = Key(), Active = false, Trigger = trigger == "daily_loss" ? string.Empty : "operator", Actor = "ops",
            }, LedgerHost.OperatorHeaders);
            Assert.False(reset.Active);
            Assert.Equal("operator", reset.Trigger);
        }

        Assert.Equal(10, await _ledger.CountAsync("kill_switch_history"));
    }

    [Fact]
    public async Task CheckInbox_EventIdNotUuid_InvalidArgumentNamingEventId()
    {
        await RpcAssert.InvalidArgument("event_id", () => Client.CheckInboxAsync(
            new CheckInboxRequest { Consumer = "c", EventId = "42" }).ResponseAsync);
    }

    public static TheoryData<string> BadTimestampCases => ["nanos-negative", "nanos-too-big", "year-10000", "year-1"];

    private static Google.Protobuf.WellKnownTypes.Timestamp BadTimestamp(string kind) => kind switch
    {
        "nanos-negative" => new() { Seconds = At(T0).Seconds, Nanos = -1 },
        "nanos-too-big" => new() { Seconds = At(T0).Seconds, Nanos = 1_000_000_000 },
        "year-10000" => new() { Seconds = 253_402_300_800 },
        _ => new() { Seconds = -62_135_596_801 },
    };

    [Theory]
    [MemberData(nameof(BadTimestampCases))]
    public async Task Timestamps_Malformed_InvalidArgumentNamingFieldNothingWritten(string kind)
    {
        var ts = BadTimestamp(kind);
        var open = Open();
        open.OpenedAt = ts;
        await RpcAssert.InvalidArgument("opened_at", () => Client.OpenPositionAsync(open).ResponseAsync);
        var opened = await Client.OpenPositionAsync(Open());
        await RpcAssert.InvalidArgument("reduced_at", () => Client.ReducePositionAsync(new ReducePositionRequest
        {
            IdempotencyKey = Key(), PositionId = opened.PositionId, Quantity = "0.5", ExitPrice = "100", ReducedAt = ts,
        }).ResponseAsync);
        await RpcAssert.InvalidArgument("closed_at", () => Client.ClosePositionAsync(new ClosePositionRequest
        {
            IdempotencyKey = Key(), PositionId = opened.PositionId, ExitPrice = "100", ClosedAt = ts,
        }).ResponseAsync);
        await RpcAssert.InvalidArgument("occurred_at", () => Client.LogRiskEventAsync(new LogRiskEventRequest
        {
            IdempotencyKey = Key(), EventType = "t", Severity = RiskEventSeverity.Info, Reason = "r", OccurredAt = ts,
        }).ResponseAsync);
        await RpcAssert.InvalidArgument("taken_at", () => Client.LogPnlSnapshotAsync(new LogPnlSnapshotRequest
        {
            IdempotencyKey = Key(), Balance = "1", UnrealizedPnl = "0", RealizedPnl = "0", TotalPnl = "0", Equity = "1", TakenAt = ts,
        }).ResponseAsync);
        await RpcAssert.InvalidArgument("day", () => Client.GetDailyPnlAsync(new GetDailyPnlRequest { Day = ts }).ResponseAsync);
        var trade = Trade();
        trade.ExecutedAt = ts;
        await RpcAssert.InvalidArgument("executed_at", () => Client.RecordTradeAsync(trade).ResponseAsync);

        Assert.Equal(1, await _ledger.CountAsync("idempotency_keys"));
        Assert.Equal(1, await _ledger.CountAsync("position_changes"));
    }

    /// <summary>
    /// A setting that cannot work stops the Ledger at start, naming its key; nothing is served with it. Checked through
    /// the start-up validator the host runs before anything starts (through a whole test host, a refused start
    /// sometimes surfaced as the host's ObjectDisposedException instead of the refusal).
    /// </summary>
    [Theory]
    [InlineData("Ledger:RecordedTimes:MaxAheadOfClock", "00:00:00", "Ledger:RecordedTimes:MaxAheadOfClock")]
    [InlineData("Ledger:RecordedTimes:MaxAheadOfClock", "-01:00:00", "Ledger:RecordedTimes:MaxAheadOfClock")]
    [InlineData("Ledger:Outbox:BatchSize", "0", "Ledger:Outbox:BatchSize")]
    [InlineData("Ledger:Outbox:Linger", "-00:00:01", "Ledger:Outbox:Linger")]
    [InlineData("Ledger:Outbox:IdleWait", "00:00:00", "Ledger:Outbox:IdleWait")]
    [InlineData("Ledger:Outbox:IdleWait", "30.00:00:00", "Ledger:Outbox:PublishTimeout, MaxBackoff, Linger, IdleWait")]
    [InlineData("Ledger:Outbox:Retention", "3651.00:00:00", "Ledger:Outbox:Retention")]
    [InlineData("Ledger:Outbox:MaxBackoff", "00:00:00.010", "Ledger:Outbox:InitialBackoff")]
    [InlineData("Ledger:Transfers:SnapshotGuardSeconds", "-1", "Ledger:Transfers:SnapshotGuardSeconds")]
    [InlineData("Ledger:Transfers:SnapshotGuardSeconds", "301", "Ledger:Transfers:SnapshotGuardSeconds")]
    public async Task Start_SettingThatCannotWork_RefusedAtStartNamingIt(string key, string value, string named)
    {
        await using var services = await LedgerServicesAsync(new Dictionary<string, string?> { [key] = value });

        var refused = Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(() =>
            services.GetRequiredService<Microsoft.Extensions.Options.IStartupValidator>().Validate());
        Assert.Contains(named, refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_DefaultSettings_PassTheStartUpChecks()
    {
        await using var services = await LedgerServicesAsync([]);

        services.GetRequiredService<Microsoft.Extensions.Options.IStartupValidator>().Validate();
        Assert.Equal(TimeSpan.FromDays(1), services.GetRequiredService<Microsoft.Extensions.Options.IOptions<RecordedTimesOptions>>().Value.MaxAheadOfClock);
        Assert.Equal(5, services.GetRequiredService<Microsoft.Extensions.Options.IOptions<TradeEngine.Ledger.Transfers.TransferOptions>>().Value.SnapshotGuardSeconds);
    }

    /// <summary>The Ledger's services as its Program registers them, with <paramref name="settings"/> added, not started.</summary>
    private async Task<ServiceProvider> LedgerServicesAsync(Dictionary<string, string?> settings)
    {
        var builder = Microsoft.AspNetCore.Builder.WebApplication.CreateBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:ledgerdb"] = await postgres.CreateDatabaseAsync(),
            ["ConnectionStrings:eventbus"] = rabbit.ConnectionString,
        });
        builder.Configuration.AddInMemoryCollection(settings);
        TradeEngine.Ledger.Extensions.LedgerServiceCollectionExtensions.AddLedgerServices(builder);
        return builder.Services.BuildServiceProvider();
    }

    /// <summary>
    /// A fact dated more than a day ahead of the Ledger's clock is a client's bug (an opened_at a year ahead would refuse
    /// every close dated now); the venue's clock an hour ahead is not (Execution records the venue's times).
    /// </summary>
    [Fact]
    public async Task RecordedTimes_MoreThanADayAhead_InvalidArgumentNamingFieldNothingWritten_AnHourAheadTaken()
    {
        var ahead = At(DateTimeOffset.UtcNow.AddDays(1).AddMinutes(5));
        var open = Open();
        open.OpenedAt = ahead;
        await RpcAssert.InvalidArgument("opened_at", () => Client.OpenPositionAsync(open).ResponseAsync);
        var withFill = Open();
        withFill.Fills.Add(new Fill
        {
            ClientOrderId = "o-1", ExchangeTradeId = "t-1", Price = "100", Quantity = "1", Fee = "0.1", ExecutedAt = ahead,
        });
        await RpcAssert.InvalidArgument("fills[0].executed_at", () => Client.OpenPositionAsync(withFill).ResponseAsync);
        var opened = await Client.OpenPositionAsync(Open());
        await RpcAssert.InvalidArgument("reduced_at", () => Client.ReducePositionAsync(new ReducePositionRequest
        {
            IdempotencyKey = Key(), PositionId = opened.PositionId, Quantity = "0.5", ExitPrice = "100", ReducedAt = ahead,
        }).ResponseAsync);
        await RpcAssert.InvalidArgument("closed_at", () => Client.ClosePositionAsync(new ClosePositionRequest
        {
            IdempotencyKey = Key(), PositionId = opened.PositionId, ExitPrice = "100", ClosedAt = ahead,
        }).ResponseAsync);
        await RpcAssert.InvalidArgument("occurred_at", () => Client.LogRiskEventAsync(new LogRiskEventRequest
        {
            IdempotencyKey = Key(), EventType = "t", Severity = RiskEventSeverity.Info, Reason = "r", OccurredAt = ahead,
        }).ResponseAsync);
        await RpcAssert.InvalidArgument("taken_at", () => Client.LogPnlSnapshotAsync(new LogPnlSnapshotRequest
        {
            IdempotencyKey = Key(), Balance = "1", UnrealizedPnl = "0", RealizedPnl = "0", TotalPnl = "0", Equity = "1", TakenAt = ahead,
        }).ResponseAsync);
        await RpcAssert.InvalidArgument("funding_time", () => Client.LogFundingEventAsync(new LogFundingEventRequest
        {
            IdempotencyKey = Key(), PositionId = opened.PositionId, Symbol = "BTCUSDT", Venue = "binance", FundingRate = "0.0001",
            PositionSize = "1", MarkPrice = "100", Notional = "100", Payment = "0.01", FundingTime = ahead,
        }).ResponseAsync);
        var trade = Trade();
        trade.ExecutedAt = ahead;
        await RpcAssert.InvalidArgument("executed_at", () => Client.RecordTradeAsync(trade).ResponseAsync);

        Assert.Equal(1, await _ledger.CountAsync("idempotency_keys"));
        Assert.Equal(1, await _ledger.CountAsync("position_changes"));
        Assert.Equal(0, await _ledger.CountAsync("trades"));

        var hourAhead = DateTimeOffset.UtcNow.AddHours(1);
        await Client.ClosePositionAsync(new ClosePositionRequest
        {
            IdempotencyKey = Key(), PositionId = opened.PositionId, ExitPrice = "100", ClosedAt = At(hourAhead),
        });
        var closed = await Client.GetPositionAsync(new GetPositionRequest { PositionId = opened.PositionId });
        Assert.Equal(hourAhead.ToUnixTimeMilliseconds(), closed.ClosedAt.ToDateTimeOffset().ToUnixTimeMilliseconds());
    }

    [Theory]
    [InlineData("strategy")]
    [InlineData("account")]
    [InlineData("symbol")]
    [InlineData("exit_reason")]
    [InlineData("reason")]
    [InlineData("exchange_order_id")]
    [InlineData("actor")]
    public async Task TextFields_NulCharacter_InvalidArgumentNamingField(string field)
    {
        const string Nul = "a\0b";
        Func<Task> call;
        switch (field)
        {
            case "strategy" or "account" or "symbol":
                var open = Open();
                if (field == "strategy") { open.Strategy = Nul; } else if (field == "account") { open.Account = Nul; } else { open.Symbol = Nul; }
                call = () => Client.OpenPositionAsync(open).ResponseAsync;
                break;
            case "exit_reason":
                var opened = await Client.OpenPositionAsync(Open());
                call = () => Client.ClosePositionAsync(new ClosePositionRequest
                {
                    IdempotencyKey = Key(), PositionId = opened.PositionId, ExitPrice = "100", ExitReason = Nul,
                }).ResponseAsync;
                break;
            case "reason":
                call = () => Client.LogRiskEventAsync(new LogRiskEventRequest
                {
                    IdempotencyKey = Key(), EventType = "t", Severity = RiskEventSeverity.Info, Reason = Nul,
                }).ResponseAsync;
                break;
            case "exchange_order_id":
                var trade = Trade();
                trade.ExchangeOrderId = Nul;
                call = () => Client.RecordTradeAsync(trade).ResponseAsync;
                break;
            default:
                call = () => Client.SetKillSwitchAsync(new SetKillSwitchRequest
                {
                    IdempotencyKey = Key(), Active = true, Trigger = "operator", Actor = Nul,
                }).ResponseAsync;
                break;
        }

        await RpcAssert.InvalidArgument(field, call);
        Assert.Equal(0, await _ledger.CountAsync("outbox WHERE message_type <> 'PositionOpened'"));
    }

    [Fact]
    public async Task OpenPosition_AbsurdNotional_InvalidArgumentNamingQuantityNothingWritten()
    {
        // Each value fits NUMERIC(28,8); their product overflows decimal, and closing such a position used to fail INTERNAL.
        await RpcAssert.InvalidArgument("quantity", () => Client.OpenPositionAsync(
            Open(quantity: "99999999999999999999", price: "99999999999999999999")).ResponseAsync);
        await RpcAssert.InvalidArgument("quantity", () => Client.OpenPositionAsync(
            Open(quantity: "1000000000", price: "1000.00000001")).ResponseAsync);

        Assert.Equal(0, await _ledger.CountAsync("positions"));
        Assert.Equal(0, await _ledger.CountAsync("idempotency_keys"));
    }

    [Fact]
    public async Task AbsurdNotionals_TradeReduceCloseFunding_InvalidArgumentNamingField()
    {
        var trade = Trade();
        trade.Quantity = "99999999999999999999";
        trade.Price = "99999999999999999999";
        await RpcAssert.InvalidArgument("quantity", () => Client.RecordTradeAsync(trade).ResponseAsync);

        var opened = await Client.OpenPositionAsync(Open(quantity: "1", price: "100"));
        await RpcAssert.InvalidArgument("quantity", () => Client.ReducePositionAsync(new ReducePositionRequest
        {
            IdempotencyKey = Key(), PositionId = opened.PositionId, Quantity = "0.5", ExitPrice = "99999999999999999999",
        }).ResponseAsync);
        await RpcAssert.InvalidArgument("exit_price", () => Client.ClosePositionAsync(new ClosePositionRequest
        {
            IdempotencyKey = Key(), PositionId = opened.PositionId, ExitPrice = "99999999999999999999",
        }).ResponseAsync);

        LogFundingEventRequest Funding() => new()
        {
            IdempotencyKey = Key(), PositionId = opened.PositionId, Symbol = "BTCUSDT", Venue = "binance", FundingRate = "0.0001",
            PositionSize = "1", MarkPrice = "100", Notional = "100", Payment = "0.01", FundingTime = At(T0.AddHours(8)),
        };
        var size = Funding();
        size.PositionSize = "-99999999999999999999";
        size.MarkPrice = "99999999999999999999";
        await RpcAssert.InvalidArgument("position_size", () => Client.LogFundingEventAsync(size).ResponseAsync);
        var notional = Funding();
        notional.Notional = "10000000000000";
        await RpcAssert.InvalidArgument("notional", () => Client.LogFundingEventAsync(notional).ResponseAsync);
        var payment = Funding();
        payment.Payment = "-99999999999999999999";
        await RpcAssert.InvalidArgument("payment", () => Client.LogFundingEventAsync(payment).ResponseAsync);

        Assert.Equal(0, await _ledger.CountAsync("trades"));
        Assert.Equal(0, await _ledger.CountAsync("funding_events"));
        Assert.Equal(1, await _ledger.CountAsync("position_changes"));
    }

    [Fact]
    public async Task OpenPosition_AddsPastColumn_FailedPreconditionNamingQuantityPositionUnchanged()
    {
        // Each add is within every bound (notional 5e11); their sum, 10^20, no longer fits NUMERIC(28,8).
        await Client.OpenPositionAsync(Open(quantity: "50000000000000000000", price: "0.00000001"));

        var ex = await RpcAssert.FailsWith(Grpc.Core.StatusCode.FailedPrecondition, () => Client.OpenPositionAsync(
            Open(quantity: "50000000000000000000", price: "0.00000001")).ResponseAsync);

        Assert.StartsWith("quantity:", ex.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(1, await _ledger.CountAsync("positions WHERE quantity = 50000000000000000000"));
        Assert.Equal(1, await _ledger.CountAsync("position_changes"));
    }

    [Fact]
    public async Task LegacyAbsurdPosition_CloseAndFundingOverflow_FailedPreconditionNotInternal()
    {
        // A row written before the notional bound (notional 10^28 at entry): a close within every bound (notional 10^6)
        // realizes about -10^28, past the realized_pnl column; one more funding payment (100 × 100 × 0.0001 = 1) takes funding past its column.
        // Opened at 100, the size its journal holds at the settlement (the posted size must be it).
        var opened = await Client.OpenPositionAsync(Open(quantity: "100", price: "100"));
        await _ledger.ExecuteAsync(
            "UPDATE positions SET quantity = 1000000000, entry_price = 10000000000000000000, funding = 99999999999999999999 " +
            "WHERE position_id = $1", Guid.Parse(opened.PositionId));

        var close = await RpcAssert.FailsWith(Grpc.Core.StatusCode.FailedPrecondition, () => Client.ClosePositionAsync(new ClosePositionRequest
        {
            IdempotencyKey = Key(), PositionId = opened.PositionId, ExitPrice = "0.001",
        }).ResponseAsync);
        var funding = await RpcAssert.FailsWith(Grpc.Core.StatusCode.FailedPrecondition, () => Client.LogFundingEventAsync(new LogFundingEventRequest
        {
            IdempotencyKey = Key(), PositionId = opened.PositionId, Symbol = "BTCUSDT", Venue = "binance", FundingRate = "0.0001",
            PositionSize = "100", MarkPrice = "100", Notional = "10000", Payment = "1", FundingTime = At(T0.AddHours(8)),
        }).ResponseAsync);

        Assert.StartsWith("realized_pnl:", close.Status.Detail, StringComparison.Ordinal);
        Assert.StartsWith("funding:", funding.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(0, await _ledger.CountAsync("funding_events"));
        Assert.Equal(1, await _ledger.CountAsync("positions WHERE status = 'open'"));
    }
}
