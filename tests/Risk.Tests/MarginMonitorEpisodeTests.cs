using Microsoft.Extensions.DependencyInjection;
using TradeEngine.Contracts.Events;
using TradeEngine.Domain.Risk;
using TradeEngine.Ledger.V1;
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
        await using var paper = await PaperExchangeHost.StartAsync();
        await using var provider = MarginMonitorTests.VenueClient(paper);
        var source = await MarginMonitorTests.OpenTenthBitcoinAt20xAsync(paper, provider, 1_000m, "episode-open-record");
        var (reducePrice, _) = MarginMonitorTests.Prices(await source.GetAccountAsync(CancellationToken.None));
        await using var alerts = await EventListener<MarginAlertRaised>.StartAsync(rabbit.ConnectionString, "risk-tests-alerts-");
        await using var world = await RiskWorld.StartAsync(postgres, rabbit, MonitorOn, s => s.AddSingleton<IAccountSource>(source), paper: paper);
        await Task.Delay(TimeSpan.FromSeconds(2));

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
        await using var paper = await PaperExchangeHost.StartAsync();
        await using var provider = MarginMonitorTests.VenueClient(paper);
        var source = await MarginMonitorTests.OpenTenthBitcoinAt20xAsync(paper, provider, 1_000m, "episode-open-restart");
        var (reducePrice, _) = MarginMonitorTests.Prices(await source.GetAccountAsync(CancellationToken.None));
        await using var alerts = await EventListener<MarginAlertRaised>.StartAsync(rabbit.ConnectionString, "risk-tests-alerts-");
        await using var world = await RiskWorld.StartAsync(postgres, rabbit, MonitorOn, s => s.AddSingleton<IAccountSource>(source), paper: paper);
        await Task.Delay(TimeSpan.FromSeconds(2));
        await paper.SetPriceAsync("BTCUSDT", reducePrice);
        await Poll.UntilAsync(() => Task.FromResult(alerts.Received.Count), n => n >= 1);
        await Poll.UntilAsync(() => EpisodeEventsAsync(world), e => e.Count >= 1);

        await world.StopRiskAsync();
        await world.StartRiskAsync();
        await Poll.UntilAsync(() => Task.FromResult(alerts.Received.Count), n => n >= 2);
        await Task.Delay(TimeSpan.FromSeconds(2.5)); // more ticks in the same state: nothing more

        var received = alerts.Received.ToList();
        Assert.Equal(2, received.Count);
        Assert.All(received, a => Assert.Equal(MarginAlertAction.Reduce, a.Action));
        Assert.Equal(received[0].EventId, received[1].EventId);
        // Recorded once: the restarted monitor found the record and wrote no second one.
        var record = Assert.Single(await EpisodeEventsAsync(world));
        Assert.Equal(received[0].EventId.ToString(), record.CorrelationId);
    }

    /// <summary>
    /// A recovery to Ok is recorded (margin_recovered, correlated with the episode's alert); Risk restarted after it, with
    /// the account falling into Reduce again, raises the new episode's alert under a new event id.
    /// </summary>
    [Fact]
    public async Task MarginMonitor_RecoveredThenRestartedInANewReduceEpisode_RecoveryRecordedAndANewEventId()
    {
        await using var paper = await PaperExchangeHost.StartAsync();
        await using var provider = MarginMonitorTests.VenueClient(paper);
        var source = await MarginMonitorTests.OpenTenthBitcoinAt20xAsync(paper, provider, 1_000m, "episode-open-recovered");
        var account = await source.GetAccountAsync(CancellationToken.None);
        var (reducePrice, _) = MarginMonitorTests.Prices(account);
        var recoveredPrice = MarginMonitorTests.RecoveredPrice(account, reducePrice);
        await using var alerts = await EventListener<MarginAlertRaised>.StartAsync(rabbit.ConnectionString, "risk-tests-alerts-");
        await using var world = await RiskWorld.StartAsync(postgres, rabbit, MonitorOn, s => s.AddSingleton<IAccountSource>(source), paper: paper);
        await Task.Delay(TimeSpan.FromSeconds(2));
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
        await Task.Delay(TimeSpan.FromSeconds(1.5));

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
        await using var paper = await PaperExchangeHost.StartAsync();
        await using var provider = MarginMonitorTests.VenueClient(paper);
        var source = await MarginMonitorTests.OpenTenthBitcoinAt20xAsync(paper, provider, 1_000m, "episode-open-ok-at-start");
        var account = await source.GetAccountAsync(CancellationToken.None);
        var (reducePrice, _) = MarginMonitorTests.Prices(account);
        await using var alerts = await EventListener<MarginAlertRaised>.StartAsync(rabbit.ConnectionString, "risk-tests-alerts-");
        await using var world = await RiskWorld.StartAsync(postgres, rabbit, MonitorOn, s => s.AddSingleton<IAccountSource>(source), paper: paper);
        await Task.Delay(TimeSpan.FromSeconds(2));
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

    /// <summary>The monitor's episode records in the Ledger, newest first.</summary>
    private static async Task<List<RiskEventRecord>> EpisodeEventsAsync(RiskWorld world) =>
        [.. (await world.Ledger.GetRiskEventsAsync(new GetRiskEventsRequest { EventTypes = { EpisodeTypes } })).Events];
}
