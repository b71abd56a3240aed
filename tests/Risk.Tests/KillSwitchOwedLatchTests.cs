using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using TradeEngine.Risk.Tests.Support;
using TradeEngine.Risk.V1;
using TradeEngine.Testing;
using TradeEngine.Testing.Logging;
using TradeEngine.Testing.Servers;

namespace TradeEngine.Risk.Tests;

/// <summary>
/// A daily-loss breach found by a check while the Ledger is down (stopped; Risk keeps running with the state it read
/// before). The denial is known, so it is answered with its reason, not UNAVAILABLE; the latch the Ledger could not take
/// is owed: on in Risk at once, and written to the Ledger once when it is back at its address. Before, the check failed
/// with UNAVAILABLE (the latch's read of the Ledger failed) and the latch was lost.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class KillSwitchOwedLatchTests(PostgresServer postgres, RabbitMqServer rabbit)
{
    private static CheckPreTradeRequest Healthy => new() { Order = RiskWorld.Order("0.1"), Account = RiskWorld.Account(10_000m) };

    // 600 lost today: over the 500 daily limit (day-start equity 10,000).
    private static CheckPreTradeRequest Breach => new() { Order = RiskWorld.Order("0.1"), Account = RiskWorld.Account(9_400m) };

    /// <summary>Risk and the Ledger with a day-start of 10,000 and one allowed check (the day observed), then the Ledger stopped.</summary>
    private async Task<RiskWorld> LedgerDownAsync(string stateMaxAgeSeconds, ListLoggerProvider? logs = null)
    {
        var world = await RiskWorld.StartAsync(postgres, rabbit,
            new Dictionary<string, string?> { ["Risk:StateMaxAgeSeconds"] = stateMaxAgeSeconds },
            logs is null ? null : s => s.AddSingleton<ILoggerProvider>(logs),
            beforeRisk: w => w.SnapshotAsync(10_000m, DateTimeOffset.UtcNow));
        Assert.True((await world.Risk.CheckPreTradeAsync(Healthy)).Allowed);
        await world.StopLedgerAsync();
        return world;
    }

    [Fact]
    public async Task CheckPreTrade_DailyLossBreachWhileLedgerDown_DeniedWithItsReasonNotUnavailable()
    {
        var logs = new ListLoggerProvider();
        await using var world = await LedgerDownAsync("120", logs);

        var reply = await world.Risk.CheckPreTradeAsync(Breach);

        Assert.False(reply.Allowed);
        var reason = Assert.Single(reply.Reasons);
        Assert.Equal((RiskReasonCode.DailyLossLimitBreached, "600", "500"), (reason.Code, reason.Actual, reason.Limit));
        Assert.Equal("600", reply.DailyLoss);
        Assert.Contains(logs.Entries, e => e.Level == LogLevel.Warning
                                           && e.Message.Contains("latch (daily_loss) could not be written", StringComparison.Ordinal));
    }

    [Fact]
    public async Task CheckPreTrade_AfterABreachWhileLedgerStillDown_DeniedKillSwitchActiveEvenOnceTheStateIsStale()
    {
        // State older than 6 s is unknown: without a latch owed, a check would then answer UNAVAILABLE (fail closed).
        await using var world = await LedgerDownAsync("6");
        Assert.False((await world.Risk.CheckPreTradeAsync(Breach)).Allowed);

        var later = await world.Risk.CheckPreTradeAsync(Healthy);
        await Task.Delay(TimeSpan.FromSeconds(7));
        var stale = await world.Risk.CheckPreTradeAsync(Healthy);
        var status = await world.Risk.GetKillSwitchAsync(new GetKillSwitchRequest());

        Assert.False(later.Allowed);
        Assert.Equal(RiskReasonCode.KillSwitchActive, Assert.Single(later.Reasons).Code);
        Assert.False(stale.Allowed);
        Assert.Equal(RiskReasonCode.KillSwitchActive, Assert.Single(stale.Reasons).Code);
        Assert.Equal((true, KillSwitchTrigger.DailyLoss, "risk"), (status.Active, status.Trigger, status.Actor));
    }

    [Fact]
    public async Task CheckPreTrade_BreachesWhileLedgerDown_LatchWrittenOnceWhenTheLedgerIsBackAndAResetClearsIt()
    {
        var logs = new ListLoggerProvider();
        await using var world = await LedgerDownAsync("120", logs);
        Assert.False((await world.Risk.CheckPreTradeAsync(Breach)).Allowed);
        // More breaches and checks while the latch is owed: the first cause is kept, nothing more is owed.
        Assert.False((await world.Risk.CheckPreTradeAsync(Breach)).Allowed);
        Assert.False((await world.Risk.CheckPreTradeAsync(Healthy)).Allowed);
        // Long enough for the background writer to have failed a few times (back-off from 0.5 s).
        await Task.Delay(TimeSpan.FromSeconds(2));

        await world.StartLedgerAsync(sameAddress: true);
        var latched = await Poll.UntilAsync(() => world.Ledger.GetKillSwitchAsync(new Ledger.V1.GetKillSwitchRequest()).ResponseAsync,
            k => k.Active, TimeSpan.FromSeconds(30));
        await Poll.UntilAsync(() => world.CountAsync("risk_events WHERE event_type = 'kill_switch_daily_loss'"), n => n >= 1);
        // Time for a second write, had there been one.
        await Task.Delay(TimeSpan.FromSeconds(2));

        Assert.Equal(("daily_loss", "risk"), (latched.Trigger, latched.Actor));
        Assert.Contains("DailyLossLimitBreached", latched.Reason, StringComparison.Ordinal);
        Assert.Single((await world.Ledger.GetKillSwitchHistoryAsync(new Ledger.V1.GetKillSwitchHistoryRequest())).Changes);
        Assert.Equal(1, await world.CountAsync("kill_switch_history"));
        Assert.Equal(1, await world.CountAsync("risk_events WHERE event_type = 'kill_switch_daily_loss'"));
        Assert.Equal(1, await world.CountAsync("outbox WHERE message_type LIKE '%KillSwitchTriggered%'"));
        Assert.Contains(logs.Entries, e => e.Level == LogLevel.Warning && e.Message.Contains("latch (daily_loss) owed to the Ledger has landed", StringComparison.Ordinal));

        // Owed no more: an operator's reset clears the switch, and a healthy check is allowed again.
        var reset = await world.Risk.ResetKillSwitchAsync(new ResetKillSwitchRequest
        {
            IdempotencyKey = "reset-after-outage", Operator = "alice", Reason = "loss understood after the Ledger outage",
        }, RiskWorld.OperatorHeaders);
        Assert.False(reset.Active);
        Assert.True((await world.Risk.CheckPreTradeAsync(Healthy)).Allowed);
    }
}
