using Microsoft.Extensions.DependencyInjection;
using TradeEngine.Contracts.Events;
using TradeEngine.Domain.Risk;
using TradeEngine.Ledger.V1;
using TradeEngine.Risk.Mapping;
using TradeEngine.Risk.Monitor;
using TradeEngine.Risk.Tests.Support;
using TradeEngine.Testing;
using TradeEngine.Testing.Broker;
using TradeEngine.Testing.Paper;
using TradeEngine.Testing.Servers;

namespace TradeEngine.Risk.Tests;

/// <summary>
/// The margin monitor's episodes in the Ledger, and a restarted monitor resuming them: real Ledger, real RabbitMQ,
/// PaperExchange as the venue (the account as <see cref="MarginMonitorTests"/> sets it up). Risk is restarted on the same
/// Ledger as a crash and a redeploy would.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class MarginMonitorEpisodeTests(PostgresServer postgres, RabbitMqServer rabbit) : IAsyncLifetime
{
    private static readonly Dictionary<string, string?> MonitorOn = new()
    {
        ["Risk:MarginMonitor:Enabled"] = "true",
        ["Risk:MarginMonitor:IntervalSeconds"] = "1",
    };

    private static readonly string[] EpisodeTypes = [MarginEpisodeLog.Reduce, MarginEpisodeLog.LiquidateAll, MarginEpisodeLog.Recovered];

    public Task InitializeAsync() => UtcDay.AwayFromMidnightAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task MarginMonitor_ReduceAlert_RecordedWithTheAlertsEventIdAsCorrelation()
    {
        var (paper, provider, source, reducePrice) = await ReduceAccountAsync("episode-open-record");
        await using var _ = paper;
        await using var __ = provider;
        var monitored = new MonitoredAccount(source);
        await using var alerts = await EventListener<MarginAlertRaised>.StartAsync(rabbit.ConnectionString, "risk-tests-alerts-");
        await using var world = await RiskWorld.StartAsync(postgres, rabbit, MonitorOn, monitored.Register, paper: paper);
        await monitored.TicksAsync(2);

        await paper.SetPriceAsync("BTCUSDT", reducePrice);
        var alert = (await Poll.UntilAsync(() => Task.FromResult(alerts.Received.ToList()), a => a.Count >= 1)).Single();
        var events = await Poll.UntilAsync(() => EpisodeEventsAsync(world), e => e.Count >= 1);

        var record = Assert.Single(events);
        Assert.Equal(MarginAlertAction.Reduce, alert.Action);
        Assert.Equal((MarginEpisodeLog.Reduce, RiskEventSeverity.Warning, alert.EventId.ToString()), (record.EventType, record.Severity, record.CorrelationId));
        Assert.Equal(decimal.Round(alert.MarginRatio!.Value, 8, MidpointRounding.ToEven), decimal.Parse(record.MetricValue, System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(1m + RiskLimits.HardLiquidationBuffer, decimal.Parse(record.LimitValue, System.Globalization.CultureInfo.InvariantCulture));
    }

    /// <summary>
    /// Risk restarted during a Reduce episode, the account still in Reduce: the new monitor publishes the episode's alert
    /// under the first alert's event id (Execution's inbox takes it as done), not under a new one (a second halving).
    /// </summary>
    [Fact]
    public async Task MarginMonitor_RestartedDuringReduceEpisode_AlertRepublishedUnderTheSameEventId()
    {
        var (paper, provider, source, reducePrice) = await ReduceAccountAsync("episode-open-restart");
        await using var _ = paper;
        await using var __ = provider;
        var monitored = new MonitoredAccount(source);
        await using var alerts = await EventListener<MarginAlertRaised>.StartAsync(rabbit.ConnectionString, "risk-tests-alerts-");
        await using var world = await RiskWorld.StartAsync(postgres, rabbit, MonitorOn, monitored.Register, paper: paper);
        await monitored.TicksAsync(2);
        await paper.SetPriceAsync("BTCUSDT", reducePrice);
        await Poll.UntilAsync(() => Task.FromResult(alerts.Received.Count), n => n >= 1);
        await Poll.UntilAsync(() => EpisodeEventsAsync(world), e => e.Count >= 1);

        await world.StopRiskAsync();
        await world.StartRiskAsync();
        await Poll.UntilAsync(() => Task.FromResult(alerts.Received.Count), n => n >= 2);
        await monitored.TicksAsync(2); // more ticks in the same state: nothing more

        var received = alerts.Received.ToList();
        Assert.Equal(2, received.Count);
        Assert.All(received, a => Assert.Equal(MarginAlertAction.Reduce, a.Action));
        Assert.Equal(received[0].EventId, received[1].EventId);
        // Recorded once: the restarted monitor found the record and wrote no second one.
        var record = Assert.Single(await EpisodeEventsAsync(world));
        Assert.Equal(received[0].EventId.ToString(), record.CorrelationId);
    }

    /// <summary>
    /// The Ledger down when the account falls into Reduce: the alert goes out unrecorded, and its record is owed, written on
    /// a later tick once the Ledger is back (the alert is not published again for it). A restart then resumes the episode
    /// under the alert's event id. Before, the record was tried again only with an alert raised again (its publish failed),
    /// so it never landed, and the restarted monitor raised the episode under a new id: a second halving.
    /// </summary>
    [Fact]
    public async Task MarginMonitor_LedgerDownWhenTheAlertIsRaised_RecordWrittenOnceItIsBackAndARestartResumesTheSameId()
    {
        var (paper, provider, source, reducePrice) = await ReduceAccountAsync("episode-owed-record");
        await using var _ = paper;
        await using var __ = provider;
        var monitored = new MonitoredAccount(source);
        await using var alerts = await EventListener<MarginAlertRaised>.StartAsync(rabbit.ConnectionString, "risk-tests-alerts-");
        await using var world = await RiskWorld.StartAsync(postgres, rabbit, MonitorOn, monitored.Register, paper: paper);
        await monitored.TicksAsync(2);

        await world.StopLedgerAsync();
        await paper.SetPriceAsync("BTCUSDT", reducePrice);
        var first = (await Poll.UntilAsync(() => Task.FromResult(alerts.Received.ToList()), a => a.Count >= 1))[0];
        await monitored.TicksAsync(2); // ticks with the Ledger still down: the record cannot land
        await world.StartLedgerAsync(sameAddress: true);
        var record = Assert.Single(await Poll.UntilAsync(() => EpisodeEventsAsync(world), e => e.Count >= 1));
        Assert.Equal((MarginEpisodeLog.Reduce, first.EventId.ToString()), (record.EventType, record.CorrelationId));
        Assert.Single(alerts.Received);

        await world.StopRiskAsync();
        await world.StartRiskAsync();
        await Poll.UntilAsync(() => Task.FromResult(alerts.Received.Count), n => n >= 2);

        Assert.All(alerts.Received, a => Assert.Equal((MarginAlertAction.Reduce, first.EventId), (a.Action, a.EventId)));
        Assert.Single(await EpisodeEventsAsync(world));
    }

    /// <summary>
    /// The Ledger down through a whole Reduce episode (the alert, then the account clear of the band): once it is back, the
    /// owed alert record lands and the recovery with it, both correlated with the alert, the recovery the newest, so a
    /// restart finds the episode over. Before, the alert's record never landed: the Ledger held a recovery of nothing.
    /// </summary>
    [Fact]
    public async Task MarginMonitor_EpisodeEndsWhileTheLedgerIsDown_AlertThenRecoveryRecordedOnceItIsBack()
    {
        var (paper, provider, source, reducePrice) = await ReduceAccountAsync("episode-owed-recovered");
        await using var _ = paper;
        await using var __ = provider;
        var monitored = new MonitoredAccount(source);
        var recoveredPrice = MarginMonitorTests.RecoveredPrice(await source.GetAccountAsync(CancellationToken.None), reducePrice);
        await using var alerts = await EventListener<MarginAlertRaised>.StartAsync(rabbit.ConnectionString, "risk-tests-alerts-");
        await using var world = await RiskWorld.StartAsync(postgres, rabbit, MonitorOn, monitored.Register, paper: paper);
        await monitored.TicksAsync(2);
        var monitor = world.RiskServices.GetRequiredService<MarginMonitor>();

        await world.StopLedgerAsync();
        await paper.SetPriceAsync("BTCUSDT", reducePrice);
        var first = (await Poll.UntilAsync(() => Task.FromResult(alerts.Received.ToList()), a => a.Count >= 1))[0];
        await paper.SetPriceAsync("BTCUSDT", recoveredPrice);
        await Poll.UntilAsync(() => Task.FromResult(monitor.LastAction), a => a == Domain.Margin.MarginAction.Ok);
        await monitored.TicksAsync(1);
        await world.StartLedgerAsync(sameAddress: true);
        var events = await Poll.UntilAsync(() => EpisodeEventsAsync(world), e => e.Count >= 2);

        Assert.Equal([MarginEpisodeLog.Recovered, MarginEpisodeLog.Reduce], events.Select(e => e.EventType));
        Assert.All(events, e => Assert.Equal(first.EventId.ToString(), e.CorrelationId));
        Assert.Single(alerts.Received);
    }

    /// <summary>
    /// A recovery to Ok is recorded (margin_recovered, correlated with the episode's alert); Risk restarted after it, with
    /// the account falling into Reduce again, raises the new episode's alert under a new event id.
    /// </summary>
    [Fact]
    public async Task MarginMonitor_RecoveredThenRestartedInANewReduceEpisode_RecoveryRecordedAndANewEventId()
    {
        var (paper, provider, source, reducePrice) = await ReduceAccountAsync("episode-open-recovered");
        await using var _ = paper;
        await using var __ = provider;
        var monitored = new MonitoredAccount(source);
        var account = await source.GetAccountAsync(CancellationToken.None);
        var recoveredPrice = MarginMonitorTests.RecoveredPrice(account, reducePrice);
        await using var alerts = await EventListener<MarginAlertRaised>.StartAsync(rabbit.ConnectionString, "risk-tests-alerts-");
        await using var world = await RiskWorld.StartAsync(postgres, rabbit, MonitorOn, monitored.Register, paper: paper);
        await monitored.TicksAsync(2);
        await paper.SetPriceAsync("BTCUSDT", reducePrice);
        var first = (await Poll.UntilAsync(() => Task.FromResult(alerts.Received.ToList()), a => a.Count >= 1))[0];

        await paper.SetPriceAsync("BTCUSDT", recoveredPrice);
        var events = await Poll.UntilAsync(() => EpisodeEventsAsync(world), e => e.Count >= 2);
        Assert.Equal([MarginEpisodeLog.Recovered, MarginEpisodeLog.Reduce], events.Select(e => e.EventType));
        Assert.Equal((RiskEventSeverity.Info, first.EventId.ToString()), (events[0].Severity, events[0].CorrelationId));

        await world.StopRiskAsync();
        await paper.SetPriceAsync("BTCUSDT", reducePrice);
        await world.StartRiskAsync();
        await Poll.UntilAsync(() => Task.FromResult(alerts.Received.Count), n => n >= 2);
        await monitored.TicksAsync(2);

        var received = alerts.Received.ToList();
        Assert.Equal(2, received.Count);
        Assert.NotEqual(first.EventId, received[1].EventId);
        var newest = (await EpisodeEventsAsync(world))[0];
        Assert.Equal((MarginEpisodeLog.Reduce, received[1].EventId.ToString()), (newest.EventType, newest.CorrelationId));
    }

    /// <summary>
    /// Risk restarted after the account recovered while it was down: the record showed the Reduce episode open, and the
    /// new monitor's first tick, finding the account Ok, records its recovery (correlated with that alert).
    /// </summary>
    [Fact]
    public async Task MarginMonitor_RestartedWithTheAccountOkAndAnEpisodeOpen_RecoveryRecorded()
    {
        var (paper, provider, source, reducePrice) = await ReduceAccountAsync("episode-open-ok-at-start");
        await using var _ = paper;
        await using var __ = provider;
        var monitored = new MonitoredAccount(source);
        var account = await source.GetAccountAsync(CancellationToken.None);
        await using var alerts = await EventListener<MarginAlertRaised>.StartAsync(rabbit.ConnectionString, "risk-tests-alerts-");
        await using var world = await RiskWorld.StartAsync(postgres, rabbit, MonitorOn, monitored.Register, paper: paper);
        await monitored.TicksAsync(2);
        await paper.SetPriceAsync("BTCUSDT", reducePrice);
        var first = (await Poll.UntilAsync(() => Task.FromResult(alerts.Received.ToList()), a => a.Count >= 1))[0];
        await Poll.UntilAsync(() => EpisodeEventsAsync(world), e => e.Count >= 1);

        await world.StopRiskAsync();
        await paper.SetPriceAsync("BTCUSDT", MarginMonitorTests.RecoveredPrice(account, reducePrice));
        await world.StartRiskAsync();
        var events = await Poll.UntilAsync(() => EpisodeEventsAsync(world), e => e.Count >= 2);

        Assert.Equal([MarginEpisodeLog.Recovered, MarginEpisodeLog.Reduce], events.Select(e => e.EventType));
        Assert.Equal(first.EventId.ToString(), events[0].CorrelationId);
        Assert.Single(alerts.Received);
    }

    /// <summary>
    /// An open Reduce episode in the Ledger whose account was last watched ten minutes before this start (it may have
    /// recovered and fallen back unseen): not resumed. The account in Reduce gets a new alert under a new event id, which
    /// Execution acts on; under the old id its inbox would take it as done and nothing would be reduced.
    /// </summary>
    [Fact]
    public async Task MarginMonitor_StartedWithAnOpenEpisodeUnwatchedForLong_NewAlertUnderANewEventId()
    {
        var (paper, provider, source, reducePrice) = await ReduceAccountAsync("episode-open-unwatched");
        await using var _ = paper;
        await using var __ = provider;
        var monitored = new MonitoredAccount(source);
        var old = Guid.NewGuid();
        await paper.SetPriceAsync("BTCUSDT", reducePrice);
        monitored.WatchedBeforeItIsMade((await source.GetAccountAsync(CancellationToken.None)).Equity, TimeSpan.FromMinutes(10));
        await using var alerts = await EventListener<MarginAlertRaised>.StartAsync(rabbit.ConnectionString, "risk-tests-alerts-");
        await using var world = await RiskWorld.StartAsync(postgres, rabbit, MonitorOn, monitored.Register,
            beforeRisk: w => OpenEpisodeAsync(w, old, DateTimeOffset.UtcNow.AddMinutes(-11)), paper: paper);

        var alert = (await Poll.UntilAsync(() => Task.FromResult(alerts.Received.ToList()), a => a.Count >= 1))[0];
        await monitored.TicksAsync(2);

        Assert.Single(alerts.Received);
        Assert.Equal(MarginAlertAction.Reduce, alert.Action);
        Assert.NotEqual(old, alert.EventId);
        var newest = (await EpisodeEventsAsync(world))[0];
        Assert.Equal((MarginEpisodeLog.Reduce, alert.EventId.ToString()), (newest.EventType, newest.CorrelationId));
    }

    /// <summary>
    /// An open Reduce episode whose account was watched seconds before this start (a restart): resumed, its alert
    /// published again under its event id, once, and not recorded a second time.
    /// </summary>
    [Fact]
    public async Task MarginMonitor_StartedWithAWatchedOpenEpisode_AlertPublishedAgainUnderItsEventIdOnce()
    {
        var (paper, provider, source, reducePrice) = await ReduceAccountAsync("episode-open-watched");
        await using var _ = paper;
        await using var __ = provider;
        var monitored = new MonitoredAccount(source);
        var old = Guid.NewGuid();
        await paper.SetPriceAsync("BTCUSDT", reducePrice);
        monitored.WatchedBeforeItIsMade((await source.GetAccountAsync(CancellationToken.None)).Equity, TimeSpan.FromSeconds(1));
        await using var alerts = await EventListener<MarginAlertRaised>.StartAsync(rabbit.ConnectionString, "risk-tests-alerts-");
        await using var world = await RiskWorld.StartAsync(postgres, rabbit, MonitorOn, monitored.Register,
            beforeRisk: w => OpenEpisodeAsync(w, old, DateTimeOffset.UtcNow.AddSeconds(-20)), paper: paper);

        await Poll.UntilAsync(() => Task.FromResult(alerts.Received.Count), n => n >= 1);
        await monitored.TicksAsync(2); // more ticks in the same state: nothing more

        var alert = Assert.Single(alerts.Received);
        Assert.Equal((MarginAlertAction.Reduce, old), (alert.Action, alert.EventId));
        var record = Assert.Single(await EpisodeEventsAsync(world));
        Assert.Equal(old.ToString(), record.CorrelationId);
    }

    /// <summary>
    /// Resumed inside the recovery band (Ok by its own ratio, not clear of the band): the episode goes on, so there is no
    /// recovery and no alert (before, a restart there recorded a recovery and the next dip raised a new id: a second
    /// halving). When the ratio falls back into Reduce the resumed alert is published, under its event id.
    /// </summary>
    [Fact]
    public async Task MarginMonitor_ResumedInsideTheBand_NothingUntilReduceThenTheResumedEventId()
    {
        var (paper, provider, source, reducePrice) = await ReduceAccountAsync("episode-open-band");
        await using var _ = paper;
        await using var __ = provider;
        var monitored = new MonitoredAccount(source);
        var old = Guid.NewGuid();
        var bandPrice = MarginMonitorTests.BandPrice(await source.GetAccountAsync(CancellationToken.None), reducePrice);
        await paper.SetPriceAsync("BTCUSDT", bandPrice);
        monitored.WatchedBeforeItIsMade((await source.GetAccountAsync(CancellationToken.None)).Equity, TimeSpan.FromSeconds(1));
        await using var alerts = await EventListener<MarginAlertRaised>.StartAsync(rabbit.ConnectionString, "risk-tests-alerts-");
        await using var world = await RiskWorld.StartAsync(postgres, rabbit, MonitorOn, monitored.Register,
            beforeRisk: w => OpenEpisodeAsync(w, old, DateTimeOffset.UtcNow.AddSeconds(-20)), paper: paper);
        await monitored.TicksAsync(3);

        Assert.Empty(alerts.Received);
        Assert.Equal(MarginEpisodeLog.Reduce, Assert.Single(await EpisodeEventsAsync(world)).EventType);

        await paper.SetPriceAsync("BTCUSDT", reducePrice);
        var alert = (await Poll.UntilAsync(() => Task.FromResult(alerts.Received.ToList()), a => a.Count >= 1))[0];
        await monitored.TicksAsync(2);

        Assert.Single(alerts.Received);
        Assert.Equal((MarginAlertAction.Reduce, old), (alert.Action, alert.EventId));
    }

    /// <summary>
    /// A watched LiquidateAll episode resumed with the account back between the two boundaries (Reduce by its ratio): a
    /// Reduce alert goes out under a new id. Holding LiquidateAll there (as a monitor that never stopped does) left the
    /// account with no alert and no latch when the first process stopped before publishing the flattening or latching.
    /// </summary>
    [Fact]
    public async Task MarginMonitor_ResumedLiquidateAllEpisodeWithTheAccountAtReduce_ReduceAlertRaised()
    {
        var (paper, provider, source, reducePrice) = await ReduceAccountAsync("episode-open-liquidate");
        await using var _ = paper;
        await using var __ = provider;
        var monitored = new MonitoredAccount(source);
        var old = Guid.NewGuid();
        await paper.SetPriceAsync("BTCUSDT", reducePrice);
        monitored.WatchedBeforeItIsMade((await source.GetAccountAsync(CancellationToken.None)).Equity, TimeSpan.FromSeconds(1));
        await using var alerts = await EventListener<MarginAlertRaised>.StartAsync(rabbit.ConnectionString, "risk-tests-alerts-");
        await using var world = await RiskWorld.StartAsync(postgres, rabbit, MonitorOn, monitored.Register,
            beforeRisk: w => OpenEpisodeAsync(w, old, DateTimeOffset.UtcNow.AddSeconds(-20), MarginEpisodeLog.LiquidateAll), paper: paper);

        var alert = (await Poll.UntilAsync(() => Task.FromResult(alerts.Received.ToList()), a => a.Count >= 1))[0];

        Assert.Equal(MarginAlertAction.Reduce, alert.Action);
        Assert.NotEqual(old, alert.EventId);
    }

    /// <summary>A simulator account holding 0.1 BTCUSDT long at 20x on 1,000 USDT, and its Reduce price.</summary>
    private static async Task<(PaperExchangeHost Paper, ServiceProvider Provider, VenueAccountSource Source, decimal ReducePrice)> ReduceAccountAsync(string openId)
    {
        var paper = await PaperExchangeHost.StartAsync();
        var provider = MarginMonitorTests.VenueClient(paper);
        var source = await MarginMonitorTests.OpenTenthBitcoinAt20xAsync(paper, provider, 1_000m, openId);
        var (reducePrice, _) = MarginMonitorTests.Prices(await source.GetAccountAsync(CancellationToken.None));
        return (paper, provider, source, reducePrice);
    }

    /// <summary>
    /// What a monitor that stopped leaves in the Ledger: a Reduce (or <paramref name="eventType"/>) alert with event id
    /// <paramref name="eventId"/> at <paramref name="occurredAt"/>, with no recovery after it. Its last PnL snapshot is
    /// written as the new monitor is made (<see cref="MonitoredAccount.WatchedBeforeItIsMade"/>).
    /// </summary>
    private static async Task OpenEpisodeAsync(
        RiskWorld world, Guid eventId, DateTimeOffset occurredAt, string eventType = MarginEpisodeLog.Reduce) =>
        await world.Ledger.LogRiskEventAsync(new LogRiskEventRequest
        {
            IdempotencyKey = $"margin:{eventId:N}",
            EventType = eventType,
            Severity = eventType == MarginEpisodeLog.Reduce ? RiskEventSeverity.Warning : RiskEventSeverity.Critical,
            Reason = "Margin ratio below 1 + buffer: reduce the largest position by half",
            CorrelationId = eventId.ToString(),
            OccurredAt = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(occurredAt),
        });

    /// <summary>The monitor's episode records in the Ledger, newest first.</summary>
    private static async Task<List<RiskEventRecord>> EpisodeEventsAsync(RiskWorld world) =>
        [.. (await world.Ledger.GetRiskEventsAsync(new GetRiskEventsRequest { EventTypes = { EpisodeTypes } })).Events];

    /// <summary>
    /// The account as the monitor reads it, its reads counted: each tick starts with one, and nothing else in Risk reads it,
    /// so the count is the signal that ticks ran (with or without the Ledger), where a fixed wait only hoped they had.
    /// Registered in each Risk this test starts (<see cref="Register"/>): the count goes on across a restart.
    /// </summary>
    private sealed class MonitoredAccount(IAccountSource venue) : IAccountSource
    {
        private int _reads;
        private (decimal Equity, TimeSpan Before)? _watched;

        public Task<AccountView> GetAccountAsync(CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _reads);
            return venue.GetAccountAsync(cancellationToken);
        }

        /// <summary>
        /// The Ledger's last PnL snapshot (of <paramref name="equity"/>) is written <paramref name="before"/> before the next
        /// monitor is made, when it is: a watched (or unwatched) account judged from the monitor's own start, however long the
        /// world and the host took to get there. Stamped before a start time taken at the test's pace, it was only as good
        /// as that pace against the 60 s window.
        /// </summary>
        public void WatchedBeforeItIsMade(decimal equity, TimeSpan before) => _watched = (equity, before);

        /// <summary>Waits until <paramref name="ticks"/> more ticks have run to their end (the one under way not counted).</summary>
        public async Task TicksAsync(int ticks)
        {
            var from = Volatile.Read(ref _reads);
            await Poll.UntilAsync(() => Task.FromResult(Volatile.Read(ref _reads)), reads => reads > from + ticks);
        }

        public void Register(IServiceCollection services) => services.AddSingleton<IAccountSource>(sp =>
        {
            // Resolved for the monitor, its only user, as it is made: before it reads its start time.
            if (_watched is { } watched)
            {
                _watched = null;
                // Blocking on purpose: a factory cannot await, and the Ledger answers from a host of its own.
                sp.GetRequiredService<LedgerService.LedgerServiceClient>().LogPnlSnapshotAsync(
                    RiskWorld.Snapshot(watched.Equity, DateTimeOffset.UtcNow - watched.Before)).ResponseAsync.GetAwaiter().GetResult();
            }

            return this;
        });
    }
}
