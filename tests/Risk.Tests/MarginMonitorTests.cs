using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using TradeEngine.Binance;
using TradeEngine.Binance.DependencyInjection;
using TradeEngine.Binance.Models;
using TradeEngine.Contracts.Events;
using TradeEngine.Domain;
using TradeEngine.Domain.Instruments;
using TradeEngine.Domain.Margin;
using TradeEngine.Domain.Risk;
using TradeEngine.Risk.Mapping;
using TradeEngine.Risk.Monitor;
using TradeEngine.Risk.State;
using TradeEngine.Risk.Tests.Support;
using TradeEngine.Risk.V1;
using TradeEngine.Testing;
using TradeEngine.Testing.Broker;
using TradeEngine.Testing.Logging;
using TradeEngine.Testing.Paper;
using TradeEngine.Testing.Servers;

namespace TradeEngine.Risk.Tests;

/// <summary>
/// The margin monitor with the real Ledger, the real RabbitMQ and, for the account, PaperExchange read through the
/// Binance client (the venue path Execution's GetAccount takes; the end-to-end version through Execution belongs to
/// the Execution suite). Prices move only along the simulator's price paths.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class MarginMonitorTests(PostgresServer postgres, RabbitMqServer rabbit) : IAsyncLifetime
{
    /// <summary>The monitor judges the day's loss by the UTC day: no test here runs across 00:00 UTC.</summary>
    public Task InitializeAsync() => UtcDay.AwayFromMidnightAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    private static readonly Dictionary<string, string?> MonitorOn = new()
    {
        ["Risk:MarginMonitor:Enabled"] = "true",
        ["Risk:MarginMonitor:IntervalSeconds"] = "1",
    };

    /// <summary>
    /// An interval past a minute is refused at start-up naming the setting: the monitor is what latches the kill switch
    /// on a breach while no orders are checked. Before, up to 3,600 seconds was accepted.
    /// </summary>
    [Theory]
    [InlineData("61")]
    [InlineData("3600")]
    public async Task Start_MonitorIntervalPastAMinute_RefusedAtStartNamingTheSetting(string seconds)
    {
        var refused = await RiskWorld.StartRefusedAsync(rabbit, "Risk:MarginMonitor:IntervalSeconds", seconds);

        Assert.Contains("Risk:MarginMonitor:IntervalSeconds", refused.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// The monitor off, switched off or for want of Execution's address: start-up says so, naming the cause and what
    /// goes unwatched. Before, nothing was said.
    /// </summary>
    [Theory]
    [InlineData(false, "Risk:MarginMonitor:Enabled is false")]
    [InlineData(true, "services:execution:http:0")]
    public async Task Start_MonitorOff_WarningNamesTheCauseAndTheConsequence(bool noExecution, string cause)
    {
        var logs = new ListLoggerProvider();
        var settings = noExecution ? null : new Dictionary<string, string?> { ["Risk:MarginMonitor:Enabled"] = "false" };
        await using var world = await RiskWorld.StartAsync(postgres, rabbit, risk: settings,
            riskServices: services => services.AddSingleton<Microsoft.Extensions.Logging.ILoggerProvider>(logs));

        var seen = logs.Entries.Select(e => e.Message);
        Assert.Contains(seen, m => m.Contains("margin monitor is off", StringComparison.Ordinal) && m.Contains(cause, StringComparison.Ordinal)
                                   && m.Contains("kill switch", StringComparison.Ordinal));
    }

    [Fact]
    public async Task MarginMonitor_PriceMovesIntoBuffer_OneReduceAlertAndDailyLossLatch()
    {
        await using var paper = await PaperExchangeHost.StartAsync();
        await using var provider = VenueClient(paper);
        var source = await OpenTenthBitcoinAt20xAsync(paper, provider, 1_000m, "monitor-open-1");
        var (reducePrice, _) = Prices(await source.GetAccountAsync(CancellationToken.None));
        await using var alerts = await EventListener<MarginAlertRaised>.StartAsync(rabbit.ConnectionString, "risk-tests-alerts-");
        await using var world = await RiskWorld.StartAsync(postgres, rabbit, MonitorOn, s => s.AddSingleton<IAccountSource>(source), paper: paper);

        await MonitorTicks.PassAsync(source, 2);
        Assert.Empty(alerts.Received);

        await paper.SetPriceAsync("BTCUSDT", reducePrice);
        await Poll.UntilAsync(() => Task.FromResult(alerts.Received.Count(a => a.Action == MarginAlertAction.Reduce)), n => n >= 1);
        await MonitorTicks.PassAsync(source, 3); // three more ticks in the same state

        var reduce = Assert.Single(alerts.Received);
        Assert.Equal(MarginAlertAction.Reduce, reduce.Action);
        Assert.InRange(reduce.MarginRatio!.Value, 1m, 1.15m);
        // Falling to the buffer cost more than the $500 daily limit: the monitor latched the kill switch too.
        var killSwitch = await world.Risk.GetKillSwitchAsync(new GetKillSwitchRequest());
        Assert.True(killSwitch.Active);
        Assert.Equal(KillSwitchTrigger.DailyLoss, killSwitch.Trigger);
    }

    /// <summary>
    /// An isolated position is liquidated against its own wallet, whatever the account holds besides: near its own
    /// liquidation price the monitor raises Reduce naming it (its ratio, its equity), though the account's totals are far
    /// from any limit. Before, only the totals were judged (a ratio in the hundreds here) and nothing went out before the
    /// venue liquidated it.
    /// </summary>
    [Fact]
    public async Task MarginMonitor_IsolatedPositionNearItsOwnLiquidation_ReduceAlertNamesIt()
    {
        await using var paper = await PaperExchangeHost.StartAsync();
        await using var provider = VenueClient(paper);
        await paper.ResetAsync(10_000m);
        var venue = provider.GetRequiredService<IBinanceClient>();
        await venue.ChangeMarginTypeAsync("BTCUSDT", MarginType.Isolated);
        await venue.ChangeLeverageAsync("BTCUSDT", 20);
        await venue.PlaceOrderAsync(new NewOrder("BTCUSDT", OrderSide.Buy, OrderType.Market, 0.01m), "monitor-isolated-1");
        var source = new VenueAccountSource(venue);
        var account = await source.GetAccountAsync(CancellationToken.None);
        var position = Assert.Single(account.Positions);
        var own = Assert.NotNull(position.IsolatedWallet);
        var brackets = BracketTables.For(new Symbol("BTCUSDT"));
        decimal OwnRatio(decimal p) => (own + 0.01m * (p - position.EntryPrice)) / MarginMath.MaintenanceMargin(0.01m * p, brackets);
        var reducePrice = Math.Ceiling(LiquidationPrice.Exchange(new LiquidationInput
        {
            MarginType = MarginType.Isolated, Side = Side.Long, Quantity = 0.01m, EntryPrice = position.EntryPrice, WalletBalance = own, Brackets = brackets,
        }).Price);
        while (OwnRatio(reducePrice) < 1.05m)
        {
            reducePrice += 1m;
        }

        Assert.InRange(OwnRatio(reducePrice), 1.05m, 1.15m);
        // By the account's totals alone that price is nowhere near a limit.
        Assert.Equal(MarginAction.Ok, HealthAt(account, reducePrice).Action);
        await using var alerts = await EventListener<MarginAlertRaised>.StartAsync(rabbit.ConnectionString, "risk-tests-alerts-");
        await using var world = await RiskWorld.StartAsync(postgres, rabbit, MonitorOn, s => s.AddSingleton<IAccountSource>(source), paper: paper);
        await MonitorTicks.PassAsync(source, 2);
        Assert.Empty(alerts.Received);

        await paper.SetPriceAsync("BTCUSDT", reducePrice);
        await Poll.UntilAsync(() => Task.FromResult(alerts.Received.Count), n => n >= 1);
        await MonitorTicks.PassAsync(source, 2); // more ticks in the same state: nothing more

        var reduce = Assert.Single(alerts.Received);
        Assert.Equal((MarginAlertAction.Reduce, "BTCUSDT"), (reduce.Action, reduce.Symbol));
        Assert.InRange(reduce.MarginRatio!.Value, 1.04m, 1.15m);
        Assert.InRange(reduce.Equity, own - 50m, own);
        Assert.Contains("isolated BTCUSDT position", reduce.Reason, StringComparison.Ordinal);
        Assert.False((await world.Risk.GetKillSwitchAsync(new GetKillSwitchRequest())).Active);
    }

    /// <summary>
    /// An isolated position past its own liquidation point (its wallet plus its loss below its maintenance margin): its loss
    /// is bounded by its wallet, so its alert is a Reduce naming it (Execution closes it), never a LiquidateAll that
    /// flattens the account and latches the kill switch. The cross part (no cross position here) is Ok.
    /// </summary>
    [Fact]
    public async Task MarginMonitor_IsolatedPositionPastItsOwnLiquidation_ReduceNamingItNoKillSwitch()
    {
        await using var paper = await PaperExchangeHost.StartAsync();
        var source = new SetAccountSource(IsolatedEthAccount(crossWallet: 1_000m, ethMark: 3_000m));
        await using var alerts = await EventListener<MarginAlertRaised>.StartAsync(rabbit.ConnectionString, "risk-tests-alerts-");
        await using var world = await RiskWorld.StartAsync(postgres, rabbit, MonitorOn, s => s.AddSingleton<IAccountSource>(source), paper: paper);
        await MonitorTicks.PassAsync(source, 2);
        Assert.Empty(alerts.Received);

        source.Account = IsolatedEthAccount(crossWallet: 1_000m, ethMark: EthMarkForRatio(0.9m));
        await Poll.UntilAsync(() => Task.FromResult(alerts.Received.Count), n => n >= 1);
        await MonitorTicks.PassAsync(source, 2);

        var alert = Assert.Single(alerts.Received);
        Assert.Equal((MarginAlertAction.Reduce, "ETHUSDT"), (alert.Action, alert.Symbol));
        Assert.InRange(alert.MarginRatio!.Value, 0.89m, 0.91m);
        Assert.False((await world.Risk.GetKillSwitchAsync(new GetKillSwitchRequest())).Active);
    }

    /// <summary>
    /// A Reduce episode under way for the cross margin (its alert targeted the largest position), and then an isolated
    /// position falls into Reduce by its own margin, worse: that position's alert goes out at once (before, nothing was
    /// raised until the largest position had shrunk).
    /// </summary>
    [Fact]
    public async Task MarginMonitor_IsolatedPositionFallsIntoReduceDuringACrossReduce_ItsOwnAlertGoesOut()
    {
        await using var paper = await PaperExchangeHost.StartAsync();
        // The cross part: 0.1 BTC at 100,000 (maintenance 40) on a cross wallet of 44: ratio 1.1, Reduce.
        var source = new SetAccountSource(IsolatedEthAccount(crossWallet: 44m, ethMark: 3_000m, crossBtc: true));
        await using var alerts = await EventListener<MarginAlertRaised>.StartAsync(rabbit.ConnectionString, "risk-tests-alerts-");
        await using var world = await RiskWorld.StartAsync(postgres, rabbit, MonitorOn, s => s.AddSingleton<IAccountSource>(source), paper: paper);
        await Poll.UntilAsync(() => Task.FromResult(alerts.Received.Count), n => n >= 1);
        await MonitorTicks.PassAsync(source, 2);
        var first = Assert.Single(alerts.Received);
        Assert.Equal((MarginAlertAction.Reduce, (string?)null), (first.Action, first.Symbol));

        source.Account = IsolatedEthAccount(crossWallet: 44m, ethMark: EthMarkForRatio(1.05m), crossBtc: true);
        await Poll.UntilAsync(() => Task.FromResult(alerts.Received.Count), n => n >= 2);
        await MonitorTicks.PassAsync(source, 2);

        var received = alerts.Received.ToArray();
        Assert.Equal(2, received.Length);
        Assert.Equal((MarginAlertAction.Reduce, "ETHUSDT"), (received[1].Action, received[1].Symbol));
        Assert.NotEqual(first.EventId, received[1].EventId);
        Assert.False((await world.Risk.GetKillSwitchAsync(new GetKillSwitchRequest())).Active);
    }

    /// <summary>
    /// 0.2 ETH isolated from 3,000 at 5x (a wallet of 120) at <paramref name="ethMark"/>, beside a cross wallet of
    /// <paramref name="crossWallet"/> (and 0.1 BTC cross at 100,000, flat, when <paramref name="crossBtc"/>).
    /// </summary>
    private static AccountView IsolatedEthAccount(decimal crossWallet, decimal ethMark, bool crossBtc = false)
    {
        const decimal Own = 120m;
        var ethUnrealized = 0.2m * (ethMark - 3_000m);
        var ethMaintenance = MarginMath.MaintenanceMargin(0.2m * ethMark, BracketTables.For(new Symbol("ETHUSDT")));
        var positions = new List<PositionView> { new(new Symbol("ETHUSDT"), 0.2m, 3_000m, ethMark, 5, MarginType.Isolated, ethUnrealized, Own) };
        var maintenance = ethMaintenance;
        if (crossBtc)
        {
            positions.Add(new PositionView(new Symbol("BTCUSDT"), 0.1m, 100_000m, 100_000m, 5, MarginType.Cross, 0m));
            maintenance += MarginMath.MaintenanceMargin(10_000m, BracketTables.For(new Symbol("BTCUSDT")));
        }

        var wallet = crossWallet + Own;
        return new AccountView(wallet, crossWallet, ethUnrealized, wallet + ethUnrealized, maintenance, positions);
    }

    /// <summary>The ETH mark (to the cent, from 3,000 down) at which the isolated position's own ratio reaches <paramref name="ratio"/>.</summary>
    private static decimal EthMarkForRatio(decimal ratio)
    {
        var brackets = BracketTables.For(new Symbol("ETHUSDT"));
        var mark = 3_000m;
        while ((120m + 0.2m * (mark - 3_000m)) / MarginMath.MaintenanceMargin(0.2m * mark, brackets) > ratio)
        {
            mark -= 0.01m;
        }

        return mark;
    }

    /// <summary>
    /// The plan reduces again on every check while the ratio is inside the buffer: once the position the Reduce alert
    /// targeted (the largest) has shrunk, as Execution's halving shrinks it, and the ratio is still inside, a second Reduce
    /// alert goes out under a new event id; while the position stays as it is, nothing more. Before, one Reduce alert was raised per
    /// episode, and an account still inside the buffer after the halving was reduced no further until its ratio reached 1.
    /// </summary>
    [Fact]
    public async Task MarginMonitor_StillInsideTheBufferAfterThePositionShrank_ReduceRaisedAgainUnderANewId()
    {
        await using var paper = await PaperExchangeHost.StartAsync();
        await using var provider = VenueClient(paper);
        var source = await OpenTenthBitcoinAt20xAsync(paper, provider, 1_000m, "monitor-open-again");
        var (reducePrice, _) = Prices(await source.GetAccountAsync(CancellationToken.None));
        await using var alerts = await EventListener<MarginAlertRaised>.StartAsync(rabbit.ConnectionString, "risk-tests-alerts-");
        await using var world = await RiskWorld.StartAsync(postgres, rabbit, MonitorOn, s => s.AddSingleton<IAccountSource>(source), paper: paper);

        await paper.SetPriceAsync("BTCUSDT", reducePrice);
        await Poll.UntilAsync(() => Task.FromResult(alerts.Received.Count), n => n >= 1);
        await MonitorTicks.PassAsync(source, 2); // more ticks, the position unchanged: nothing more
        Assert.Single(alerts.Received);

        // A hundredth of the position sold by hand: the ratio rises about 1 %, still inside the buffer.
        await provider.GetRequiredService<IBinanceClient>().PlaceOrderAsync(
            new NewOrder("BTCUSDT", OrderSide.Sell, OrderType.Market, 0.001m, ReduceOnly: true), "monitor-reduce-by-hand");
        Assert.Equal(MarginAction.Reduce, HealthAt(await source.GetAccountAsync(CancellationToken.None), reducePrice).Action);
        await Poll.UntilAsync(() => Task.FromResult(alerts.Received.Count), n => n >= 2);
        await MonitorTicks.PassAsync(source, 2); // more ticks, the position unchanged since: nothing more

        var received = alerts.Received.ToArray();
        Assert.Equal(2, received.Length);
        Assert.All(received, a => Assert.Equal(MarginAlertAction.Reduce, a.Action));
        Assert.NotEqual(received[0].EventId, received[1].EventId);
        Assert.InRange(received[1].MarginRatio!.Value, received[0].MarginRatio!.Value, 1.15m);
    }

    /// <summary>
    /// The alert reaches the broker but its publish fails (a confirm lost with the connection). While the state lasts,
    /// the next tick raises it again under the same event id, so the consumers' inbox takes it once (before, each try had
    /// a new id, and Execution halved the largest position once per try). If the account recovers first, the next fall
    /// is a new episode whose alert has an id of its own (kept, the first id would come again, and the consumers, which
    /// took it once, would take the new margin call as done).
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task MarginMonitor_PublishFailsAfterReachingTheBroker_SameIdWhileTheStateLastsANewOneAfterARecovery(bool recoversBeforeTheNextTick)
    {
        await using var paper = await PaperExchangeHost.StartAsync();
        await using var provider = VenueClient(paper);
        var source = await OpenTenthBitcoinAt20xAsync(paper, provider, 1_000m, "monitor-open-unconfirmed");
        var account = await source.GetAccountAsync(CancellationToken.None);
        var (reducePrice, _) = Prices(account);
        var recovered = RecoveredPrice(account, reducePrice);
        await using var alerts = await EventListener<MarginAlertRaised>.StartAsync(rabbit.ConnectionString, "risk-tests-alerts-");
        var publisher = new FailsOnceAfterPublishing
        {
            // The failed publish moves the market back before the next tick can raise the alert again.
            OnFailure = recoversBeforeTheNextTick ? () => paper.SetPriceAsync("BTCUSDT", recovered) : null,
        };
        await using var world = await RiskWorld.StartAsync(postgres, rabbit, MonitorOn, s =>
        {
            s.AddSingleton<IAccountSource>(source);
            s.AddSingleton<IMarginAlertPublisher>(sp => publisher.Over(new BusMarginAlertPublisher(sp.GetRequiredService<MassTransit.IBus>())));
        }, paper: paper);
        await MonitorTicks.PassAsync(source, 2);

        await paper.SetPriceAsync("BTCUSDT", reducePrice);
        await Poll.UntilAsync(() => Task.FromResult(alerts.Received.Count), n => n >= (recoversBeforeTheNextTick ? 1 : 2));
        await MonitorTicks.PassAsync(source, 2); // more ticks: in the same state nothing more, or recovered
        if (recoversBeforeTheNextTick)
        {
            await paper.SetPriceAsync("BTCUSDT", reducePrice);
            await Poll.UntilAsync(() => Task.FromResult(alerts.Received.Count), n => n >= 2);
        }

        Assert.Equal(2, publisher.Attempts.Count);
        Assert.Equal(2, alerts.Received.Count);
        Assert.Equal(recoversBeforeTheNextTick ? 2 : 1, alerts.Received.Select(a => a.EventId).Distinct().Count());
        Assert.All(alerts.Received, a => Assert.Equal(MarginAlertAction.Reduce, a.Action));
    }

    /// <summary>Publishes through the real bus, and fails the first publish after it has reached the broker.</summary>
    private sealed class FailsOnceAfterPublishing
    {
        private IMarginAlertPublisher? _inner;

        public System.Collections.Concurrent.ConcurrentQueue<MarginAlertRaised> Attempts { get; } = new();

        public Func<Task>? OnFailure { get; init; }

        public IMarginAlertPublisher Over(IMarginAlertPublisher inner)
        {
            _inner = inner;
            return new Publisher(this);
        }

        private sealed class Publisher(FailsOnceAfterPublishing owner) : IMarginAlertPublisher
        {
            public async Task PublishAsync(MarginAlertRaised alert, CancellationToken cancellationToken)
            {
                owner.Attempts.Enqueue(alert);
                await owner._inner!.PublishAsync(alert, cancellationToken);
                if (owner.Attempts.Count == 1)
                {
                    if (owner.OnFailure is { } onFailure)
                    {
                        await onFailure();
                    }

                    throw new InvalidOperationException("The broker's confirm was lost (test).");
                }
            }
        }
    }

    [Fact]
    public async Task MarginMonitor_MarkHoveringAtTheReduceBoundary_OneAlertUntilClearlyRecovered()
    {
        await using var paper = await PaperExchangeHost.StartAsync();
        await using var provider = VenueClient(paper);
        var source = await OpenTenthBitcoinAt20xAsync(paper, provider, 1_000m, "monitor-open-hover");
        var account = await source.GetAccountAsync(CancellationToken.None);
        var (reducePrice, _) = Prices(account);
        // The lowest price (to 0.1) at which the account is Ok again, and one clear of the recovery band above it.
        var okPrice = reducePrice;
        while (HealthAt(account, okPrice).Action != MarginAction.Ok)
        {
            okPrice += 0.1m;
        }

        var recovered = RecoveredPrice(account, okPrice);
        await using var alerts = await EventListener<MarginAlertRaised>.StartAsync(rabbit.ConnectionString, "risk-tests-alerts-");
        await using var world = await RiskWorld.StartAsync(postgres, rabbit, MonitorOn, s => s.AddSingleton<IAccountSource>(source), paper: paper);
        await MonitorTicks.PassAsync(source, 2);

        await paper.SetPriceAsync("BTCUSDT", reducePrice);
        await Poll.UntilAsync(() => Task.FromResult(alerts.Received.Count), n => n >= 1);
        // The mark hovers: just above the boundary, back below it, just above again, each for a few ticks.
        foreach (var price in new[] { okPrice, reducePrice, okPrice, reducePrice })
        {
            await paper.SetPriceAsync("BTCUSDT", price);
            await MonitorTicks.PassAsync(source, 2);
        }

        Assert.Equal([MarginAlertAction.Reduce], alerts.Received.Select(a => a.Action));

        // A real recovery, then a new fall: a new episode, a new alert.
        await paper.SetPriceAsync("BTCUSDT", recovered);
        await MonitorTicks.PassAsync(source, 2);
        await paper.SetPriceAsync("BTCUSDT", reducePrice);
        await Poll.UntilAsync(() => Task.FromResult(alerts.Received.Count), n => n >= 2);
        await MonitorTicks.PassAsync(source, 1);

        Assert.Equal([MarginAlertAction.Reduce, MarginAlertAction.Reduce], alerts.Received.Select(a => a.Action));
    }

    /// <summary>
    /// A thin account (400 USDT, 0.1 BTC at 20x) so that neither the daily-loss nor the drawdown limit is reached on the
    /// way down: the kill switch can only be latched by the liquidate-all state. The simulator's liquidation engine is
    /// paused, as on a venue whose liquidations lag a fast market, so the account can sit below its maintenance margin.
    /// </summary>
    [Fact]
    public async Task MarginMonitor_PricePathThroughReduceToLiquidateAllAndBack_EachAlertOnceAndKillSwitchLatched()
    {
        await using var paper = await PaperExchangeHost.StartAsync();
        await using var provider = VenueClient(paper);
        var source = await OpenTenthBitcoinAt20xAsync(paper, provider, 400m, "monitor-open-2");
        var (reducePrice, liquidatePrice) = Prices(await source.GetAccountAsync(CancellationToken.None));
        await using var alerts = await EventListener<MarginAlertRaised>.StartAsync(rabbit.ConnectionString, "risk-tests-alerts-");
        await using var world = await RiskWorld.StartAsync(postgres, rabbit, MonitorOn, s => s.AddSingleton<IAccountSource>(source), paper: paper);
        await MonitorTicks.PassAsync(source, 2);
        Assert.Empty(alerts.Received);
        await paper.SetLiquidationPausedAsync(true);

        // One price a simulated second, as the market falls; the monitor ticks every second on the way.
        await paper.SetPathAsync("BTCUSDT", [59_000m, 58_000m, 57_500m, reducePrice], immediate: false);
        await Poll.UntilAsync(() => Task.FromResult(alerts.Received.Count(a => a.Action == MarginAlertAction.Reduce)), n => n >= 1);
        await MonitorTicks.PassAsync(source, 2); // more ticks in the same state
        await paper.SetPathAsync("BTCUSDT", [liquidatePrice + 10m, liquidatePrice], immediate: false);
        await Poll.UntilAsync(() => Task.FromResult(alerts.Received.Count(a => a.Action == MarginAlertAction.LiquidateAll)), n => n >= 1);
        await MonitorTicks.PassAsync(source, 2);
        // The mark comes back into the Reduce zone before the flattening: no Reduce alert races it.
        await paper.SetPriceAsync("BTCUSDT", reducePrice);
        await MonitorTicks.PassAsync(source, 2);
        Assert.Equal(MarginAction.LiquidateAll, world.RiskServices.GetRequiredService<MarginMonitor>().LastAction);

        Assert.Equal([MarginAlertAction.Reduce, MarginAlertAction.LiquidateAll], alerts.Received.Select(a => a.Action));
        Assert.InRange(alerts.Received.Last().MarginRatio!.Value, 0m, 1m);
        // The venue still holds the position: only Risk saw the account below maintenance.
        Assert.Single((await paper.StateAsync()).Positions);
        var killSwitch = await world.Risk.GetKillSwitchAsync(new GetKillSwitchRequest());
        Assert.True(killSwitch.Active);
        Assert.Equal(KillSwitchTrigger.LiquidateAll, killSwitch.Trigger);
        var curve = await world.Ledger.GetEquityCurveAsync(new Ledger.V1.GetEquityCurveRequest
        {
            Range = new Common.V1.TimeRange
            {
                Start = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddMinutes(-5)),
                End = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddMinutes(1)),
            },
        });
        Assert.True(curve.Points.Count >= 5, $"one PnL snapshot per tick expected, got {curve.Points.Count}");
    }

    /// <summary>
    /// The Ledger refuses the kill switch when the account falls to liquidate-all; by the time it takes it again, the
    /// account is flat (as after Execution's close-all) and healthy. The latch must still land.
    /// </summary>
    [Fact]
    public async Task MarginMonitor_LiquidateAllLatchRefusedByTheLedger_LatchedOnceTheLedgerAnswersEvenAfterTheAccountRecovered()
    {
        await using var paper = await PaperExchangeHost.StartAsync();
        await using var provider = VenueClient(paper);
        var source = await OpenTenthBitcoinAt20xAsync(paper, provider, 400m, "monitor-open-3");
        var (_, liquidatePrice) = Prices(await source.GetAccountAsync(CancellationToken.None));
        await using var alerts = await EventListener<MarginAlertRaised>.StartAsync(rabbit.ConnectionString, "risk-tests-alerts-");
        await using var world = await RiskWorld.StartAsync(postgres, rabbit, MonitorOn, s => s.AddSingleton<IAccountSource>(source), paper: paper);
        await MonitorTicks.PassAsync(source, 2);
        await paper.SetLiquidationPausedAsync(true);

        // The Ledger answers but refuses every kill-switch write (as with a failing disk or a constraint it trips on).
        await using var db = new Npgsql.NpgsqlConnection(world.Database);
        await db.OpenAsync();
        await ExecuteAsync(db, """
            CREATE FUNCTION test_refuse_kill_switch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'refused by the test'; END $$;
            CREATE TRIGGER test_refuse_kill_switch BEFORE INSERT OR UPDATE ON kill_switch FOR EACH ROW EXECUTE FUNCTION test_refuse_kill_switch();
            """);

        await paper.SetPathAsync("BTCUSDT", [liquidatePrice], immediate: true);
        await Poll.UntilAsync(() => Task.FromResult(alerts.Received.Count(a => a.Action == MarginAlertAction.LiquidateAll)), n => n >= 1);
        // Flattened (what Execution does on that alert): the account is healthy from here on.
        await provider.GetRequiredService<IBinanceClient>().PlaceOrderAsync(new NewOrder("BTCUSDT", OrderSide.Sell, OrderType.Market, 0.1m, ReduceOnly: true), "monitor-flatten-3");
        await Poll.UntilAsync(() => Task.FromResult(world.RiskServices.GetRequiredService<MarginMonitor>().LastAction), a => a == MarginAction.Ok);
        await MonitorTicks.PassAsync(source, 1);
        // Not in the Ledger yet; Risk enforces it meanwhile (the latch is owed, on in Risk's memory).
        Assert.False((await world.Ledger.GetKillSwitchAsync(new Ledger.V1.GetKillSwitchRequest())).Active);
        Assert.True((await world.Risk.GetKillSwitchAsync(new GetKillSwitchRequest())).Active);

        await ExecuteAsync(db, "DROP TRIGGER test_refuse_kill_switch ON kill_switch; DROP FUNCTION test_refuse_kill_switch();");
        var latched = await Poll.UntilAsync(() => world.Ledger.GetKillSwitchAsync(new Ledger.V1.GetKillSwitchRequest()).ResponseAsync, k => k.Active, TimeSpan.FromSeconds(40));
        Assert.Equal("liquidate_all", latched.Trigger);
        Assert.Single(alerts.Received, a => a.Action == MarginAlertAction.LiquidateAll);
    }

    /// <summary>
    /// The broker refuses every margin alert (down, or its confirms lost): the account at the liquidation point still
    /// latches the kill switch, which goes through the Ledger, and it stays on after the venue's own liquidation has
    /// flattened the account. Before, the latch came only after a published alert, so none came at all.
    /// </summary>
    [Fact]
    public async Task MarginMonitor_AlertsCannotBePublished_LiquidateAllStillLatches()
    {
        await using var paper = await PaperExchangeHost.StartAsync();
        await using var provider = VenueClient(paper);
        var source = await OpenTenthBitcoinAt20xAsync(paper, provider, 400m, "monitor-open-unpublished");
        var (_, liquidatePrice) = Prices(await source.GetAccountAsync(CancellationToken.None));
        var refused = new System.Collections.Concurrent.ConcurrentQueue<MarginAlertRaised>();
        await using var world = await RiskWorld.StartAsync(postgres, rabbit, MonitorOn, s =>
        {
            s.AddSingleton<IAccountSource>(source);
            s.AddSingleton<IMarginAlertPublisher>(new RefusingPublisher(refused));
        }, paper: paper);
        await MonitorTicks.PassAsync(source, 2);
        await paper.SetLiquidationPausedAsync(true);

        await paper.SetPathAsync("BTCUSDT", [liquidatePrice], immediate: true);
        await Poll.UntilAsync(() => Task.FromResult(refused.Count(a => a.Action == MarginAlertAction.LiquidateAll)), n => n >= 2);
        // The venue liquidates (here by hand): the account is flat and healthy from here on.
        await provider.GetRequiredService<IBinanceClient>().PlaceOrderAsync(new NewOrder("BTCUSDT", OrderSide.Sell, OrderType.Market, 0.1m, ReduceOnly: true), "monitor-flatten-unpublished");
        await Poll.UntilAsync(() => Task.FromResult(world.RiskServices.GetRequiredService<MarginMonitor>().LastAction), a => a == MarginAction.Ok);

        var latched = await world.Risk.GetKillSwitchAsync(new GetKillSwitchRequest());
        Assert.Equal((true, KillSwitchTrigger.LiquidateAll), (latched.Active, latched.Trigger));
    }

    private sealed class RefusingPublisher(System.Collections.Concurrent.ConcurrentQueue<MarginAlertRaised> refused) : IMarginAlertPublisher
    {
        public Task PublishAsync(MarginAlertRaised alert, CancellationToken cancellationToken)
        {
            refused.Enqueue(alert);
            throw new InvalidOperationException("The broker refused the alert (test).");
        }
    }

    /// <summary>
    /// The account loses more than the $500 daily limit while the Ledger refuses the kill switch, and makes the loss good
    /// before the Ledger takes it again. The breach was seen: the latch must still land, with its cause. Before, the
    /// monitor tried the latch only on ticks that saw the breach, so a recovery in between let it go.
    /// </summary>
    [Fact]
    public async Task MarginMonitor_DailyLossLatchRefusedByTheLedger_LatchedOnceTheLedgerAnswersEvenAfterTheLossWasMadeGood()
    {
        await using var paper = await PaperExchangeHost.StartAsync();
        await using var provider = VenueClient(paper);
        var source = await OpenTenthBitcoinAt20xAsync(paper, provider, 1_000m, "monitor-open-4");
        var entry = Assert.Single((await source.GetAccountAsync(CancellationToken.None)).Positions).EntryPrice;
        await using var world = await RiskWorld.StartAsync(postgres, rabbit, MonitorOn, s => s.AddSingleton<IAccountSource>(source), paper: paper);
        await MonitorTicks.PassAsync(source, 2);
        await using var db = new Npgsql.NpgsqlConnection(world.Database);
        await db.OpenAsync();
        await ExecuteAsync(db, """
            CREATE FUNCTION test_refuse_kill_switch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'refused by the test'; END $$;
            CREATE TRIGGER test_refuse_kill_switch BEFORE INSERT OR UPDATE ON kill_switch FOR EACH ROW EXECUTE FUNCTION test_refuse_kill_switch();
            """);

        // 0.1 BTC down 5,100: a loss of 510 (limit 500), with the margin still healthy.
        // The loss is held until a tick has seen it (Risk then enforces the latch it owes, on in its memory): polled, not
        // a fixed 2.5 s, which a loaded machine's slower ticks could outlast.
        await paper.SetPriceAsync("BTCUSDT", entry - 5_100m);
        await Poll.UntilAsync(() => world.Risk.GetKillSwitchAsync(new GetKillSwitchRequest()).ResponseAsync, k => k.Active, TimeSpan.FromSeconds(30));
        await paper.SetPriceAsync("BTCUSDT", entry);
        await MonitorTicks.PassAsync(source, 1);
        // Not in the Ledger yet; Risk enforces it meanwhile (the latch is owed, on in Risk's memory).
        Assert.False((await world.Ledger.GetKillSwitchAsync(new Ledger.V1.GetKillSwitchRequest())).Active);
        Assert.True((await world.Risk.GetKillSwitchAsync(new GetKillSwitchRequest())).Active);
        Assert.Equal(MarginAction.Ok, world.RiskServices.GetRequiredService<MarginMonitor>().LastAction);

        await ExecuteAsync(db, "DROP TRIGGER test_refuse_kill_switch ON kill_switch; DROP FUNCTION test_refuse_kill_switch();");
        var latched = await Poll.UntilAsync(() => world.Ledger.GetKillSwitchAsync(new Ledger.V1.GetKillSwitchRequest()).ResponseAsync, k => k.Active, TimeSpan.FromSeconds(40));
        Assert.Equal("daily_loss", latched.Trigger);
    }

    /// <summary>
    /// The Ledger stops, and what Risk holds of its state grows past its age (a check would be UNAVAILABLE: fail closed);
    /// then the account loses more than the $500 daily limit and makes it good again, all before the Ledger is back. The
    /// monitor judges the loss on the day-start it last read (still today's) and the switch is on in Risk at once (owed),
    /// and in the Ledger once it answers. Before, a tick with no fresh state judged no loss limit at all: the breach was
    /// never latched.
    /// </summary>
    [Fact]
    public async Task MarginMonitor_DailyLossWhileTheLedgerIsDownAndTheStateStale_LatchedOnceTheLedgerIsBack()
    {
        await using var paper = await PaperExchangeHost.StartAsync();
        await using var provider = VenueClient(paper);
        var source = await OpenTenthBitcoinAt20xAsync(paper, provider, 1_000m, "monitor-open-stale");
        var entry = Assert.Single((await source.GetAccountAsync(CancellationToken.None)).Positions).EntryPrice;
        var settings = new Dictionary<string, string?>(MonitorOn) { ["Risk:StateRefreshSeconds"] = "1", ["Risk:StateMaxAgeSeconds"] = "2" };
        await using var world = await RiskWorld.StartAsync(postgres, rabbit, settings, s => s.AddSingleton<IAccountSource>(source), paper: paper);
        await MonitorTicks.PassAsync(source, 2);
        await world.StopLedgerAsync();
        var cache = world.RiskServices.GetRequiredService<RiskStateCache>();
        await Poll.UntilAsync(() => Task.FromResult(cache.TryGetFresh(out _)), fresh => !fresh, TimeSpan.FromSeconds(30));
        Assert.NotNull(cache.Current);

        // 0.1 BTC down 5,100: a loss of 510 (limit 500), with the margin still healthy; made good once a tick has seen it.
        await paper.SetPriceAsync("BTCUSDT", entry - 5_100m);
        // Risk answers the switch from the Ledger (UNAVAILABLE while it is down) unless it owes it a latch.
        var on = await Poll.UntilAsync(
            async () =>
            {
                try
                {
                    return await world.Risk.GetKillSwitchAsync(new GetKillSwitchRequest());
                }
                catch (Grpc.Core.RpcException ex) when (ex.StatusCode == Grpc.Core.StatusCode.Unavailable)
                {
                    return null;
                }
            },
            k => k is { Active: true }, TimeSpan.FromSeconds(30));
        await paper.SetPriceAsync("BTCUSDT", entry);
        await MonitorTicks.PassAsync(source, 1);

        Assert.Equal((KillSwitchTrigger.DailyLoss, "risk"), (on!.Trigger, on.Actor));
        await world.StartLedgerAsync(sameAddress: true);
        var latched = await Poll.UntilAsync(() => world.Ledger.GetKillSwitchAsync(new Ledger.V1.GetKillSwitchRequest()).ResponseAsync, k => k.Active, TimeSpan.FromSeconds(40));
        Assert.Equal(("daily_loss", "risk"), (latched.Trigger, latched.Actor));
        Assert.Contains("510", latched.Reason, StringComparison.Ordinal);
    }

    /// <summary>
    /// With the margin monitor on, a pre-trade check judges its caller's account but writes none of it: a what-if check
    /// with an equity of 1,000,000 (the venue's is about 1,000) leaves no snapshot, the peak stays the venue's, and the
    /// monitor's ticks after it measure no drawdown. Before, the check wrote its account as a peak, which stayed the
    /// Ledger's peak for good: the next tick measured a drawdown of about 999,000 and latched the kill switch, and so did
    /// every tick after a reset.
    /// </summary>
    [Fact]
    public async Task CheckPreTrade_MonitorOnAndTheCallersAccountAboveThePeak_NothingWrittenAndNoDrawdownLatch()
    {
        await using var paper = await PaperExchangeHost.StartAsync();
        await using var provider = VenueClient(paper);
        var source = await OpenTenthBitcoinAt20xAsync(paper, provider, 1_000m, "monitor-open-what-if");
        await using var world = await RiskWorld.StartAsync(postgres, rabbit, MonitorOn, s => s.AddSingleton<IAccountSource>(source), paper: paper);
        await MonitorTicks.PassAsync(source, 2);
        var snapshots = await world.CountAsync("pnl_snapshots");

        var whatIf = await world.Risk.CheckPreTradeAsync(new CheckPreTradeRequest { Order = RiskWorld.Order("0.001"), Account = RiskWorld.Account(1_000_000m) });
        await MonitorTicks.PassAsync(source, 3);

        Assert.True(snapshots >= 1, "the monitor's ticks wrote the venue's account");
        Assert.Equal("0", whatIf.Drawdown);
        Assert.Equal(0, await world.CountAsync("pnl_snapshots WHERE equity > 2000"));
        var peak = await world.Ledger.GetPeakEquityAsync(new Ledger.V1.GetPeakEquityRequest());
        Assert.InRange(decimal.Parse(peak.PeakEquity, System.Globalization.CultureInfo.InvariantCulture), 900m, 1_000m);
        Assert.False((await world.Ledger.GetKillSwitchAsync(new Ledger.V1.GetKillSwitchRequest())).Active);
        Assert.False((await world.Risk.GetKillSwitchAsync(new GetKillSwitchRequest())).Active);
        Assert.Equal(MarginAction.Ok, world.RiskServices.GetRequiredService<MarginMonitor>().LastAction);
    }

    /// <summary>
    /// For a single cross long: a price inside the 15 % buffer but above the exchange liquidation price, and one below
    /// it (at or under maintenance), each checked with Domain.
    /// </summary>
    internal static (decimal Reduce, decimal LiquidateAll) Prices(AccountView account)
    {
        var position = Assert.Single(account.Positions);
        var brackets = BracketTables.For(new Symbol("BTCUSDT"));
        var liquidation = LiquidationPrice.Exchange(new LiquidationInput
        {
            MarginType = MarginType.Cross, Side = Side.Long, Quantity = position.SignedSize, EntryPrice = position.EntryPrice,
            WalletBalance = account.WalletBalance, Brackets = brackets,
        });
        var reduce = Math.Ceiling((liquidation.Price + 5m) * 10m) / 10m;
        var liquidateAll = Math.Floor((liquidation.Price - 20m) * 10m) / 10m;
        Assert.Equal(MarginAction.Reduce, HealthAt(account, reduce).Action);
        Assert.Equal(MarginAction.LiquidateAll, HealthAt(account, liquidateAll).Action);
        return (reduce, liquidateAll);
    }

    /// <summary>A fresh simulator account of <paramref name="balance"/> USDT holding 0.1 BTCUSDT long at 20x, read through the Binance client.</summary>
    internal static async Task<VenueAccountSource> OpenTenthBitcoinAt20xAsync(PaperExchangeHost paper, ServiceProvider provider, decimal balance, string clientOrderId)
    {
        await paper.ResetAsync(balance);
        var venue = provider.GetRequiredService<IBinanceClient>();
        await venue.ChangeLeverageAsync("BTCUSDT", 20);
        await venue.PlaceOrderAsync(new NewOrder("BTCUSDT", OrderSide.Buy, OrderType.Market, 0.1m), clientOrderId);
        return new VenueAccountSource(venue);
    }

    /// <summary>A price (to 0.1, from <paramref name="from"/> up) clear of the recovery band above the Reduce boundary, plus 1.</summary>
    internal static decimal RecoveredPrice(AccountView account, decimal from)
    {
        var recovered = from;
        while (HealthAt(account, recovered).Ratio < 1m + RiskLimits.HardLiquidationBuffer + MarginMonitor.RecoveryBand)
        {
            recovered += 0.1m;
        }

        return recovered + 1m;
    }

    /// <summary>
    /// The lowest price (to 0.1, from <paramref name="from"/> up) at which the account is Ok by its own ratio but inside
    /// the recovery band above the Reduce boundary (a monitor in Reduce stays there).
    /// </summary>
    internal static decimal BandPrice(AccountView account, decimal from)
    {
        var price = from;
        while (HealthAt(account, price).Action != MarginAction.Ok)
        {
            price += 0.1m;
        }

        Assert.True(HealthAt(account, price).Ratio < 1m + RiskLimits.HardLiquidationBuffer + MarginMonitor.RecoveryBand);
        return price;
    }

    /// <summary>The account's margin health with its one BTCUSDT position marked at <paramref name="price"/>.</summary>
    private static MarginHealthResult HealthAt(AccountView account, decimal price)
    {
        var position = Assert.Single(account.Positions);
        var brackets = BracketTables.For(new Symbol("BTCUSDT"));
        return MarginHealth.Evaluate(
            account.WalletBalance, position.SignedSize * (price - position.EntryPrice), brackets.MaintenanceMargin(position.SignedSize * price));
    }

    private static async Task ExecuteAsync(Npgsql.NpgsqlConnection connection, string sql)
    {
        await using var command = new Npgsql.NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    internal static ServiceProvider VenueClient(PaperExchangeHost paper)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(paper.BinanceSettings()).Build();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddBinanceClient(configuration);
        return services.BuildServiceProvider();
    }
}
