using Microsoft.Extensions.DependencyInjection;
using TradeEngine.Ledger.Tests.Support;
using TradeEngine.Ledger.V1;
using TradeEngine.Testing.Servers;
using static TradeEngine.Ledger.Tests.Support.Requests;

namespace TradeEngine.Ledger.Tests;

[Collection(LedgerCollection.Name)]
public sealed class KillSwitchTests(PostgresServer postgres, RabbitMqServer rabbit)
{
    [Fact]
    public async Task SetKillSwitch_SlowCallOvertaken_ChangesStampedInCommitOrder()
    {
        // The first call's clock reading is held back for a while: if it is read before the state row is locked, the
        // second call commits first with a later time and the first then commits an earlier one after it.
        var clock = new HoldingClock();
        await using var ledger = await LedgerHost.StartAsync(postgres, rabbit, relay: false,
            configureServices: services => services.AddSingleton<TimeProvider>(clock));

        var slow = ledger.Client.SetKillSwitchAsync(Set(active: true)).ResponseAsync;
        await clock.Holding.WaitAsync(TimeSpan.FromSeconds(10));
        var fast = ledger.Client.SetKillSwitchAsync(Set(active: false), LedgerHost.OperatorHeaders).ResponseAsync;
        // Released only once the second call waits on the state row's lock (the slow call holds it while it reads the
        // clock) or has committed (the slow call read the clock before locking: the fault this test looks for). A fixed
        // pause let the test pass without the overtaking it is about when the second call was slower to arrive.
        await TradeEngine.Testing.Poll.UntilAsync(
            async () => fast.IsCompleted || await ledger.ScalarAsync<long>(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'") > 0,
            overtaking => overtaking, TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(10));
        clock.Release();
        await Task.WhenAll(slow, fast);

        var history = await ledger.Client.GetKillSwitchHistoryAsync(new GetKillSwitchHistoryRequest());
        var newestFirst = history.Changes.Select(c => c.ChangedAt.ToDateTimeOffset()).ToList();
        var state = await ledger.Client.GetKillSwitchAsync(new GetKillSwitchRequest());

        Assert.Equal(2, newestFirst.Count);
        Assert.True(newestFirst[0] >= newestFirst[1], $"History went back in time: {newestFirst[1]:O} then {newestFirst[0]:O}.");
        Assert.Equal(history.Changes[0].ChangedAt, state.ChangedAt);
        Assert.Equal(history.Changes[0].Active, state.Active);
    }

    /// <summary>
    /// The clock reads between two microseconds: the answer carries the time stored (PostgreSQL keeps microseconds), as a
    /// later read does. Before, the answer gave the clock's 100 ns, and a replay of the key's first answer differed from
    /// GetKillSwitch below the microsecond.
    /// </summary>
    [Fact]
    public async Task SetKillSwitch_ClockBetweenMicroseconds_AnswerCarriesTheTimeStored()
    {
        await using var ledger = await LedgerHost.StartAsync(postgres, rabbit, relay: false,
            configureServices: services => services.AddSingleton<TimeProvider>(new BetweenMicrosecondsClock()));

        var set = await ledger.Client.SetKillSwitchAsync(Set(active: true));

        Assert.Equal(0, set.ChangedAt.Nanos % 1_000);
        Assert.Equal((await ledger.Client.GetKillSwitchAsync(new GetKillSwitchRequest())).ChangedAt, set.ChangedAt);
        Assert.Equal((await ledger.Client.GetKillSwitchHistoryAsync(new GetKillSwitchHistoryRequest())).Changes[0].ChangedAt, set.ChangedAt);
    }

    /// <summary>The system clock, always 700 ns into a microsecond.</summary>
    private sealed class BetweenMicrosecondsClock : TimeProvider
    {
        public override DateTimeOffset GetUtcNow()
        {
            var now = System.GetUtcNow();
            return new DateTimeOffset(now.UtcTicks - (now.UtcTicks % 10) + 7, TimeSpan.Zero);
        }
    }

    private static SetKillSwitchRequest Set(bool active) => new()
    {
        IdempotencyKey = Key(), Active = active, Trigger = "operator", Reason = "test", Actor = "t",
    };

    /// <summary>The system clock, except that the first reading the kill switch takes is held until released.</summary>
    private sealed class HoldingClock : TimeProvider
    {
        private readonly ManualResetEventSlim _release = new();
        private readonly SemaphoreSlim _holding = new(0);
        private int _held;

        public SemaphoreSlim Holding => _holding;

        public void Release() => _release.Set();

        public override DateTimeOffset GetUtcNow()
        {
            var now = System.GetUtcNow();
            if (Environment.StackTrace.Contains("KillSwitchStore", StringComparison.Ordinal) && Interlocked.Exchange(ref _held, 1) == 0)
            {
                _holding.Release();
                _release.Wait(TimeSpan.FromSeconds(10));
            }

            return now;
        }
    }
}
