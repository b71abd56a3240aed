using System.Globalization;
using Google.Rpc;
using Grpc.Core;
using TradeEngine.Risk.Tests.Support;
using TradeEngine.Risk.V1;
using TradeEngine.Testing;
using TradeEngine.Testing.Servers;

namespace TradeEngine.Risk.Tests;

/// <summary>
/// The pre-trade check over loopback gRPC with its durable state in the real Ledger: every hard limit refused with
/// its reason, and the kill switch latched by a daily-loss breach, surviving restarts until an operator resets it.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class RiskPreTradeTests(PostgresServer postgres, RabbitMqServer rabbit)
{
    public static TheoryData<string, int, decimal, RiskReasonCode> Breaches => new()
    {
        // quantity, leverage, current equity, expected reason; day-start and peak equity are 10,000.
        { "0.2", 5, 10_000m, RiskReasonCode.NotionalAboveLimit },            // 12,000 > 10,000
        { "0.1", 6, 10_000m, RiskReasonCode.LeverageOutOfRange },            // 6 > 5
        { "0.1", 5, 9_400m, RiskReasonCode.DailyLossLimitBreached },         // loss 600 > 500
        { "0.0105", 5, 10_000m, RiskReasonCode.QuantityOffStep },            // step 0.001
        { "0.001", 5, 10_000m, RiskReasonCode.NotionalBelowExchangeMinimum }, // 60 < 100 (BTCUSDT minimum)
    };

    [Theory]
    [MemberData(nameof(Breaches))]
    public async Task CheckPreTrade_HardLimitBreached_RefusedWithReason(string quantity, int leverage, decimal equity, RiskReasonCode expected)
    {
        await using var world = await RiskWorld.StartAsync(postgres, rabbit, beforeRisk: w => w.SnapshotAsync(10_000m, DateTimeOffset.UtcNow));

        var reply = await world.Risk.CheckPreTradeAsync(new CheckPreTradeRequest
        {
            Order = RiskWorld.Order(quantity, leverage),
            Account = RiskWorld.Account(equity),
        });

        Assert.False(reply.Allowed);
        var reason = Assert.Single(reply.Reasons);
        Assert.Equal(expected, reason.Code);
        Assert.NotEmpty(reason.Message);
    }

    /// <summary>
    /// Limits tightened in configuration are the ones enforced: a 6,000 short under a 5,000 notional limit, and a loss of
    /// 300 under a 200 daily-loss limit (both within the hard limits), each refused with the configured limit.
    /// </summary>
    [Fact]
    public async Task CheckPreTrade_TightenedLimits_RefusedAtTheConfiguredLimit()
    {
        await using var world = await RiskWorld.StartAsync(postgres, rabbit,
            risk: new Dictionary<string, string?> { ["Risk:MaxPositionNotional"] = "5000", ["Risk:DailyLossLimit"] = "200" },
            beforeRisk: w => w.SnapshotAsync(10_000m, DateTimeOffset.UtcNow));
        var shortOrder = RiskWorld.Order("0.1", 5);
        shortOrder.Side = Common.V1.Side.Short;

        var notional = await world.Risk.CheckPreTradeAsync(new CheckPreTradeRequest { Order = shortOrder, Account = RiskWorld.Account(10_000m) });
        var loss = await world.Risk.CheckPreTradeAsync(new CheckPreTradeRequest { Order = RiskWorld.Order("0.05", 5), Account = RiskWorld.Account(9_700m) });

        var tooBig = Assert.Single(notional.Reasons);
        Assert.Equal((RiskReasonCode.NotionalAboveLimit, "5000", "6000"), (tooBig.Code, tooBig.Limit, tooBig.Actual));
        var tooMuchLost = Assert.Single(loss.Reasons, r => r.Code == RiskReasonCode.DailyLossLimitBreached);
        Assert.Equal(("200", "300"), (tooMuchLost.Limit, tooMuchLost.Actual));
    }

    [Fact]
    public async Task CheckPreTrade_SolUsdtFourHourVenueSymbol_AllowedOnTheVenueFilters()
    {
        await using var world = await RiskWorld.StartAsync(postgres, rabbit, beforeRisk: w => w.SnapshotAsync(10_000m, DateTimeOffset.UtcNow));

        var reply = await world.Risk.CheckPreTradeAsync(new CheckPreTradeRequest
        {
            Order = RiskWorld.Order("10", 5, price: "150", symbol: "SOLUSDT"),
            Account = RiskWorld.Account(10_000m),
        });
        var offStep = await world.Risk.CheckPreTradeAsync(new CheckPreTradeRequest
        {
            Order = RiskWorld.Order("10.5", 5, price: "150", symbol: "SOLUSDT"),
            Account = RiskWorld.Account(10_000m),
        });

        Assert.True(reply.Allowed, string.Join("; ", reply.Reasons.Select(r => r.Message)));
        Assert.Equal(1500m, decimal.Parse(reply.NotionalAfter, CultureInfo.InvariantCulture));
        // SOLUSDT's step (1) is the venue's; Domain's catalog does not list the symbol at all.
        Assert.Equal(RiskReasonCode.QuantityOffStep, Assert.Single(offStep.Reasons).Code);
    }

    [Theory]
    [InlineData("NOSUCHUSDT")]
    [InlineData("solusdt")]
    public async Task CheckPreTrade_UnknownSymbol_InvalidArgumentNamingOrderSymbol(string symbol)
    {
        await using var world = await RiskWorld.StartAsync(postgres, rabbit);

        var ex = await Assert.ThrowsAsync<RpcException>(() => world.Risk.CheckPreTradeAsync(new CheckPreTradeRequest
        {
            Order = RiskWorld.Order("1", 5, price: "150", symbol: symbol),
            Account = RiskWorld.Account(10_000m),
        }).ResponseAsync);

        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
        Assert.Equal("order.symbol", Assert.Single(ex.GetRpcStatus()!.GetDetail<BadRequest>().FieldViolations).Field);
    }

    [Fact]
    public async Task CheckPreTrade_AbsurdSize_InvalidArgumentNamingOrderQuantityNotInternal()
    {
        await using var world = await RiskWorld.StartAsync(postgres, rabbit);

        var ex = await Assert.ThrowsAsync<RpcException>(() => world.Risk.CheckPreTradeAsync(new CheckPreTradeRequest
        {
            Order = RiskWorld.Order("1000000000000000000000000", 5, price: "100000", symbol: "BTCUSDT"),
            Account = RiskWorld.Account(10_000m),
        }).ResponseAsync);

        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
        var violation = Assert.Single(ex.GetRpcStatus()!.GetDetail<BadRequest>().FieldViolations);
        Assert.Equal("order.quantity", violation.Field);
        Assert.Contains("too large", violation.Description, StringComparison.Ordinal);
    }

    /// <summary>
    /// Figures that pass their own bounds but overflow decimal in the judgement: a dust position whose computed
    /// maintenance margin makes the margin ratio too large; a position of 10^23 at a mark of 10^-8 valued at the order's
    /// price of 10^9; an order of 10^23 at 10^-8 valued at a position's mark of 10^12. Each is INVALID_ARGUMENT naming the request's field (not Domain's parameter, not INTERNAL), and
    /// the refused request writes nothing: no day observation, no new high (11,000 over the 10,000 peak).
    /// </summary>
    [Theory]
    [InlineData("0.0000000000000000000000000001", "60000", "", "0.01", "60000", "account.maintenance_margin")]
    [InlineData("100000000000000000000000", "0.00000001", "0", "0.01", "1000000000", "account.positions[0].quantity")]
    [InlineData("0.001", "1000000000000", "0", "100000000000000000000000", "0.00000001", "order.quantity")]
    public async Task CheckPreTrade_FigureOverflowsInTheJudgement_InvalidArgumentNamingTheFieldAndNothingWritten(
        string quantity, string price, string maintenance, string orderQuantity, string orderPrice, string field)
    {
        await using var world = await RiskWorld.StartAsync(postgres, rabbit, beforeRisk: w => w.SnapshotAsync(10_000m, DateTimeOffset.UtcNow));
        var account = RiskWorld.Account(11_000m);
        account.MaintenanceMargin = maintenance;
        account.Positions.Add(new Common.V1.PositionSnapshot
        {
            Symbol = "BTCUSDT", Side = Common.V1.Side.Long, Quantity = quantity, EntryPrice = price, MarkPrice = price, UnrealizedPnl = "0",
        });

        var ex = await Assert.ThrowsAsync<RpcException>(() => world.Risk.CheckPreTradeAsync(new CheckPreTradeRequest
        {
            Order = RiskWorld.Order(orderQuantity, price: orderPrice), Account = account,
        }).ResponseAsync);

        // The peak is written in the background: time for it to land, had it been written.
        await Task.Delay(TimeSpan.FromSeconds(1));
        Assert.Equal(1, await world.CountAsync("pnl_snapshots"));
        Assert.Equal("10000", (await world.Ledger.GetPeakEquityAsync(new Ledger.V1.GetPeakEquityRequest())).PeakEquity);
        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
        Assert.Equal(field, Assert.Single(ex.GetRpcStatus()!.GetDetail<BadRequest>().FieldViolations).Field);
    }

    /// <summary>
    /// Equity is wallet + unrealized. One that is not would hide a day's loss (wallet 9,400 sent with equity 10,000) or,
    /// recorded as a new high, stand as the peak and latch the kill switch on every later check: refused naming the
    /// field, and no high is recorded.
    /// </summary>
    [Theory]
    [InlineData("9400", "0", "10000")]
    [InlineData("10000", "0", "999999999")]
    [InlineData("10000", "-100", "10000")]
    public async Task CheckPreTrade_EquityNotWalletPlusUnrealized_InvalidArgumentNamingAccountEquityAndNoHighRecorded(string wallet, string unrealized, string equity)
    {
        await using var world = await RiskWorld.StartAsync(postgres, rabbit, beforeRisk: w => w.SnapshotAsync(10_000m, DateTimeOffset.UtcNow));
        var account = RiskWorld.Account(10_000m);
        (account.WalletBalance, account.UnrealizedPnl, account.Equity) = (wallet, unrealized, equity);

        var ex = await Assert.ThrowsAsync<RpcException>(() => world.Risk.CheckPreTradeAsync(new CheckPreTradeRequest
        {
            Order = RiskWorld.Order("0.1", 5), Account = account,
        }).ResponseAsync);

        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
        Assert.Equal("account.equity", Assert.Single(ex.GetRpcStatus()!.GetDetail<BadRequest>().FieldViolations).Field);
        Assert.Equal("10000", (await world.Ledger.GetPeakEquityAsync(new Ledger.V1.GetPeakEquityRequest())).PeakEquity);
        var consistent = await world.Risk.CheckPreTradeAsync(new CheckPreTradeRequest { Order = RiskWorld.Order("0.1", 5), Account = RiskWorld.Account(10_000m) });
        Assert.True(consistent.Allowed);
    }

    /// <summary>
    /// An account sent without its unrealized PnL while its position is 640 down: the loss counts (its position's own,
    /// size × (mark − entry)). Before, the account's unrealized PnL was taken as 0, and the day's loss of 640 (over 500)
    /// was judged 0 and allowed.
    /// </summary>
    [Fact]
    public async Task CheckPreTrade_AccountWithoutUnrealizedPnl_PositionsLossCountsTowardTheDaysLoss()
    {
        await using var world = await RiskWorld.StartAsync(postgres, rabbit, beforeRisk: w => w.SnapshotAsync(10_000m, DateTimeOffset.UtcNow));
        var account = RiskWorld.Account(10_000m);
        (account.UnrealizedPnl, account.Equity) = ("", "");
        account.Positions.Add(new Common.V1.PositionSnapshot
        {
            Symbol = "BTCUSDT", Side = Common.V1.Side.Long, Quantity = "0.16", EntryPrice = "60000", MarkPrice = "56000", Leverage = 5,
        });

        var reply = await world.Risk.CheckPreTradeAsync(new CheckPreTradeRequest { Order = RiskWorld.Order("0.001", 5, symbol: "ETHUSDT", price: "3000"), Account = account });

        Assert.False(reply.Allowed);
        Assert.Contains(reply.Reasons, r => r.Code == RiskReasonCode.DailyLossLimitBreached && r.Actual == "640");
    }

    /// <summary>
    /// Balance × leverage is judged on the margin balance: a wallet of 2,000 with 1,200 unrealized lost on 0.05 BTC (entry
    /// 84,000, mark 60,000) is 800, so 0.05 more at 5x (6,000 after, its margin 600 within the 800 available) is over
    /// 800 × 5 = 4,000. Before, the wallet balance was used (10,000) and it was allowed.
    /// </summary>
    [Fact]
    public async Task CheckPreTrade_UnrealizedLoss_BalanceTimesLeverageOnTheMarginBalance()
    {
        await using var world = await RiskWorld.StartAsync(postgres, rabbit, beforeRisk: w => w.SnapshotAsync(800m, DateTimeOffset.UtcNow));
        var account = RiskWorld.Account(800m);
        (account.WalletBalance, account.UnrealizedPnl) = ("2000", "-1200");
        account.Positions.Add(new Common.V1.PositionSnapshot
        {
            Symbol = "BTCUSDT", Side = Common.V1.Side.Long, Quantity = "0.05", EntryPrice = "84000", MarkPrice = "60000", Leverage = 5, UnrealizedPnl = "-1200",
        });

        var reply = await world.Risk.CheckPreTradeAsync(new CheckPreTradeRequest { Order = RiskWorld.Order("0.05", 5), Account = account });

        Assert.False(reply.Allowed);
        var reason = Assert.Single(reply.Reasons);
        Assert.Equal((RiskReasonCode.NotionalAboveBalanceTimesLeverage, "4000", "6000"), (reason.Code, reason.Limit, reason.Actual));
    }

    /// <summary>
    /// A position already over the limit at its mark (0.17 BTC at 60,000: 10,200), added to by an order priced below the
    /// market (58,000): valued at the mark, 0.171 × 60,000 = 10,260 is refused. Before, at the order's price, 9,918 passed.
    /// </summary>
    [Fact]
    public async Task CheckPreTrade_AddPricedBelowTheMark_PositionValuedAtTheMarkAndRefused()
    {
        await using var world = await RiskWorld.StartAsync(postgres, rabbit, beforeRisk: w => w.SnapshotAsync(20_000m, DateTimeOffset.UtcNow));
        var account = RiskWorld.Account(20_000m);
        account.Positions.Add(new Common.V1.PositionSnapshot
        {
            Symbol = "BTCUSDT", Side = Common.V1.Side.Long, Quantity = "0.17", EntryPrice = "60000", MarkPrice = "60000", Leverage = 5, UnrealizedPnl = "0",
        });

        var reply = await world.Risk.CheckPreTradeAsync(new CheckPreTradeRequest { Order = RiskWorld.Order("0.001", 5, price: "58000"), Account = account });

        Assert.False(reply.Allowed);
        var reason = Assert.Single(reply.Reasons, r => r.Code == RiskReasonCode.NotionalAboveLimit);
        Assert.Equal("10260", reason.Actual);
    }

    [Fact]
    public async Task CheckPreTrade_TwoPositionsOnOneSymbol_InvalidArgumentNamingTheSecond()
    {
        await using var world = await RiskWorld.StartAsync(postgres, rabbit, beforeRisk: w => w.SnapshotAsync(10_000m, DateTimeOffset.UtcNow));
        var account = RiskWorld.Account(10_000m);
        foreach (var side in new[] { Common.V1.Side.Long, Common.V1.Side.Short })
        {
            account.Positions.Add(new Common.V1.PositionSnapshot
            {
                Symbol = "BTCUSDT", Side = side, Quantity = "0.16", EntryPrice = "60000", MarkPrice = "60000", Leverage = 5, UnrealizedPnl = "0",
            });
        }

        var ex = await Assert.ThrowsAsync<RpcException>(() => world.Risk.CheckPreTradeAsync(new CheckPreTradeRequest
        {
            Order = RiskWorld.Order("0.16", 5), Account = account,
        }).ResponseAsync);

        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
        Assert.Equal("account.positions[1].symbol", Assert.Single(ex.GetRpcStatus()!.GetDetail<BadRequest>().FieldViolations).Field);
    }

    [Fact]
    public async Task CheckPreTrade_DrawdownFromOldPeak_RefusedWithDrawdownReason()
    {
        await using var world = await OldPeakAsync(dayStart: 10_100m);

        var reply = await world.Risk.CheckPreTradeAsync(new CheckPreTradeRequest
        {
            Order = RiskWorld.Order("0.1"),
            Account = RiskWorld.Account(10_000m),
        });

        Assert.False(reply.Allowed);
        var reason = Assert.Single(reply.Reasons);
        Assert.Equal(RiskReasonCode.DrawdownLimitBreached, reason.Code);
        Assert.Equal("1500", reason.Actual);
        Assert.Equal("1000", reason.Limit);
        Assert.Equal("100", reply.DailyLoss);
    }

    /// <summary>
    /// A reset moves neither the peak nor the day's start (the contract says so): after a drawdown breach latched the
    /// switch and an operator reset it, the next check at the same equity is refused for the drawdown and latches it
    /// again, with a second latch in the switch's history.
    /// </summary>
    [Fact]
    public async Task CheckPreTrade_DrawdownStillOverTheLimitAfterAReset_LatchedAgain()
    {
        await using var world = await OldPeakAsync(dayStart: 10_000m);
        var stillDown = new CheckPreTradeRequest { Order = RiskWorld.Order("0.1"), Account = RiskWorld.Account(10_000m) };
        Assert.False((await world.Risk.CheckPreTradeAsync(stillDown)).Allowed);
        await AssertLatchedAsync(world, KillSwitchTrigger.Drawdown);

        var reset = await world.Risk.ResetKillSwitchAsync(new ResetKillSwitchRequest
        {
            IdempotencyKey = "reset-after-drawdown", Operator = "alice", Reason = "reviewed the drawdown",
        }, RiskWorld.OperatorHeaders);
        var again = await world.Risk.CheckPreTradeAsync(stillDown);

        Assert.False(reset.Active);
        Assert.False(again.Allowed);
        Assert.Contains(again.Reasons, r => r.Code == RiskReasonCode.DrawdownLimitBreached && r.Actual == "1500");
        await AssertLatchedAsync(world, KillSwitchTrigger.Drawdown);
        var history = await world.Ledger.GetKillSwitchHistoryAsync(new Ledger.V1.GetKillSwitchHistoryRequest());
        Assert.Equal(3, history.Changes.Count);
    }

    [Fact]
    public async Task CheckPreTrade_MonitorOffDrawdownFromAHighOnlyAChecksSaw_RefusedAndKillSwitchLatched()
    {
        // The margin monitor is off (RiskWorld's default): the checks' own accounts are the only observations of equity.
        await using var world = await RiskWorld.StartAsync(postgres, rabbit, beforeRisk: w => w.SnapshotAsync(10_000m, DateTimeOffset.UtcNow));

        var high = await world.Risk.CheckPreTradeAsync(new CheckPreTradeRequest { Order = RiskWorld.Order("0.01"), Account = RiskWorld.Account(11_200m) });
        Assert.True(high.Allowed);
        // The high reaches the books (written in the background), so a restart keeps it too.
        var peak = await Poll.UntilAsync(() => world.Ledger.GetPeakEquityAsync(new Ledger.V1.GetPeakEquityRequest()).ResponseAsync, p => p.PeakEquity == "11200");
        Assert.Equal("11200", peak.PeakEquity);

        var reply = await world.Risk.CheckPreTradeAsync(new CheckPreTradeRequest { Order = RiskWorld.Order("0.01"), Account = RiskWorld.Account(10_100m) });

        Assert.False(reply.Allowed);
        var reason = Assert.Single(reply.Reasons);
        Assert.Equal(RiskReasonCode.DrawdownLimitBreached, reason.Code);
        Assert.Equal("1100", reason.Actual);
        await AssertLatchedAsync(world, KillSwitchTrigger.Drawdown);
    }

    [Fact]
    public async Task CheckPreTrade_LedgerRefusesTheHighsSnapshot_CheckStillAnsweredAndTheHighKeptThroughReloads()
    {
        await using var world = await RiskWorld.StartAsync(postgres, rabbit, beforeRisk: w => w.SnapshotAsync(10_000m, DateTimeOffset.UtcNow));
        Assert.True((await world.Risk.CheckPreTradeAsync(new CheckPreTradeRequest { Order = RiskWorld.Order("0.01"), Account = RiskWorld.Account(10_000m) })).Allowed);
        // From here the Ledger answers but refuses every PnL snapshot (a failing disk, a constraint it trips on).
        await using (var db = new Npgsql.NpgsqlConnection(world.Database))
        {
            await db.OpenAsync();
            await using var refuse = new Npgsql.NpgsqlCommand("""
                CREATE FUNCTION test_refuse_snapshot() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'refused by the test'; END $$;
                CREATE TRIGGER test_refuse_snapshot BEFORE INSERT ON pnl_snapshots FOR EACH ROW EXECUTE FUNCTION test_refuse_snapshot();
                """, db);
            await refuse.ExecuteNonQueryAsync();
        }

        // Recording the high fails: the check still decides (it used to fail with the Ledger's error).
        var high = await world.Risk.CheckPreTradeAsync(new CheckPreTradeRequest { Order = RiskWorld.Order("0.01"), Account = RiskWorld.Account(11_200m) });
        Assert.True(high.Allowed);

        // The process keeps the high through the state's reloads (every second here), which still show the older peak.
        await Task.Delay(TimeSpan.FromSeconds(3));
        Assert.Equal("10000", (await world.Ledger.GetPeakEquityAsync(new Ledger.V1.GetPeakEquityRequest())).PeakEquity);
        var reply = await world.Risk.CheckPreTradeAsync(new CheckPreTradeRequest { Order = RiskWorld.Order("0.01"), Account = RiskWorld.Account(10_100m) });
        Assert.Equal(RiskReasonCode.DrawdownLimitBreached, Assert.Single(reply.Reasons).Code);
        await AssertLatchedAsync(world, KillSwitchTrigger.Drawdown);
    }

    [Fact]
    public async Task CheckPreTrade_MonitorOffLastSnapshotDaysOld_DailyLossMeasuredFromTodaysFirstCheck()
    {
        // The only snapshot is days old (the monitor is off, as in RiskWorld): equity rose since, unobserved.
        await using var world = await RiskWorld.StartAsync(postgres, rabbit, beforeRisk: w => w.SnapshotAsync(10_000m, DateTimeOffset.UtcNow.AddDays(-3)));

        var first = await world.Risk.CheckPreTradeAsync(new CheckPreTradeRequest { Order = RiskWorld.Order("0.01"), Account = RiskWorld.Account(11_000m) });
        Assert.True(first.Allowed);
        Assert.Equal("0", first.DailyLoss);

        // 600 lost today: over the 500 limit, although equity is still above the old snapshot's 10,000.
        var reply = await world.Risk.CheckPreTradeAsync(new CheckPreTradeRequest { Order = RiskWorld.Order("0.01"), Account = RiskWorld.Account(10_400m) });

        Assert.False(reply.Allowed);
        Assert.Equal(RiskReasonCode.DailyLossLimitBreached, Assert.Single(reply.Reasons).Code);
        Assert.Equal("600", reply.DailyLoss);
        await AssertLatchedAsync(world, KillSwitchTrigger.DailyLoss);
    }

    [Fact]
    public async Task CheckPreTrade_WithinEveryLimit_AllowedWithFigures()
    {
        await using var world = await RiskWorld.StartAsync(postgres, rabbit, beforeRisk: w => w.SnapshotAsync(10_000m, DateTimeOffset.UtcNow));

        var reply = await world.Risk.CheckPreTradeAsync(new CheckPreTradeRequest
        {
            Order = RiskWorld.Order("0.1"),
            Account = RiskWorld.Account(10_000m),
        });

        Assert.True(reply.Allowed);
        Assert.Empty(reply.Reasons);
        Assert.Equal("6000", reply.NotionalAfter);
        Assert.Equal("1200", reply.RequiredMargin);
        Assert.Equal("0", reply.DailyLoss);
    }

    [Fact]
    public async Task CheckPreTrade_NoSnapshotAndNoMonitor_FirstCheckAnchorsEquitySoALaterLossIsStillCaught()
    {
        // No PnL snapshot and the margin monitor off (RiskWorld's default): nothing else would write one.
        await using var world = await RiskWorld.StartAsync(postgres, rabbit);

        // Eight first checks at once (as eight strategies starting together): one anchor, no check refused.
        // Each sees a slightly different account (positions opening meanwhile): anchors written in the same millisecond
        // would share a key with different payloads.
        var first = await Task.WhenAll(Enumerable.Range(0, 8).Select(i =>
            world.Risk.CheckPreTradeAsync(new CheckPreTradeRequest { Order = RiskWorld.Order("0.1"), Account = RiskWorld.Account(10_000m - i) }).ResponseAsync));
        Assert.All(first, reply => Assert.True(reply.Allowed));
        // The anchor is the day's start; a check that saw more than it also raised the peak.
        var anchored = decimal.Parse((await world.Ledger.GetDailyPnlAsync(new Ledger.V1.GetDailyPnlRequest())).DayStartEquity, System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(anchored, 9_993m, 10_000m);
        Assert.Equal("10000", (await world.Ledger.GetPeakEquityAsync(new Ledger.V1.GetPeakEquityRequest())).PeakEquity);

        var later = await world.Risk.CheckPreTradeAsync(new CheckPreTradeRequest { Order = RiskWorld.Order("0.1"), Account = RiskWorld.Account(anchored - 600m) });
        Assert.False(later.Allowed);
        Assert.Contains(later.Reasons, r => r.Code == RiskReasonCode.DailyLossLimitBreached);
        Assert.Equal("600", later.DailyLoss);
        Assert.True((await world.Risk.GetKillSwitchAsync(new GetKillSwitchRequest())).Active);
    }

    [Fact]
    public async Task CheckPreTrade_DailyLossBreach_LatchesKillSwitchThatSurvivesRestartsUntilOperatorReset()
    {
        await using var world = await RiskWorld.StartAsync(postgres, rabbit, beforeRisk: w => w.SnapshotAsync(10_000m, DateTimeOffset.UtcNow));
        var healthy = new CheckPreTradeRequest { Order = RiskWorld.Order("0.1"), Account = RiskWorld.Account(10_000m) };

        var breach = await world.Risk.CheckPreTradeAsync(new CheckPreTradeRequest { Order = RiskWorld.Order("0.1"), Account = RiskWorld.Account(9_400m) });
        Assert.Contains(breach.Reasons, r => r.Code == RiskReasonCode.DailyLossLimitBreached);
        var latched = await world.Risk.GetKillSwitchAsync(new GetKillSwitchRequest());
        Assert.True(latched.Active);
        Assert.Equal(KillSwitchTrigger.DailyLoss, latched.Trigger);

        // The loss recovers, but the switch stays latched; restart both services on the same database.
        await world.StopRiskAsync();
        await world.StopLedgerAsync();
        await world.StartLedgerAsync();
        await world.StartRiskAsync();
        Assert.True((await world.Risk.GetKillSwitchAsync(new GetKillSwitchRequest())).Active);
        var refused = await world.Risk.CheckPreTradeAsync(healthy);
        Assert.False(refused.Allowed);
        Assert.Equal(RiskReasonCode.KillSwitchActive, Assert.Single(refused.Reasons).Code);

        // A reset without an operator or reason changes nothing.
        var noOperator = await Assert.ThrowsAsync<RpcException>(() => world.Risk.ResetKillSwitchAsync(new ResetKillSwitchRequest
        {
            IdempotencyKey = "reset-1", Reason = "loss understood",
        }, RiskWorld.OperatorHeaders).ResponseAsync);
        AssertField(noOperator, "operator");
        var noReason = await Assert.ThrowsAsync<RpcException>(() => world.Risk.ResetKillSwitchAsync(new ResetKillSwitchRequest
        {
            IdempotencyKey = "reset-1", Operator = "alice",
        }, RiskWorld.OperatorHeaders).ResponseAsync);
        AssertField(noReason, "reason");
        // A control character is refused here, naming the field the caller sent (the Ledger refused it as "actor").
        var controlInOperator = await Assert.ThrowsAsync<RpcException>(() => world.Risk.ResetKillSwitchAsync(new ResetKillSwitchRequest
        {
            IdempotencyKey = "reset-1", Operator = "ali\u0001ce", Reason = "loss understood",
        }, RiskWorld.OperatorHeaders).ResponseAsync);
        AssertField(controlInOperator, "operator");
        Assert.True((await world.Risk.GetKillSwitchAsync(new GetKillSwitchRequest())).Active);

        var reset = await world.Risk.ResetKillSwitchAsync(new ResetKillSwitchRequest
        {
            IdempotencyKey = "reset-2", Operator = "alice", Reason = "loss understood, limits reviewed",
        }, RiskWorld.OperatorHeaders);
        Assert.False(reset.Active);
        Assert.Equal("alice", reset.Actor);
        Assert.True((await world.Risk.CheckPreTradeAsync(healthy)).Allowed);
        var history = await world.Ledger.GetKillSwitchHistoryAsync(new Ledger.V1.GetKillSwitchHistoryRequest());
        Assert.Equal(2, history.Changes.Count);
    }

    /// <summary>
    /// Another Risk instance latched a daily-loss breach and an operator reset it, both since this instance's cache last
    /// loaded. A breach this instance then sees latches the switch again: its key comes from the switch as the Ledger has
    /// it now. Keyed from the cache, it was the earlier latch's key, which the Ledger refused (ALREADY_EXISTS: another
    /// reason), and the check failed with the switch left off.
    /// </summary>
    [Fact]
    public async Task CheckPreTrade_BreachAfterALatchAndResetThisInstanceHasNotSeen_LatchesAgain()
    {
        await using var world = await RiskWorld.StartAsync(postgres, rabbit, risk: new Dictionary<string, string?> { ["Risk:StateRefreshSeconds"] = "3600", ["Risk:StateMaxAgeSeconds"] = "3600" },
            beforeRisk: w => w.SnapshotAsync(10_000m, DateTimeOffset.UtcNow));
        Assert.True((await world.Risk.CheckPreTradeAsync(new CheckPreTradeRequest { Order = RiskWorld.Order("0.1", 5), Account = RiskWorld.Account(10_000m) })).Allowed);
        await world.Ledger.SetKillSwitchAsync(new Ledger.V1.SetKillSwitchRequest
        {
            IdempotencyKey = "ks:latch:daily_loss:0", Active = true, Trigger = "daily_loss", Reason = "latched by another instance", Actor = "risk",
        });
        await world.Ledger.SetKillSwitchAsync(new Ledger.V1.SetKillSwitchRequest
        {
            IdempotencyKey = "ks:operator-reset", Active = false, Trigger = "operator", Reason = "checked the books", Actor = "ops",
        }, RiskWorld.OperatorHeaders);

        var reply = await world.Risk.CheckPreTradeAsync(new CheckPreTradeRequest { Order = RiskWorld.Order("0.1", 5), Account = RiskWorld.Account(9_400m) });

        Assert.False(reply.Allowed);
        Assert.Contains(reply.Reasons, r => r.Code == RiskReasonCode.DailyLossLimitBreached);
        var state = await world.Ledger.GetKillSwitchAsync(new Ledger.V1.GetKillSwitchRequest());
        Assert.True(state.Active);
        Assert.Equal(("daily_loss", "risk"), (state.Trigger, state.Actor));
    }

    /// <summary>
    /// Keys the Ledger would refuse once Risk had passed them on (an invisible format character, whitespace at an end):
    /// refused by Risk, naming the field, and the switch is left as it was. Before, a reset under " all-clear" reset the
    /// switch (the prefix hid the space from the Ledger), and the others reached the Ledger and were refused there.
    /// </summary>
    [Theory]
    [InlineData("stop\u200B", false)]
    [InlineData("stop ", false)]
    [InlineData("\uFEFFall-clear", true)]
    [InlineData(" all-clear", true)]
    public async Task TriggerAndResetKillSwitch_KeyTheLedgerWouldRefuse_InvalidArgumentNamingItSwitchUnchanged(string escaped, bool reset)
    {
        var key = System.Text.RegularExpressions.Regex.Unescape(escaped);
        await using var world = await RiskWorld.StartAsync(postgres, rabbit);
        if (reset)
        {
            await world.Risk.TriggerKillSwitchAsync(new TriggerKillSwitchRequest { IdempotencyKey = "on", Trigger = KillSwitchTrigger.Operator, Reason = "test", Actor = "bob" });
        }

        var ex = await Assert.ThrowsAsync<RpcException>(() => reset
            ? world.Risk.ResetKillSwitchAsync(new ResetKillSwitchRequest { IdempotencyKey = key, Operator = "alice", Reason = "over" }, RiskWorld.OperatorHeaders).ResponseAsync
            : world.Risk.TriggerKillSwitchAsync(new TriggerKillSwitchRequest { IdempotencyKey = key, Trigger = KillSwitchTrigger.Operator, Reason = "test", Actor = "bob" }).ResponseAsync);

        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
        Assert.Equal("idempotency_key", Assert.Single(ex.GetRpcStatus()!.GetDetail<BadRequest>().FieldViolations).Field);
        Assert.Equal(reset, (await world.Risk.GetKillSwitchAsync(new GetKillSwitchRequest())).Active);
        Assert.Equal(reset ? 1 : 0, (await world.Ledger.GetKillSwitchHistoryAsync(new Ledger.V1.GetKillSwitchHistoryRequest())).Changes.Count);
    }

    /// <summary>
    /// An idempotency key names one request forever: the trigger's key sent again after a reset, and the reset's key sent
    /// again after a newer latch (a retry that arrives late), each answer what they first answered and change nothing.
    /// Before, keys were scoped to the switch's last change, so each acted again: the late reset cleared a latch nobody
    /// had seen.
    /// </summary>
    [Fact]
    public async Task TriggerAndResetKillSwitch_KeysReusedAfterTheSwitchChanged_FirstAnswerAndNothingChanged()
    {
        await using var world = await RiskWorld.StartAsync(postgres, rabbit);
        var trigger = new TriggerKillSwitchRequest { IdempotencyKey = "emergency-stop", Trigger = KillSwitchTrigger.Operator, Reason = "exchange incident", Actor = "bob" };
        var reset = new ResetKillSwitchRequest { IdempotencyKey = "all-clear", Operator = "alice", Reason = "incident over" };

        var on = await world.Risk.TriggerKillSwitchAsync(trigger);
        Assert.True(on.Active);
        Assert.True((await world.Risk.TriggerKillSwitchAsync(trigger)).Active); // a plain retry
        var off = await world.Risk.ResetKillSwitchAsync(reset, RiskWorld.OperatorHeaders);
        Assert.False(off.Active);
        await Task.Delay(5); // the next change has a later millisecond
        var triggerAgain = await world.Risk.TriggerKillSwitchAsync(trigger);
        Assert.False((await world.Ledger.GetKillSwitchAsync(new Ledger.V1.GetKillSwitchRequest())).Active);
        Assert.Equal(on, triggerAgain);
        var latch = await world.Risk.TriggerKillSwitchAsync(new TriggerKillSwitchRequest { IdempotencyKey = "second-stop", Trigger = KillSwitchTrigger.Drawdown, Reason = "drawdown", Actor = "risk" });
        Assert.True(latch.Active);
        await Task.Delay(5);
        var resetAgain = await world.Risk.ResetKillSwitchAsync(reset, RiskWorld.OperatorHeaders);
        Assert.True((await world.Ledger.GetKillSwitchAsync(new Ledger.V1.GetKillSwitchRequest())).Active);
        Assert.True((await world.Risk.GetKillSwitchAsync(new GetKillSwitchRequest())).Active);
        Assert.Equal(off, resetAgain);

        var history = await world.Ledger.GetKillSwitchHistoryAsync(new Ledger.V1.GetKillSwitchHistoryRequest());
        Assert.Equal([true, false, true], history.Changes.Select(c => c.Active));
        Assert.Equal(3, await world.CountAsync("risk_events WHERE event_type LIKE 'kill_switch%'"));
    }

    /// <summary>
    /// The same key with another request is ALREADY_EXISTS and changes nothing: a trigger's key with another reason and
    /// trigger while the switch is on (before, OK with the current state), and a reset's key with another operator.
    /// </summary>
    [Fact]
    public async Task TriggerAndResetKillSwitch_KeyReusedWithAnotherRequest_AlreadyExistsAndNothingChanged()
    {
        await using var world = await RiskWorld.StartAsync(postgres, rabbit);
        await world.Risk.TriggerKillSwitchAsync(new TriggerKillSwitchRequest { IdempotencyKey = "k", Trigger = KillSwitchTrigger.Operator, Reason = "A", Actor = "bob" });

        var trigger = await Assert.ThrowsAsync<RpcException>(() => world.Risk.TriggerKillSwitchAsync(
            new TriggerKillSwitchRequest { IdempotencyKey = "k", Trigger = KillSwitchTrigger.Drawdown, Reason = "B", Actor = "bob" }).ResponseAsync);
        Assert.Equal(StatusCode.AlreadyExists, trigger.StatusCode);
        await world.Risk.ResetKillSwitchAsync(new ResetKillSwitchRequest { IdempotencyKey = "r", Operator = "alice", Reason = "over" }, RiskWorld.OperatorHeaders);
        await world.Risk.TriggerKillSwitchAsync(new TriggerKillSwitchRequest { IdempotencyKey = "k2", Trigger = KillSwitchTrigger.Operator, Reason = "C", Actor = "bob" });
        var reset = await Assert.ThrowsAsync<RpcException>(() => world.Risk.ResetKillSwitchAsync(
            new ResetKillSwitchRequest { IdempotencyKey = "r", Operator = "carol", Reason = "over" }, RiskWorld.OperatorHeaders).ResponseAsync);
        Assert.Equal(StatusCode.AlreadyExists, reset.StatusCode);

        var state = await world.Ledger.GetKillSwitchAsync(new Ledger.V1.GetKillSwitchRequest());
        Assert.Equal((true, "C"), (state.Active, state.Reason));
        Assert.Equal(3, (await world.Ledger.GetKillSwitchHistoryAsync(new Ledger.V1.GetKillSwitchHistoryRequest())).Changes.Count);
    }

    /// <summary>
    /// The switch changed but its risk event was refused: the caller got an error, and its retry (same key, same request)
    /// writes the risk event, once. Before, the retry answered OK with no risk event ever written.
    /// </summary>
    [Fact]
    public async Task TriggerKillSwitch_RiskEventFailedAfterTheChange_RetryWritesItOnce()
    {
        await using var world = await RiskWorld.StartAsync(postgres, rabbit);
        await ExecuteAsync(world, """
            CREATE FUNCTION test_refuse_event() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'refused by the test'; END $$;
            CREATE TRIGGER test_refuse_event BEFORE INSERT ON risk_events FOR EACH ROW EXECUTE FUNCTION test_refuse_event();
            """);
        var trigger = new TriggerKillSwitchRequest { IdempotencyKey = "stop", Trigger = KillSwitchTrigger.Operator, Reason = "incident", Actor = "bob" };
        await Assert.ThrowsAsync<RpcException>(() => world.Risk.TriggerKillSwitchAsync(trigger).ResponseAsync);
        Assert.True((await world.Ledger.GetKillSwitchAsync(new Ledger.V1.GetKillSwitchRequest())).Active);
        await ExecuteAsync(world, "DROP TRIGGER test_refuse_event ON risk_events");

        Assert.True((await world.Risk.TriggerKillSwitchAsync(trigger)).Active);
        Assert.True((await world.Risk.TriggerKillSwitchAsync(trigger)).Active);

        Assert.Equal(1, await world.CountAsync("risk_events WHERE event_type = 'kill_switch_operator'"));
        Assert.Single((await world.Ledger.GetKillSwitchHistoryAsync(new Ledger.V1.GetKillSwitchHistoryRequest())).Changes);
    }

    private static async Task ExecuteAsync(RiskWorld world, string sql)
    {
        await using var db = new Npgsql.NpgsqlConnection(world.Database);
        await db.OpenAsync();
        await using var command = new Npgsql.NpgsqlCommand(sql, db);
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>
    /// The longest key and reason the contract takes: the trigger (a 128-character key, which the prefixes took past the
    /// Ledger's 128) turns the switch on, and the reset (a 1,024-character reason, which the operator's name took past the
    /// Ledger's 1,024 for its risk event) is answered and on record.
    /// </summary>
    [Fact]
    public async Task TriggerAndResetKillSwitch_LongestKeyAndReason_ActAndAreOnRecord()
    {
        await using var world = await RiskWorld.StartAsync(postgres, rabbit);

        var on = await world.Risk.TriggerKillSwitchAsync(new TriggerKillSwitchRequest
        {
            IdempotencyKey = new string('k', 128), Trigger = KillSwitchTrigger.Operator, Reason = "exchange incident", Actor = "bob",
        });
        var off = await world.Risk.ResetKillSwitchAsync(new ResetKillSwitchRequest { IdempotencyKey = new string('r', 128), Operator = "alice", Reason = new string('x', 1024) }, RiskWorld.OperatorHeaders);

        Assert.True(on.Active);
        Assert.False(off.Active);
        Assert.Equal(1, await world.CountAsync("risk_events WHERE event_type = 'kill_switch_reset' AND length(reason) = 1024 AND reason LIKE 'alice: x%…'"));
    }

    [Theory]
    [InlineData("wallet_balance")]
    [InlineData("available_balance")]
    [InlineData("unrealized_pnl")]
    [InlineData("maintenance_margin")]
    public async Task CheckPreTrade_MoneyWithANinthDecimalPlace_InvalidArgumentNamingTheField(string field)
    {
        await using var world = await RiskWorld.StartAsync(postgres, rabbit, beforeRisk: w => w.SnapshotAsync(10_000m, DateTimeOffset.UtcNow));
        var account = RiskWorld.Account(10_000m);
        account.Equity = "";
        switch (field)
        {
            case "wallet_balance": account.WalletBalance = "10000.000000001"; break;
            case "available_balance": account.AvailableBalance = "10000.000000001"; break;
            case "unrealized_pnl": account.UnrealizedPnl = "0.000000001"; break;
            case "maintenance_margin": account.MaintenanceMargin = "0.000000001"; break;
        }

        var ex = await Assert.ThrowsAsync<RpcException>(() => world.Risk.CheckPreTradeAsync(new CheckPreTradeRequest { Order = RiskWorld.Order("0.1", 5), Account = account }).ResponseAsync);

        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
        Assert.Equal("account." + field, Assert.Single(ex.GetRpcStatus()!.GetDetail<BadRequest>().FieldViolations).Field);
    }

    [Fact]
    public async Task TriggerKillSwitch_Operator_ActiveAndSecondTriggerKeepsFirstCause()
    {
        await using var world = await RiskWorld.StartAsync(postgres, rabbit);

        var first = await world.Risk.TriggerKillSwitchAsync(new TriggerKillSwitchRequest
        {
            IdempotencyKey = "t-1", Trigger = KillSwitchTrigger.Operator, Reason = "exchange incident", Actor = "bob",
        });
        var second = await world.Risk.TriggerKillSwitchAsync(new TriggerKillSwitchRequest
        {
            IdempotencyKey = "t-2", Trigger = KillSwitchTrigger.EmergencyCloseAll, Reason = "again", Actor = "carol",
        });

        Assert.True(first.Active);
        Assert.Equal("bob", second.Actor);
        Assert.Equal(KillSwitchTrigger.Operator, second.Trigger);
        var check = await world.Risk.CheckPreTradeAsync(new CheckPreTradeRequest { Order = RiskWorld.Order("0.1"), Account = RiskWorld.Account(10_000m) });
        Assert.Contains(check.Reasons, r => r.Code == RiskReasonCode.KillSwitchActive);
    }

    [Fact]
    public async Task CheckPreTrade_LedgerUnreachable_UnavailableFailClosed()
    {
        await using var world = await RiskWorld.StartAsync(postgres, rabbit, new Dictionary<string, string?>
        {
            ["Risk:StateMaxAgeSeconds"] = "2",
        });
        await world.StopLedgerAsync();
        await Task.Delay(TimeSpan.FromSeconds(3));

        var ex = await Assert.ThrowsAsync<RpcException>(() => world.Risk.CheckPreTradeAsync(new CheckPreTradeRequest
        {
            Order = RiskWorld.Order("0.1"), Account = RiskWorld.Account(10_000m),
        }).ResponseAsync);

        Assert.Equal(StatusCode.Unavailable, ex.StatusCode);
    }

    [Fact]
    public async Task PreviewPosition_TenthBitcoinIsolatedAtFiveX_FiguresAndNoKillSwitchChange()
    {
        await using var world = await RiskWorld.StartAsync(postgres, rabbit, beforeRisk: w => w.SnapshotAsync(10_000m, DateTimeOffset.UtcNow));

        var order = RiskWorld.Order("0.1", 5, "50000");
        order.MarginType = Common.V1.MarginType.Isolated;
        var reply = await world.Risk.PreviewPositionAsync(new PreviewPositionRequest
        {
            Order = order,
            Account = RiskWorld.Account(9_400m),
        });

        Assert.False(reply.Allowed);
        Assert.Contains(reply.Breaches, b => b.Code == RiskReasonCode.DailyLossLimitBreached);
        Assert.Equal(1000m, decimal.Parse(reply.InitialMargin, CultureInfo.InvariantCulture));
        Assert.True(decimal.Parse(reply.MaintenanceMargin, CultureInfo.InvariantCulture) > 0m);
        // Isolated with 1,000 of margin: liquidated a little above the plan's 40,200 (the bracket's mmr and cum).
        Assert.InRange(decimal.Parse(reply.LiquidationPrice, CultureInfo.InvariantCulture), 40_000m, 41_000m);
        Assert.False((await world.Risk.GetKillSwitchAsync(new GetKillSwitchRequest())).Active);
    }

    [Fact]
    public async Task PreviewPosition_IsolatedAddToAnIsolatedPosition_WalletIsTheDepositedMarginsNotTheRepricedTotal()
    {
        await using var world = await RiskWorld.StartAsync(postgres, rabbit, beforeRisk: w => w.SnapshotAsync(10_000m, DateTimeOffset.UtcNow));
        // 0.1 BTC from 40,000 at 5x, isolated: 800 deposited. Adding 0.1 at 50,000 at 5x deposits 1,000 more.
        var account = RiskWorld.Account(10_000m);
        account.Positions.Add(new Common.V1.PositionSnapshot
        {
            Symbol = "BTCUSDT", Side = Common.V1.Side.Long, Quantity = "0.1", EntryPrice = "40000", MarkPrice = "50000", Leverage = 5,
            MarginType = Common.V1.MarginType.Isolated,
        });
        var order = RiskWorld.Order("0.1", 5, "50000");
        order.MarginType = Common.V1.MarginType.Isolated;

        var reply = await world.Risk.PreviewPositionAsync(new PreviewPositionRequest { Order = order, Account = account });

        // 0.2 at an average entry of 45,000 with 1,800 of margin, bracket 1 (mmr 0.004, cum 0):
        // (1,800 - 0.2 × 45,000) / (0.2 × 0.004 - 0.2) = 36,144.578313253...
        Assert.Equal("36144.57831325", reply.LiquidationPrice);
    }

    /// <summary>
    /// As above with the snapshot's isolated wallet: 1,300 (500 added by hand to the 800 deposited), which the venue
    /// liquidates against. Before, the wallet was estimated as size × entry / leverage whatever the snapshot said.
    /// </summary>
    [Fact]
    public async Task PreviewPosition_IsolatedAddWithTheSnapshotsIsolatedWallet_ThatWalletPlusTheAddsMargin()
    {
        await using var world = await RiskWorld.StartAsync(postgres, rabbit, beforeRisk: w => w.SnapshotAsync(10_000m, DateTimeOffset.UtcNow));
        var account = RiskWorld.Account(10_000m);
        account.Positions.Add(new Common.V1.PositionSnapshot
        {
            Symbol = "BTCUSDT", Side = Common.V1.Side.Long, Quantity = "0.1", EntryPrice = "40000", MarkPrice = "50000", Leverage = 5,
            MarginType = Common.V1.MarginType.Isolated, IsolatedWallet = "1300",
        });
        var order = RiskWorld.Order("0.1", 5, "50000");
        order.MarginType = Common.V1.MarginType.Isolated;

        var reply = await world.Risk.PreviewPositionAsync(new PreviewPositionRequest { Order = order, Account = account });

        // (2,300 - 0.2 × 45,000) / (0.2 × 0.004 - 0.2) = 33,634.538152610...
        Assert.Equal("33634.53815261", reply.LiquidationPrice);
    }

    /// <summary>
    /// A cross position's liquidation leaves the isolated positions out (Binance: the cross wallet, the other cross
    /// positions' maintenance and PnL): 3,000 of a 10,000 wallet held by an isolated ETH position, a cross long of 0.2 BTC
    /// at 50,000 is liquidated at (7,000 - 10,000) / (0.2 × 0.004 - 0.2). Before, the whole wallet was counted: about 0.
    /// </summary>
    [Fact]
    public async Task PreviewPosition_CrossBesideAnIsolatedPosition_LiquidatedOnTheCrossWalletOnly()
    {
        await using var world = await RiskWorld.StartAsync(postgres, rabbit, beforeRisk: w => w.SnapshotAsync(10_000m, DateTimeOffset.UtcNow));
        var account = RiskWorld.Account(10_000m);
        account.Positions.Add(new Common.V1.PositionSnapshot
        {
            Symbol = "ETHUSDT", Side = Common.V1.Side.Long, Quantity = "1", EntryPrice = "3000", MarkPrice = "3000", Leverage = 1,
            MarginType = Common.V1.MarginType.Isolated, IsolatedWallet = "3000", UnrealizedPnl = "0",
        });

        var reply = await world.Risk.PreviewPositionAsync(new PreviewPositionRequest { Order = RiskWorld.Order("0.2", 5, "50000"), Account = account });

        Assert.Equal("15060.24096386", reply.LiquidationPrice);
    }

    /// <summary>
    /// A position's leverage no venue holds: INVALID_ARGUMENT naming it. Before, it was taken as sent, and an isolated add
    /// to a position "at 1000x" was previewed with a thousandth of its margin (a liquidation price thousands off).
    /// </summary>
    [Theory]
    [InlineData(1000, true)]
    [InlineData(-3, true)]
    [InlineData(126, false)]
    public async Task PreviewAndCheck_PositionLeverageOutsideOneTo125_InvalidArgumentNamingIt(int leverage, bool preview)
    {
        await using var world = await RiskWorld.StartAsync(postgres, rabbit, beforeRisk: w => w.SnapshotAsync(10_000m, DateTimeOffset.UtcNow));
        var account = RiskWorld.Account(10_000m);
        account.Positions.Add(new Common.V1.PositionSnapshot
        {
            Symbol = "BTCUSDT", Side = Common.V1.Side.Long, Quantity = "0.1", EntryPrice = "40000", MarkPrice = "50000", Leverage = leverage,
            MarginType = Common.V1.MarginType.Isolated,
        });
        var order = RiskWorld.Order("0.1", 5, "50000");
        order.MarginType = Common.V1.MarginType.Isolated;

        var ex = await Assert.ThrowsAsync<RpcException>(() => preview
            ? world.Risk.PreviewPositionAsync(new PreviewPositionRequest { Order = order, Account = account }).ResponseAsync
            : world.Risk.CheckPreTradeAsync(new CheckPreTradeRequest { Order = order, Account = account }).ResponseAsync);

        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
        Assert.Equal("account.positions[0].leverage", Assert.Single(ex.GetRpcStatus()!.GetDetail<BadRequest>().FieldViolations).Field);
    }

    /// <summary>
    /// A position's isolated wallet that cannot be: negative, more decimals than money carries, not a number, or a
    /// wallet of its own on a cross position. INVALID_ARGUMENT naming it (before, the field was not read at all).
    /// </summary>
    [Theory]
    [InlineData("-1", Common.V1.MarginType.Isolated)]
    [InlineData("1.000000001", Common.V1.MarginType.Isolated)]
    [InlineData("12x", Common.V1.MarginType.Isolated)]
    [InlineData("100", Common.V1.MarginType.Cross)]
    public async Task Check_PositionIsolatedWalletThatCannotBe_InvalidArgumentNamingIt(string wallet, Common.V1.MarginType marginType)
    {
        await using var world = await RiskWorld.StartAsync(postgres, rabbit, beforeRisk: w => w.SnapshotAsync(10_000m, DateTimeOffset.UtcNow));
        var account = RiskWorld.Account(10_000m);
        account.Positions.Add(new Common.V1.PositionSnapshot
        {
            Symbol = "BTCUSDT", Side = Common.V1.Side.Long, Quantity = "0.1", EntryPrice = "50000", MarkPrice = "50000", Leverage = 5,
            MarginType = marginType, IsolatedWallet = wallet,
        });

        var ex = await Assert.ThrowsAsync<RpcException>(() =>
            world.Risk.CheckPreTradeAsync(new CheckPreTradeRequest { Order = RiskWorld.Order("0.01", 5, "50000"), Account = account }).ResponseAsync);

        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
        Assert.Equal("account.positions[0].isolated_wallet", Assert.Single(ex.GetRpcStatus()!.GetDetail<BadRequest>().FieldViolations).Field);
    }

    /// <summary>
    /// A cross add to a position marked away from the order's price: the account's totals count the position at its mark,
    /// so that is what comes out of them, leaving the other positions' share (none here). Taken out at the order's price,
    /// 100 of the position's own loss stayed in as "other" unrealized PnL and the liquidation price moved by about 500.
    /// </summary>
    [Fact]
    public async Task PreviewPosition_CrossAddToAPositionMarkedAwayFromTheOrderPrice_OtherPositionsShareIsNone()
    {
        await using var world = await RiskWorld.StartAsync(postgres, rabbit, beforeRisk: w => w.SnapshotAsync(10_000m, DateTimeOffset.UtcNow));
        // 0.1 BTC long from 60,000, marked at 58,000: unrealized -200, maintenance 5,800 × 0.004 = 23.2.
        var account = new Common.V1.AccountSnapshot
        {
            WalletBalance = "10000", AvailableBalance = "9000", UnrealizedPnl = "-200", Equity = "9800", MaintenanceMargin = "23.2",
            Positions =
            {
                new Common.V1.PositionSnapshot
                {
                    Symbol = "BTCUSDT", Side = Common.V1.Side.Long, Quantity = "0.1", EntryPrice = "60000", MarkPrice = "58000", Leverage = 5,
                    MarginType = Common.V1.MarginType.Cross, UnrealizedPnl = "-200",
                },
            },
        };
        var order = RiskWorld.Order("0.1", 5, "59000");
        order.MarginType = Common.V1.MarginType.Cross;

        var reply = await world.Risk.PreviewPositionAsync(new PreviewPositionRequest { Order = order, Account = account });

        // 0.2 at an average entry of 59,500, the whole wallet, no other position, bracket 1 (mmr 0.004, cum 0):
        // (10,000 - 0.2 × 59,500) / (0.2 × 0.004 - 0.2) = 9,538.152610441767...
        Assert.Equal("9538.15261044", reply.LiquidationPrice);
    }

    /// <summary>
    /// The same add where the snapshot gives the position neither a mark nor its own unrealized PnL, only the account's
    /// (-100, counted at the order's price): the position comes out of the totals at the order's price, the nearest
    /// figure there is, not at its entry (which left its whole loss as other positions').
    /// </summary>
    [Fact]
    public async Task PreviewPosition_CrossAddToAPositionWithNoMarkGiven_TakenOutAtTheOrderPrice()
    {
        await using var world = await RiskWorld.StartAsync(postgres, rabbit, beforeRisk: w => w.SnapshotAsync(10_000m, DateTimeOffset.UtcNow));
        var account = new Common.V1.AccountSnapshot
        {
            WalletBalance = "10000", AvailableBalance = "9000", UnrealizedPnl = "-100", Equity = "9900", MaintenanceMargin = "23.6",
            Positions = { new Common.V1.PositionSnapshot { Symbol = "BTCUSDT", Side = Common.V1.Side.Long, Quantity = "0.1", EntryPrice = "60000", Leverage = 5 } },
        };
        var order = RiskWorld.Order("0.1", 5, "59000");
        order.MarginType = Common.V1.MarginType.Cross;

        var reply = await world.Risk.PreviewPositionAsync(new PreviewPositionRequest { Order = order, Account = account });

        Assert.Equal("9538.15261044", reply.LiquidationPrice);
    }

    /// <summary>Risk and the Ledger with a peak of 11,500 three days ago and <paramref name="dayStart"/> at 00:00 UTC today.</summary>
    private Task<RiskWorld> OldPeakAsync(decimal dayStart) =>
        RiskWorld.StartAsync(postgres, rabbit, beforeRisk: async w =>
        {
            var today = new DateTimeOffset(DateTime.UtcNow.Date, TimeSpan.Zero);
            await w.SnapshotAsync(11_500m, today.AddDays(-3));
            await w.SnapshotAsync(dayStart, today);
        });

    private static async Task AssertLatchedAsync(RiskWorld world, KillSwitchTrigger trigger)
    {
        var killSwitch = await world.Risk.GetKillSwitchAsync(new GetKillSwitchRequest());
        Assert.True(killSwitch.Active);
        Assert.Equal(trigger, killSwitch.Trigger);
    }

    private static void AssertField(RpcException ex, string field)
    {
        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
        Assert.Contains(ex.GetRpcStatus()!.GetDetail<BadRequest>().FieldViolations, v => v.Field == field);
    }
}
