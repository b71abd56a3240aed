using TradeEngine.Common.V1;
using TradeEngine.Ledger.Tests.Support;
using TradeEngine.Ledger.V1;
using TradeEngine.Testing.Servers;
using static TradeEngine.Ledger.Tests.Support.Requests;

namespace TradeEngine.Ledger.Tests;

/// <summary>Every RPC over real gRPC and PostgreSQL keeps the smallest and the largest amounts exactly.</summary>
[Collection(LedgerCollection.Name)]
public sealed class RoundTripTests(PostgresServer postgres, RabbitMqServer rabbit) : IAsyncLifetime
{
    private LedgerHost _ledger = null!;

    private LedgerService.LedgerServiceClient Client => _ledger.Client;

    public async Task InitializeAsync() => _ledger = await LedgerHost.StartAsync(postgres, rabbit);

    public async Task DisposeAsync() => await _ledger.DisposeAsync();

    [Fact]
    public async Task RecordTrade_ExtremeDecimals_StoredExactly()
    {
        var request = Trade();
        var response = await Client.RecordTradeAsync(request);

        Assert.Equal(1, await _ledger.CountAsync(
            "trades WHERE trade_id = $1 AND price::text = '12345678901.12345678' AND quantity::text = '0.00000001' " +
            "AND fee::text = '0.00000001' AND realized_pnl::text = '-12345678901.12345678'", Guid.Parse(response.TradeId)));
    }

    [Fact]
    public async Task RecordTrade_EveryIdentifyingFieldAtItsLimit_StoredAndReplayed()
    {
        var request = Trade();
        request.Venue = new string('v', 32);
        request.Symbol = new string('S', 32);
        request.ExchangeTradeId = new string('9', 64);

        var first = await Client.RecordTradeAsync(request);
        var again = await Client.RecordTradeAsync(request);

        Assert.False(first.Replayed);
        Assert.True(again.Replayed);
        Assert.Equal(first.TradeId, again.TradeId);
        Assert.Equal(1, await _ledger.CountAsync("trades WHERE exchange_trade_id = $1", request.ExchangeTradeId));
    }

    [Fact]
    public async Task OpenPositionAndGetPosition_ExtremeDecimals_ReturnedExactly()
    {
        var open = Open(quantity: Tiny, price: Huge);
        open.Fee = Tiny;
        open.StopLossPrice = Tiny;
        open.TakeProfitPrice = Huge;
        var opened = await Client.OpenPositionAsync(open);
        var read = await Client.GetPositionAsync(new GetPositionRequest { PositionId = opened.PositionId });

        foreach (var record in new[] { opened, read })
        {
            Assert.Equal(Tiny, record.Quantity);
            Assert.Equal(Huge, record.EntryPrice);
            Assert.Equal(Tiny, record.Fees);
            Assert.Equal(Tiny, record.StopLossPrice);
            Assert.Equal(Huge, record.TakeProfitPrice);
            Assert.Equal(PositionStatus.Open, record.Status);
        }

        var byKey = await Client.GetPositionAsync(new GetPositionRequest { Open = new OpenPositionKey { Venue = "binance", Symbol = "BTCUSDT" } });
        Assert.Equal(opened.PositionId, byKey.PositionId);
    }

    [Fact]
    public async Task ReduceAndClosePosition_ExtremeDecimals_PnlAndFeesExact()
    {
        var open = Open(quantity: "0.00000002", price: Huge);
        open.Fee = Tiny;
        var opened = await Client.OpenPositionAsync(open);

        var reduced = await Client.ReducePositionAsync(new ReducePositionRequest
        {
            IdempotencyKey = Key(), PositionId = opened.PositionId, Quantity = Tiny, ExitPrice = "12345678902.12345678", Fee = Tiny,
            ReducedAt = At(T0.AddMinutes(1)), Reason = "take profit",
        });
        Assert.Equal(Tiny, reduced.Quantity);
        Assert.Equal(Tiny, reduced.RealizedPnl);
        Assert.Equal("0.00000002", reduced.Fees);
        Assert.Equal("12345678902.12345678", reduced.ExitPrice);

        var closed = await Client.ClosePositionAsync(new ClosePositionRequest
        {
            IdempotencyKey = Key(), PositionId = opened.PositionId, ExitPrice = Huge, Fee = Tiny, ClosedAt = At(T0.AddMinutes(2)),
            ExitReason = "done",
        });
        Assert.Equal(PositionStatus.Closed, closed.Status);
        Assert.Equal(Tiny, closed.RealizedPnl);
        Assert.Equal("0.00000003", closed.Fees);
        Assert.Equal("12345678901.62345678", closed.ExitPrice);
        Assert.Equal("done", closed.ExitReason);
        Assert.Equal(At(T0.AddMinutes(2)), closed.ClosedAt);
    }

    [Fact]
    public async Task LogFundingEventAndHistory_ExtremeDecimals_ExactAndPostedToPosition()
    {
        // A short position: its size is signed negative. At a negative rate shorts pay: 0.00000001 × 12,345,678,901.12345678
        // = 123.4567890112345678 of notional (123.45678901 to 8 decimals), × 0.0001 = 0.01234567890112… paid (0.01234568).
        const string notional = "123.45678901", paid = "0.01234568";
        // The position holds the size posted (the Ledger checks it against the position's journal at the funding time).
        var opened = await Client.OpenPositionAsync(Open(side: Side.Short, quantity: Tiny));
        var logged = await Client.LogFundingEventAsync(new LogFundingEventRequest
        {
            IdempotencyKey = Key(), PositionId = opened.PositionId, Symbol = "BTCUSDT", Venue = "binance", FundingRate = "-0.00010000",
            PositionSize = "-" + Tiny, MarkPrice = Huge, Notional = notional, Payment = paid, FundingTime = At(T0.AddHours(8)),
        });
        Assert.False(logged.Replayed);

        var history = await Client.GetFundingHistoryAsync(new GetFundingHistoryRequest
        {
            Symbol = "BTCUSDT", Venue = "binance", Range = new TimeRange { Start = At(T0), End = At(T0.AddDays(1)) },
        });
        var e = Assert.Single(history.Events);
        Assert.Equal(logged.FundingEventId, e.FundingEventId);
        Assert.Equal("-0.0001", e.FundingRate);
        Assert.Equal("-" + Tiny, e.PositionSize);
        Assert.Equal(Huge, e.MarkPrice);
        Assert.Equal(notional, e.Notional);
        Assert.Equal(paid, e.Payment);
        Assert.Equal(paid, history.TotalPayment);
        Assert.Equal(paid, (await Client.GetPositionAsync(new GetPositionRequest { PositionId = opened.PositionId })).Funding);
    }

    [Fact]
    public async Task PnlSnapshots_ExtremeDecimals_PeakCurveAndDailyExact()
    {
        await Client.LogPnlSnapshotAsync(Snapshot(Huge, T0));
        await Client.LogPnlSnapshotAsync(Snapshot(Tiny, T0.AddHours(1)));

        var peak = await Client.GetPeakEquityAsync(new GetPeakEquityRequest());
        Assert.Equal(Huge, peak.PeakEquity);
        Assert.Equal(At(T0), peak.At);

        var curve = await Client.GetEquityCurveAsync(new GetEquityCurveRequest
        {
            Range = new TimeRange { Start = At(T0.AddHours(-1)), End = At(T0.AddHours(2)) }, MaxPoints = 100,
        });
        Assert.Equal([Huge, Tiny], curve.Points.Select(p => p.Equity));
        Assert.Equal(Tiny, curve.Points[0].UnrealizedPnl);

        var daily = await Client.GetDailyPnlAsync(new GetDailyPnlRequest { Day = At(T0.AddHours(5)) });
        Assert.Equal(At(new DateTimeOffset(2025, 3, 1, 0, 0, 0, TimeSpan.Zero)), daily.DayStart);
        Assert.Equal(Huge, daily.DayStartEquity);
    }

    [Theory]
    // The last snapshot at or before midnight is the day's start, even when the day's first is nearer to midnight:
    // a loss between the two is the day's loss.
    [InlineData(-1, 2, "100")]
    [InlineData(-3, 1, "100")]
    [InlineData(0, 1, "100")]
    [InlineData(-15 * 60, 12 * 60, "100")]
    [InlineData(-24 * 60 + 1, 1, "100")]
    [InlineData(-24 * 60, 1, "100")] // exactly a day old: at most a day, as the proto says
    // More than a day old: no day start; the day's first snapshot is.
    [InlineData(-24 * 60 - 1, 9 * 60, "200")]
    [InlineData(-3 * 24 * 60, 9 * 60, "200")]
    public async Task GetDailyPnl_DayStartEquity_LastBeforeMidnightWithinADayElseTheDaysFirst(int beforeMinutes, int afterMinutes, string expected)
    {
        var midnight = new DateTimeOffset(2024, 5, 10, 0, 0, 0, TimeSpan.Zero); // a day no other test posts to (and in the past: a fact dated ahead of the clock is refused)
        await Client.LogPnlSnapshotAsync(Snapshot("100", midnight.AddMinutes(beforeMinutes)));
        await Client.LogPnlSnapshotAsync(Snapshot("200", midnight.AddMinutes(afterMinutes)));
        await Client.LogPnlSnapshotAsync(Snapshot("300", midnight.AddHours(20)));

        var daily = await Client.GetDailyPnlAsync(new GetDailyPnlRequest { Day = At(midnight.AddHours(12)) });

        Assert.Equal(expected, daily.DayStartEquity);
        Assert.Equal(At(midnight.AddMinutes(expected == "100" ? beforeMinutes : afterMinutes)), daily.DayStartEquityAt);
    }

    /// <summary>
    /// Fewer snapshots than max_points: every one comes back, however close together. Before, a day's range with the
    /// default 500 points made buckets of 172.8 s, and two snapshots a minute apart shared one (the first was dropped).
    /// </summary>
    [Fact]
    public async Task GetEquityCurve_FewerPointsThanMax_EveryPointEvenWithinOneBucketsWidth()
    {
        await Client.LogPnlSnapshotAsync(Snapshot("100", T0));
        await Client.LogPnlSnapshotAsync(Snapshot("90", T0.AddMinutes(1)));
        await Client.LogPnlSnapshotAsync(Snapshot("95", T0.AddMinutes(2)));

        var curve = await Client.GetEquityCurveAsync(new GetEquityCurveRequest
        {
            Range = new TimeRange { Start = At(T0), End = At(T0.AddDays(1)) },
        });

        Assert.Equal(["100", "90", "95"], curve.Points.Select(p => p.Equity));
    }

    [Fact]
    public async Task GetEquityCurve_MorePointsThanTwo_KeepsTheLowestAndHighest()
    {
        foreach (var (equity, i) in new[] { "5", "0", "9", "3" }.Select((e, i) => (e, i)))
        {
            await Client.LogPnlSnapshotAsync(Snapshot(equity, T0.AddMinutes(i)));
        }

        var curve = await Client.GetEquityCurveAsync(new GetEquityCurveRequest
        {
            Range = new TimeRange { Start = At(T0), End = At(T0.AddMinutes(10)) }, MaxPoints = 2,
        });

        Assert.Equal(["0", "9"], curve.Points.Select(p => p.Equity));
    }

    /// <summary>
    /// A spike and a drop inside what were time buckets stay in the curve. Before, four 3-minute buckets kept the last
    /// of each (101, 104, 106, 109): the peak GetPeakEquity reports and the drawdown's trough were both gone.
    /// </summary>
    [Fact]
    public async Task GetEquityCurve_Downsampled_KeepsFirstPeakTroughAndLast()
    {
        string[] equities = ["100", "150", "101", "102", "103", "104", "60", "105", "106", "107", "108", "109"];
        for (var i = 0; i < equities.Length; i++)
        {
            await Client.LogPnlSnapshotAsync(Snapshot(equities[i], T0.AddMinutes(i)));
        }

        var range = new TimeRange { Start = At(T0), End = At(T0.AddMinutes(12)) };
        var four = await Client.GetEquityCurveAsync(new GetEquityCurveRequest { Range = range, MaxPoints = 4 });
        // Eight points: two buckets of six, each its first, lowest, highest and last.
        var eight = await Client.GetEquityCurveAsync(new GetEquityCurveRequest { Range = range, MaxPoints = 8 });

        Assert.Equal(["100", "150", "60", "109"], four.Points.Select(p => p.Equity));
        Assert.Equal([T0, T0.AddMinutes(1), T0.AddMinutes(6), T0.AddMinutes(11)], four.Points.Select(p => p.At.ToDateTimeOffset()));
        Assert.Equal(["100", "150", "104", "60", "109"], eight.Points.Select(p => p.Equity));
    }

    /// <summary>
    /// One snapshot over max_points, bunched in the first minutes of a day's range: before, the day's time buckets (6 h
    /// each for 4 points) folded them into one point.
    /// </summary>
    [Fact]
    public async Task GetEquityCurve_BunchedInPartOfTheRange_FirstLowHighAndLast()
    {
        string[] equities = ["100", "90", "120", "95", "104"];
        for (var i = 0; i < equities.Length; i++)
        {
            await Client.LogPnlSnapshotAsync(Snapshot(equities[i], T0.AddMinutes(i)));
        }

        var curve = await Client.GetEquityCurveAsync(new GetEquityCurveRequest
        {
            Range = new TimeRange { Start = At(T0), End = At(T0.AddDays(1)) }, MaxPoints = 4,
        });

        Assert.Equal(["100", "90", "120", "104"], curve.Points.Select(p => p.Equity));
    }

    [Fact]
    public async Task GetDailyPnl_ClosedPositionAndFunding_NetIsRealizedMinusFundingMinusFees()
    {
        var open = Open(quantity: "2", price: "100");
        open.Fee = Tiny;
        var opened = await Client.OpenPositionAsync(open);
        await Client.LogFundingEventAsync(new LogFundingEventRequest
        {
            IdempotencyKey = Key(), PositionId = opened.PositionId, Symbol = "BTCUSDT", Venue = "binance", FundingRate = "0.0001",
            PositionSize = "2", MarkPrice = "100", Notional = "200", Payment = "0.02", FundingTime = At(T0.AddHours(1)),
        });
        await Client.ClosePositionAsync(new ClosePositionRequest
        {
            IdempotencyKey = Key(), PositionId = opened.PositionId, ExitPrice = "100.00000001", Fee = Tiny, ClosedAt = At(T0.AddHours(2)),
        });

        var daily = await Client.GetDailyPnlAsync(new GetDailyPnlRequest { Day = At(T0) });

        Assert.Equal("0.00000002", daily.RealizedPnl);
        Assert.Equal("0.00000002", daily.Fees);
        Assert.Equal("0.02", daily.Funding);
        Assert.Equal("-0.02", daily.NetPnl);
        Assert.Equal(string.Empty, daily.DayStartEquity);
    }

    [Fact]
    public async Task LogRiskEvent_ExtremeDecimals_StoredExactly()
    {
        var response = await Client.LogRiskEventAsync(new LogRiskEventRequest
        {
            IdempotencyKey = Key(), EventType = "daily_loss_limit", Severity = RiskEventSeverity.Critical, Reason = "limit hit",
            Symbol = "ETHUSDT", MetricValue = "-" + Huge, LimitValue = Tiny, OccurredAt = At(T0),
        });

        Assert.Equal(1, await _ledger.CountAsync(
            "risk_events WHERE risk_event_id = $1 AND metric_value::text = '-12345678901.12345678' AND limit_value::text = '0.00000001' " +
            "AND severity = 'critical'", Guid.Parse(response.RiskEventId)));
    }

    [Fact]
    public async Task SetKillSwitch_ActivatedThenReset_StateAndHistoryRoundTrip()
    {
        Assert.False((await Client.GetKillSwitchAsync(new GetKillSwitchRequest())).Active);
        await Client.SetKillSwitchAsync(new SetKillSwitchRequest
        {
            IdempotencyKey = Key(), Active = true, Trigger = "daily_loss", Reason = "loss 5%", Actor = "risk",
        });
        await Client.SetKillSwitchAsync(new SetKillSwitchRequest { IdempotencyKey = Key(), Active = false, Reason = "reset", Actor = "ops" }, LedgerHost.OperatorHeaders);

        var state = await Client.GetKillSwitchAsync(new GetKillSwitchRequest());
        var history = await Client.GetKillSwitchHistoryAsync(new GetKillSwitchHistoryRequest { Page = new PageRequest { PageSize = 1 } });
        var rest = await Client.GetKillSwitchHistoryAsync(new GetKillSwitchHistoryRequest
        {
            Page = new PageRequest { PageSize = 1, PageToken = history.NextPageToken },
        });

        Assert.False(state.Active);
        Assert.Equal("ops", state.Actor);
        Assert.False(Assert.Single(history.Changes).Active);
        Assert.NotEmpty(history.NextPageToken);
        var first = Assert.Single(rest.Changes);
        Assert.True(first.Active);
        Assert.Equal("daily_loss", first.Trigger);
        Assert.Empty(rest.NextPageToken);
    }

    [Fact]
    public async Task RecordInbox_SameEventTwice_FirstTimeOnlyOnceAndCheckSeesIt()
    {
        var eventId = Guid.NewGuid().ToString();
        Assert.False((await Client.CheckInboxAsync(new CheckInboxRequest { Consumer = "c1", EventId = eventId })).Processed);
        Assert.True((await Client.RecordInboxAsync(new RecordInboxRequest { Consumer = "c1", EventId = eventId })).FirstTime);
        Assert.False((await Client.RecordInboxAsync(new RecordInboxRequest { Consumer = "c1", EventId = eventId })).FirstTime);
        Assert.True((await Client.CheckInboxAsync(new CheckInboxRequest { Consumer = "c1", EventId = eventId })).Processed);
        Assert.False((await Client.CheckInboxAsync(new CheckInboxRequest { Consumer = "c2", EventId = eventId })).Processed);
    }

    [Fact]
    public async Task GetPositionsAndOpenPositions_Filters_PageThroughAll()
    {
        foreach (var symbol in new[] { "AUSDT", "BUSDT", "CUSDT" })
        {
            await Client.OpenPositionAsync(Open(symbol));
        }

        var first = await Client.GetPositionsAsync(new GetPositionsRequest { Venue = "binance", Page = new PageRequest { PageSize = 2 } });
        var second = await Client.GetPositionsAsync(new GetPositionsRequest
        {
            Venue = "binance", Page = new PageRequest { PageSize = 2, PageToken = first.NextPageToken },
        });
        var open = await Client.GetOpenPositionsAsync(new GetOpenPositionsRequest { Venue = "binance" });
        var bySymbol = await Client.GetPositionsAsync(new GetPositionsRequest { Symbol = "BUSDT", Status = PositionStatus.Open });

        Assert.Equal(2, first.Positions.Count);
        Assert.Single(second.Positions);
        Assert.Empty(second.NextPageToken);
        Assert.Equal(3, open.Positions.Count);
        Assert.Equal("BUSDT", Assert.Single(bySymbol.Positions).Symbol);
    }

    /// <summary>Two accounts each hold an open BTCUSDT position on one venue: the open key and the open list tell them apart.</summary>
    [Fact]
    public async Task GetPositionByOpenKeyAndOpenPositions_TwoAccountsOnOneSymbol_EachFindsItsOwn()
    {
        var first = Open();
        first.Account = "alpha";
        var second = Open();
        (second.Account, second.OpenedAt) = ("beta", At(T0.AddMinutes(1)));
        await Client.OpenPositionAsync(first);
        var beta = await Client.OpenPositionAsync(second);

        var byKey = await Client.GetPositionAsync(new GetPositionRequest { Open = new OpenPositionKey { Venue = "binance", Symbol = "BTCUSDT", Account = "beta" } });
        var betaOpen = await Client.GetOpenPositionsAsync(new GetOpenPositionsRequest { Venue = "binance", Account = "beta" });
        var anyOpen = await Client.GetOpenPositionsAsync(new GetOpenPositionsRequest { Venue = "binance" });

        Assert.Equal(beta.PositionId, byKey.PositionId);
        Assert.Equal(beta.PositionId, Assert.Single(betaOpen.Positions).PositionId);
        Assert.Equal(2, anyOpen.Positions.Count);
    }

    /// <summary>
    /// Rows written between two pages shift nothing: a newer position does not push one onto the next page again, and a
    /// position closing under an OPEN filter does not pull one past the cursor (an offset token did both).
    /// </summary>
    [Fact]
    public async Task GetPositions_WrittenBetweenPages_NoRowTwiceAndNoneSkipped()
    {
        var opened = new List<PositionRecord>();
        for (var i = 0; i < 3; i++)
        {
            var request = Open("P" + i.ToString(System.Globalization.CultureInfo.InvariantCulture) + "USDT");
            request.OpenedAt = At(T0.AddMinutes(i));
            opened.Add(await Client.OpenPositionAsync(request));
        }

        var all = new GetPositionsRequest { Venue = "binance", Page = new PageRequest { PageSize = 2 } };
        var first = await Client.GetPositionsAsync(all);
        var newer = Open("P3USDT");
        newer.OpenedAt = At(T0.AddMinutes(3));
        await Client.OpenPositionAsync(newer);
        all.Page.PageToken = first.NextPageToken;
        var second = await Client.GetPositionsAsync(all);

        Assert.Equal(["P2USDT", "P1USDT"], first.Positions.Select(p => p.Symbol));
        Assert.Equal(["P0USDT"], second.Positions.Select(p => p.Symbol));
        Assert.Empty(second.NextPageToken);

        var openOnly = new GetPositionsRequest { Venue = "binance", Status = PositionStatus.Open, Page = new PageRequest { PageSize = 2 } };
        var openFirst = await Client.GetPositionsAsync(openOnly);
        await Client.ClosePositionAsync(new ClosePositionRequest
        {
            IdempotencyKey = Key(), PositionId = openFirst.Positions[0].PositionId, ExitPrice = "100", ClosedAt = At(T0.AddHours(1)),
        });
        openOnly.Page.PageToken = openFirst.NextPageToken;
        var openSecond = await Client.GetPositionsAsync(openOnly);

        Assert.Equal(["P3USDT", "P2USDT"], openFirst.Positions.Select(p => p.Symbol));
        Assert.Equal(["P1USDT", "P0USDT"], openSecond.Positions.Select(p => p.Symbol));
    }

    /// <summary>A settlement back-posted behind the cursor (Funding catching up after a downtime) does not repeat a row.</summary>
    [Fact]
    public async Task GetFundingHistory_SettlementBackPostedBetweenPages_NoRowTwice()
    {
        var position = await Client.OpenPositionAsync(Open());
        foreach (var hours in new[] { 8, 16, 24 })
        {
            await Client.LogFundingEventAsync(FundingEvent(position.PositionId, T0.AddHours(hours)));
        }

        var request = new GetFundingHistoryRequest
        {
            Symbol = "BTCUSDT", Range = new TimeRange { Start = At(T0), End = At(T0.AddDays(2)) }, Page = new PageRequest { PageSize = 2 },
        };
        var first = await Client.GetFundingHistoryAsync(request);
        await Client.LogFundingEventAsync(FundingEvent(position.PositionId, T0.AddHours(4)));
        request.Page.PageToken = first.NextPageToken;
        var second = await Client.GetFundingHistoryAsync(request);

        Assert.Equal([T0.AddHours(8), T0.AddHours(16)], first.Events.Select(e => e.FundingTime.ToDateTimeOffset()));
        Assert.Equal([T0.AddHours(24)], second.Events.Select(e => e.FundingTime.ToDateTimeOffset()));
        Assert.Empty(second.NextPageToken);
    }

    private static LogPnlSnapshotRequest Snapshot(string equity, DateTimeOffset at) => new()
    {
        IdempotencyKey = Key(), Balance = Huge, UnrealizedPnl = Tiny, RealizedPnl = Tiny, TotalPnl = Tiny, Equity = equity,
        MarginRatio = Tiny, OpenPositions = 1, TakenAt = At(at),
    };
}
