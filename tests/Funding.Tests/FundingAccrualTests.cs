using System.Globalization;
using TradeEngine.Common.V1;
using TradeEngine.Funding.Tests.Support;
using TradeEngine.Testing;
using TradeEngine.Testing.Servers;

namespace TradeEngine.Funding.Tests;

/// <summary>
/// Accrual end to end: positions opened in the real Ledger, settlements made by PaperExchange as its clock moves,
/// and Funding posting each settlement to the Ledger once, at the venue's mark price and rate for that time.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class FundingAccrualTests(PostgresServer postgres, RabbitMqServer rabbit)
{
    [Fact]
    public async Task Accrual_OneDay_FourHourSymbolSixTimesEightHourSymbolThree()
    {
        await using var world = await FundingWorld.StartAsync(postgres, rabbit);
        await world.OpenPositionAsync("SOLUSDT", Side.Long, "10", "150");
        await world.OpenPositionAsync("BTCUSDT", Side.Short, "0.1", "60000");

        world.Paper.Engine.Advance(TimeSpan.FromHours(24));

        var sol = await Poll.UntilAsync(() => world.LedgerFundingAsync("SOLUSDT"), r => r.Events.Count >= 6);
        var btc = await Poll.UntilAsync(() => world.LedgerFundingAsync("BTCUSDT"), r => r.Events.Count >= 3);
        await world.AccrualPassesAsync(2); // more passes run; nothing more may be posted
        sol = await world.LedgerFundingAsync("SOLUSDT");
        btc = await world.LedgerFundingAsync("BTCUSDT");

        Assert.Equal(6, sol.Events.Count);
        Assert.Equal(3, btc.Events.Count);
        // Long 10 SOL × 150 × 0.00005 = 0.075 paid each time; short 0.1 BTC × 60,000 × 0.0001 = 0.6 received.
        Assert.All(sol.Events, e => Assert.Equal(0.075m, Dec(e.Payment)));
        Assert.All(btc.Events, e => Assert.Equal(-0.6m, Dec(e.Payment)));
        Assert.Equal(0.45m, Dec(sol.TotalPayment));
        Assert.Equal(-1.8m, Dec(btc.TotalPayment));
        Assert.Equal(
            Enumerable.Range(1, 3).Select(i => FundingWorld.Start.AddMinutes(-30).AddHours(8 * i)),
            btc.Events.Select(e => e.FundingTime.ToDateTimeOffset()));
    }

    [Fact]
    public async Task Accrual_StoppedAcrossFundingTime_MissedSettlementPostedOnceOnStart()
    {
        await using var world = await FundingWorld.StartAsync(postgres, rabbit);
        await world.OpenPositionAsync("BTCUSDT", Side.Long, "0.2", "60000");
        world.Paper.Engine.Advance(TimeSpan.FromHours(8));
        var before = await Poll.UntilAsync(() => world.LedgerFundingAsync("BTCUSDT"), r => r.Events.Count >= 1);
        Assert.Single(before.Events);

        await world.StopFundingAsync();
        world.Paper.Engine.SetPrice("BTCUSDT", 61000m, null);
        world.Paper.Engine.Advance(TimeSpan.FromHours(8));
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        Assert.Single((await world.LedgerFundingAsync("BTCUSDT")).Events);

        await world.StartFundingAsync();
        var after = await Poll.UntilAsync(() => world.LedgerFundingAsync("BTCUSDT"), r => r.Events.Count >= 2);
        await world.AccrualPassesAsync(2);
        await world.StopFundingAsync();
        await world.StartFundingAsync(); // a second restart must not post it again either
        await world.AccrualPassesAsync(2);
        after = await world.LedgerFundingAsync("BTCUSDT");

        Assert.Equal(2, after.Events.Count);
        Assert.Equal(2, await world.CountAsync("SELECT count(*) FROM funding_events"));
        // The missed settlement uses the mark price at its own funding time (61,000), not the one before.
        Assert.Equal(0.2m * 61000m * 0.0001m, Dec(after.Events[1].Payment));
        Assert.Equal(0.2m * 60000m * 0.0001m, Dec(after.Events[0].Payment));
    }

    [Fact]
    public async Task Accrual_PositionAddedToAfterAMissedSettlement_BackfilledAtTheSizeItHadThen()
    {
        await using var world = await FundingWorld.StartAsync(postgres, rabbit);
        await world.StopFundingAsync();
        await world.OpenPositionAsync("BTCUSDT", Side.Long, "0.2", "60000");
        world.Paper.Engine.Advance(TimeSpan.FromHours(8)); // one settlement passes while Funding is down
        var added = await world.OpenPositionAsync("BTCUSDT", Side.Long, "0.3", "60000"); // then the position grows to 0.5

        await world.StartFundingAsync();
        var posted = await Poll.UntilAsync(() => world.LedgerFundingAsync("BTCUSDT"), r => r.Events.Count >= 1);

        Assert.Equal("0.5", added.Quantity);
        var settlement = Assert.Single(posted.Events);
        // 0.2 BTC was held at the funding time: 0.2 × 60,000 × 0.0001 = 1.2, not 0.5 × 60,000 × 0.0001 = 3.
        Assert.Equal(1.2m, Dec(settlement.Payment));
        Assert.Equal(0.2m, Dec(settlement.PositionSize));
    }

    [Fact]
    public async Task Accrual_PositionClosedWhileStopped_SettlementBeforeTheCloseStillPosted()
    {
        await using var world = await FundingWorld.StartAsync(postgres, rabbit);
        await world.StopFundingAsync();
        var opened = await world.OpenPositionAsync("BTCUSDT", Side.Short, "0.1", "60000");
        world.Paper.Engine.Advance(TimeSpan.FromHours(8)); // a settlement passes while Funding is down ...
        await world.Ledger.ClosePositionAsync(new Ledger.V1.ClosePositionRequest // ... and the position is closed after it
        {
            IdempotencyKey = "close-" + Guid.NewGuid().ToString("N"), PositionId = opened.PositionId, ExitPrice = "60000",
            ClosedAt = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(world.Paper.Clock.GetUtcNow()),
        });

        await world.StartFundingAsync();
        var posted = await Poll.UntilAsync(() => world.LedgerFundingAsync("BTCUSDT"), r => r.Events.Count >= 1);
        await world.AccrualPassesAsync(2); // more passes: nothing more, nothing twice

        // Short 0.1 BTC × 60,000 × 0.0001 = 0.6 received, once.
        var settlement = Assert.Single((await world.LedgerFundingAsync("BTCUSDT")).Events);
        Assert.Equal(-0.6m, Dec(settlement.Payment));
        Assert.Single(posted.Events);
    }

    /// <summary>
    /// A position closed at the very instant of a settlement pays it (held over (open, close], the Domain's rule). Before,
    /// the Ledger's size at that instant already counted the close: 0, so nothing was posted and the settlement was
    /// marked done.
    /// </summary>
    [Fact]
    public async Task Accrual_PositionClosedExactlyAtAFundingTime_ThatSettlementPosted()
    {
        await using var world = await FundingWorld.StartAsync(postgres, rabbit);
        await world.StopFundingAsync();
        var opened = await world.OpenPositionAsync("BTCUSDT", Side.Short, "0.1", "60000");
        var openedAt = opened.OpenedAt.ToDateTimeOffset();
        var eightHours = TimeSpan.FromHours(8);
        var settlement = new DateTimeOffset((openedAt.UtcTicks / eightHours.Ticks + 1) * eightHours.Ticks, TimeSpan.Zero);
        // Past the settlement's 180 s grace (Funding:Accrual:SettleAfterSeconds).
        world.Paper.Engine.Advance(settlement - world.Paper.Clock.GetUtcNow() + TimeSpan.FromMinutes(4));
        await world.Ledger.ClosePositionAsync(new Ledger.V1.ClosePositionRequest
        {
            IdempotencyKey = "close-" + Guid.NewGuid().ToString("N"), PositionId = opened.PositionId, ExitPrice = "60000",
            ClosedAt = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(settlement),
        });

        await world.StartFundingAsync();
        var posted = await Poll.UntilAsync(() => world.LedgerFundingAsync("BTCUSDT"), r => r.Events.Count >= 1);

        var paid = Assert.Single(posted.Events);
        Assert.Equal(settlement, paid.FundingTime.ToDateTimeOffset());
        Assert.Equal(-0.6m, Dec(paid.Payment));
    }

    [Fact]
    public async Task GetPositionSizeAt_BeforeOpenAndBetweenChanges_JournalSizes()
    {
        await using var world = await FundingWorld.StartAsync(postgres, rabbit);
        var t0 = world.Paper.Clock.GetUtcNow();
        var opened = await world.OpenPositionAsync("ETHUSDT", Side.Short, "2", "3000");
        world.Paper.Engine.Advance(TimeSpan.FromHours(1));
        await world.OpenPositionAsync("ETHUSDT", Side.Short, "1", "3000");
        var t1 = world.Paper.Clock.GetUtcNow();

        async Task<string> SizeAt(DateTimeOffset at) => (await world.Ledger.GetPositionSizeAtAsync(new Ledger.V1.GetPositionSizeAtRequest
        {
            PositionId = opened.PositionId, At = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(at),
        })).Quantity;

        Assert.Equal("0", await SizeAt(t0.AddMinutes(-1)));
        Assert.Equal("2", await SizeAt(t0.AddMinutes(30)));
        Assert.Equal("2", await SizeAt(t1)); // the add at t1 comes after a settlement at t1
        Assert.Equal("3", await SizeAt(t1.AddMilliseconds(1)));
    }

    [Fact]
    public async Task Accrual_VenueBookedNoFunding_MismatchLoggedAsRiskEvent()
    {
        // The Ledger holds a position the venue account does not: the venue's income (the truth) shows no funding.
        await using var world = await FundingWorld.StartAsync(postgres, rabbit, funding: new Dictionary<string, string?>
        {
            ["Funding:Accrual:ReconcileIncome"] = "true",
            ["Funding:Accrual:ReconcileAfterSeconds"] = "0",
        });
        await world.OpenPositionAsync("BTCUSDT", Side.Long, "0.5", "60000");

        world.Paper.Engine.Advance(TimeSpan.FromHours(8));

        var mismatches = await Poll.UntilAsync(
            () => world.CountAsync("SELECT count(*) FROM risk_events WHERE event_type = 'funding_reconciliation_mismatch'"), n => n >= 1);
        Assert.Equal(1, mismatches);
        Assert.Single((await world.LedgerFundingAsync("BTCUSDT")).Events);
    }

    /// <summary>
    /// A mismatch logged, then Funding restarted: the replayed settlement's mismatch is the same write (not a second
    /// row), and the next settlement's is logged. Before, the replay sent it again dated at the new pass, the Ledger
    /// answered ALREADY_EXISTS, every pass failed on it, and no later settlement was reconciled again.
    /// </summary>
    [Fact]
    public async Task Accrual_MismatchLoggedThenRestart_LoggedOnceAndLaterSettlementsStillReconciled()
    {
        await using var world = await FundingWorld.StartAsync(postgres, rabbit, funding: new Dictionary<string, string?>
        {
            ["Funding:Accrual:ReconcileIncome"] = "true",
            ["Funding:Accrual:ReconcileAfterSeconds"] = "0",
        });
        await world.OpenPositionAsync("BTCUSDT", Side.Long, "0.5", "60000");
        world.Paper.Engine.Advance(TimeSpan.FromHours(8));
        await Poll.UntilAsync(
            () => world.CountAsync("SELECT count(*) FROM risk_events WHERE event_type = 'funding_reconciliation_mismatch'"), n => n >= 1);
        // The clock moves on before the restart, so the replay's pass runs at another time than the first.
        world.Paper.Engine.Advance(TimeSpan.FromMinutes(5));
        await world.StopFundingAsync();
        await world.StartFundingAsync();

        world.Paper.Engine.Advance(TimeSpan.FromHours(8));
        var mismatches = await Poll.UntilAsync(
            () => world.CountAsync("SELECT count(*) FROM risk_events WHERE event_type = 'funding_reconciliation_mismatch'"), n => n >= 2);
        await world.AccrualPassesAsync(2); // more passes: nothing more to log

        Assert.Equal(2, mismatches);
        Assert.Equal(2, await world.CountAsync("SELECT count(*) FROM risk_events WHERE event_type = 'funding_reconciliation_mismatch'"));
        Assert.Equal(2, (await world.LedgerFundingAsync("BTCUSDT")).Events.Count);
    }

    /// <summary>
    /// Six settlements to reconcile at once (a restart expects every posting of the backfill window again): the venue's
    /// income is asked for once for the symbol, not once per settlement, and each settlement is still judged on its own.
    /// Before, each one was a request of weight 30, and 30 days of 1 h symbols were thousands of them.
    /// </summary>
    [Fact]
    public async Task Accrual_ManySettlementsToReconcile_OneIncomeRequestPerSymbolAndEachJudged()
    {
        await using var world = await FundingWorld.StartAsync(postgres, rabbit, funding: new Dictionary<string, string?>
        {
            ["Funding:Accrual:ReconcileIncome"] = "true",
            ["Funding:Accrual:ReconcileAfterSeconds"] = "0",
        });
        await world.StopFundingAsync();
        // Held in the Ledger only: the venue books no funding for it, so every settlement is a mismatch.
        await world.OpenPositionAsync("BTCUSDT", Side.Long, "0.5", "60000");
        world.Paper.Engine.Advance(TimeSpan.FromHours(48));
        var asked = await world.Paper.RequestCountAsync("GET /fapi/v1/income");

        await world.StartFundingAsync();
        var mismatches = await Poll.UntilAsync(
            () => world.CountAsync("SELECT count(*) FROM risk_events WHERE event_type = 'funding_reconciliation_mismatch'"), n => n >= 6);
        await world.AccrualPassesAsync(2); // more passes: nothing more to ask

        Assert.Equal(6, mismatches);
        Assert.Equal(6, (await world.LedgerFundingAsync("BTCUSDT")).Events.Count);
        Assert.InRange(await world.Paper.RequestCountAsync("GET /fapi/v1/income") - asked, 1, 2);
    }

    [Fact]
    public async Task Accrual_SettlementYoungerThanTheGrace_WaitsThenPostsAtTheSizeTheLateFillMade()
    {
        await using var world = await FundingWorld.StartAsync(postgres, rabbit, funding: new Dictionary<string, string?>
        {
            ["Funding:Accrual:SettleAfterSeconds"] = "60",
        });
        await world.OpenPositionAsync("BTCUSDT", Side.Long, "0.2", "60000");
        // 30 s past the next funding time (Start is 30 min after one; they come every 8 h).
        world.Paper.Engine.Advance(TimeSpan.FromHours(7.5) + TimeSpan.FromSeconds(30));
        var fundingTime = FundingWorld.Start.AddMinutes(-30).AddHours(8);

        await world.AccrualPassesAsync(2); // passes run each second: none may post it yet
        Assert.Empty((await world.LedgerFundingAsync("BTCUSDT")).Events);
        // A fill from just before the funding time reaches the Ledger late (Execution retried it): 0.1 more.
        await world.Ledger.OpenPositionAsync(new Ledger.V1.OpenPositionRequest
        {
            IdempotencyKey = "late-add", Account = "main", Venue = "binance", Symbol = "BTCUSDT", Side = Side.Long, Quantity = "0.1",
            EntryPrice = "60000", Leverage = 3, MarginType = MarginType.Cross, Fee = "0",
            OpenedAt = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(fundingTime.AddSeconds(-1)),
        });
        world.Paper.Engine.Advance(TimeSpan.FromSeconds(31));

        var posted = await Poll.UntilAsync(() => world.LedgerFundingAsync("BTCUSDT"), r => r.Events.Count >= 1);
        var settlement = Assert.Single(posted.Events);
        Assert.Equal(fundingTime, settlement.FundingTime.ToDateTimeOffset());
        Assert.Equal(0.3m, Dec(settlement.PositionSize));
        Assert.Equal(0.3m * 60000m * 0.0001m, Dec(settlement.Payment));
    }

    [Fact]
    public async Task Accrual_PositionOpenedWithinTheGrace_OtherSymbolsSettlementsStillPosted()
    {
        await using var world = await FundingWorld.StartAsync(postgres, rabbit, funding: new Dictionary<string, string?>
        {
            ["Funding:Accrual:SettleAfterSeconds"] = "60",
        });
        await world.StopFundingAsync();
        var btc = await world.OpenPositionAsync("BTCUSDT", Side.Long, "0.2", "60000");
        // A settlement passes while Funding is down, and the position is closed two minutes after it ...
        world.Paper.Engine.Advance(TimeSpan.FromHours(7.5) + TimeSpan.FromMinutes(2));
        await world.Ledger.ClosePositionAsync(new Ledger.V1.ClosePositionRequest
        {
            IdempotencyKey = "close-" + Guid.NewGuid().ToString("N"), PositionId = btc.PositionId, ExitPrice = "60000",
            ClosedAt = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(world.Paper.Clock.GetUtcNow()),
        });
        // ... and another symbol's position is opened just now: it starts inside the grace window, after that window's
        // end, and has nothing to settle yet. Open positions come first in a pass, so it is looked at before BTCUSDT.
        await world.OpenPositionAsync("ETHUSDT", Side.Long, "1", "3000");

        await world.StartFundingAsync();
        var posted = await Poll.UntilAsync(() => world.LedgerFundingAsync("BTCUSDT"), r => r.Events.Count >= 1);

        var settlement = Assert.Single(posted.Events);
        Assert.Equal(FundingWorld.Start.AddMinutes(-30).AddHours(8), settlement.FundingTime.ToDateTimeOffset());
        Assert.Equal(0.2m * 60000m * 0.0001m, Dec(settlement.Payment));
        Assert.Empty((await world.LedgerFundingAsync("ETHUSDT")).Events);
    }

    /// <summary>
    /// One symbol whose funding history the venue answers unreadably on every pass (a protocol error) is logged and
    /// left due; the other symbols' settlements are still posted and reconciled. Before, the error ended the pass: a
    /// symbol earlier in it held back every later one's settlements, and the reconciler never ran.
    /// </summary>
    [Fact]
    public async Task Accrual_OneSymbolsHistoryUnreadable_OtherSymbolsStillPostedAndReconciled()
    {
        FailingHistoryVenue? failing = null;
        await using var world = await FundingWorld.StartAsync(
            postgres,
            rabbit,
            startFunding: false,
            funding: new Dictionary<string, string?>
            {
                ["Funding:Accrual:ReconcileIncome"] = "true",
                ["Funding:Accrual:ReconcileAfterSeconds"] = "0",
            },
            decorateVenue: venue => FailingHistoryVenue.Wrap(venue, "ETHUSDT", out failing));
        // Opened first, so first in the pass (the Ledger lists open positions by opening time).
        await world.OpenPositionAsync("ETHUSDT", Side.Long, "1", "3000");
        world.Paper.Engine.Advance(TimeSpan.FromSeconds(1));
        await world.OpenPositionAsync("BTCUSDT", Side.Short, "0.1", "60000");
        world.Paper.Engine.Advance(TimeSpan.FromHours(8));

        await world.StartFundingAsync();
        var btc = await Poll.UntilAsync(() => world.LedgerFundingAsync("BTCUSDT"), r => r.Events.Count >= 1);
        // Held in the Ledger only, so the venue books no funding for it: the reconciler ran if it logged the mismatch.
        var mismatches = await Poll.UntilAsync(
            () => world.CountAsync("SELECT count(*) FROM risk_events WHERE event_type = 'funding_reconciliation_mismatch'"), n => n >= 1);

        var settlement = Assert.Single(btc.Events);
        Assert.Equal(-0.6m, Dec(settlement.Payment));
        Assert.Equal(1, mismatches);
        Assert.Empty((await world.LedgerFundingAsync("ETHUSDT")).Events);
        Assert.True(failing!.Failures > 0);
    }

    /// <summary>
    /// Binance moved SOLUSDT from 4 h to 8 h while Funding was down. The settlements are the venue's (04:00 and 08:00 at
    /// 4 h, 16:00 at 8 h), not those of today's interval (which would give 08:00 and 16:00 and lose 04:00's payment).
    /// </summary>
    [Fact]
    public async Task Accrual_IntervalLengthenedWhileStopped_EverySettlementTheVenueListsIsPosted()
    {
        await using var world = await FundingWorld.StartAsync(postgres, rabbit);
        await world.OpenPositionAsync("SOLUSDT", Side.Long, "10", "150");
        await world.StopFundingAsync();
        world.Paper.Engine.Advance(TimeSpan.FromHours(8));
        world.Paper.Engine.SetFundingTerms("SOLUSDT", 8, null, null);
        world.Paper.Engine.Advance(TimeSpan.FromHours(8));

        await world.StartFundingAsync();
        await Poll.UntilAsync(() => world.LedgerFundingAsync("SOLUSDT"), r => r.Events.Count >= 3);
        await world.AccrualPassesAsync(2); // more passes run; nothing more may be posted
        var sol = await world.LedgerFundingAsync("SOLUSDT");

        var midnight = FundingWorld.Start.AddMinutes(-30);
        Assert.Equal([midnight.AddHours(4), midnight.AddHours(8), midnight.AddHours(16)], sol.Events.Select(e => e.FundingTime.ToDateTimeOffset()));
        Assert.All(sol.Events, e => Assert.Equal(0.075m, Dec(e.Payment)));
    }

    /// <summary>
    /// Binance moved BTCUSDT from 8 h to 4 h while Funding was down: today's interval expects a 04:00 settlement that
    /// never happened. The venue's list has none, so none is posted, and the passes that follow do not keep asking the
    /// venue for it (they read its list again only when a settlement can have happened since).
    /// </summary>
    [Fact]
    public async Task Accrual_IntervalShortenedWhileStopped_NoSettlementInventedAndTheVenueNotAskedOnEveryPass()
    {
        await using var world = await FundingWorld.StartAsync(postgres, rabbit);
        await world.OpenPositionAsync("BTCUSDT", Side.Short, "0.1", "60000");
        await world.StopFundingAsync();
        world.Paper.Engine.Advance(TimeSpan.FromHours(8));
        world.Paper.Engine.SetFundingTerms("BTCUSDT", 4, null, null);
        world.Paper.Engine.Advance(TimeSpan.FromHours(8));

        await world.StartFundingAsync();
        await Poll.UntilAsync(() => world.LedgerFundingAsync("BTCUSDT"), r => r.Events.Count >= 3);
        var reads = await world.Paper.RequestCountAsync("GET /fapi/v1/fundingRate");
        await world.AccrualPassesAsync(3); // three more passes (one a second)
        var btc = await world.LedgerFundingAsync("BTCUSDT");

        var midnight = FundingWorld.Start.AddMinutes(-30);
        Assert.Equal([midnight.AddHours(8), midnight.AddHours(12), midnight.AddHours(16)], btc.Events.Select(e => e.FundingTime.ToDateTimeOffset()));
        Assert.True(reads > 0);
        Assert.Equal(reads, await world.Paper.RequestCountAsync("GET /fapi/v1/fundingRate"));

        // Time passes within the hour (16:30 to 16:50): no settlement can have happened, and the venue is not asked.
        world.Paper.Engine.Advance(TimeSpan.FromMinutes(20));
        await world.AccrualPassesAsync(2);
        Assert.Equal(reads, await world.Paper.RequestCountAsync("GET /fapi/v1/fundingRate"));

        // Past 20:00 (and its 180 s grace): one read finds the 4 h settlement, and it is posted.
        world.Paper.Engine.Advance(TimeSpan.FromMinutes(194));
        btc = await Poll.UntilAsync(() => world.LedgerFundingAsync("BTCUSDT"), r => r.Events.Count >= 4);
        await world.AccrualPassesAsync(2);
        Assert.Equal(midnight.AddHours(20), btc.Events[^1].FundingTime.ToDateTimeOffset());
        Assert.Equal(reads + 1, await world.Paper.RequestCountAsync("GET /fapi/v1/fundingRate"));
    }

    [Fact]
    public async Task Posting_MarkWithEightDecimals_NotionalRoundedToTheLedgersEightAndAccepted()
    {
        await using var world = await FundingWorld.StartAsync(postgres, rabbit, startFunding: false);
        var position = await world.OpenPositionAsync("BTCUSDT", Side.Long, "0.003", "34000");
        var t = FundingWorld.Start.AddMinutes(-30).AddHours(8);

        // Binance reports marks like 34287.54619963: 0.003 × that = 102.86263859889, 11 decimals.
        var posting = Accrual.FundingAccrual.Posting(position, Domain.Symbol.Parse("BTCUSDT"), t, 0.0001m, 34287.54619963m, 0.003m, "funding:decimals");
        var logged = await world.Ledger.LogFundingEventAsync(posting);

        Assert.Equal("102.8626386", posting.Notional);
        Assert.Equal("0.01028626", posting.Payment); // 0.010286263859889, half to even at 8 places
        Assert.False(logged.Replayed);
        Assert.Equal(1, await world.CountAsync("SELECT count(*) FROM funding_events WHERE notional = 102.86263860 AND payment = 0.01028626"));
    }

    private static decimal Dec(string text) => decimal.Parse(text, CultureInfo.InvariantCulture);
}
