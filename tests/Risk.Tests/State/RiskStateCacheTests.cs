using Microsoft.Extensions.Logging.Abstractions;
using TradeEngine.Risk.Options;
using TradeEngine.Risk.State;

namespace TradeEngine.Risk.Tests.State;

public sealed class RiskStateCacheTests
{
    [Fact]
    public async Task RefreshAsync_KillSwitchTriggeredWhileLoading_TriggerSurvivesTheStaleLoad()
    {
        var source = new GatedSource();
        var cache = Cache(source);
        source.Release();
        await cache.RefreshAsync(CancellationToken.None);

        // A refresh reads the Ledger (switch off) and is held; meanwhile a trigger is applied; then the stale read lands.
        source.Hold();
        var refresh = cache.RefreshAsync(CancellationToken.None);
        await source.Reading.Task;
        cache.Apply(new KillSwitchView(true, "operator", "incident", "bob", DateTimeOffset.UtcNow));
        source.Release();
        await refresh;

        Assert.True(cache.TryGetFresh(out var state));
        Assert.True(state.KillSwitch.Active);
    }

    [Fact]
    public async Task RefreshAsync_LedgerHasNewerChange_LoadWins()
    {
        var source = new GatedSource { KillSwitch = new KillSwitchView(false, "operator", "reset", "alice", DateTimeOffset.UtcNow.AddSeconds(5)) };
        var cache = Cache(source);
        source.Release();
        await cache.RefreshAsync(CancellationToken.None);
        cache.Apply(new KillSwitchView(true, "operator", "incident", "bob", DateTimeOffset.UtcNow));

        await cache.RefreshAsync(CancellationToken.None);

        Assert.True(cache.TryGetFresh(out var state));
        Assert.False(state.KillSwitch.Active);
    }

    [Fact]
    public async Task RefreshAsync_PeakSeenHereAndNoTransferBooked_SeenPeakKept()
    {
        var source = new GatedSource { Peak = 10_000m };
        var cache = Cache(source);
        source.Release();
        await cache.RefreshAsync(CancellationToken.None);
        cache.ObserveEquity(11_000m);

        // The high's snapshot has not landed: the Ledger still says 10,000, and no transfer was booked since.
        await cache.RefreshAsync(CancellationToken.None);

        Assert.True(cache.TryGetFresh(out var state));
        Assert.Equal(11_000m, state.PeakEquity);
    }

    [Fact]
    public async Task RefreshAsync_TransferBookedSinceThePeakWasSeen_LedgersPeakInTodaysMoneyWins()
    {
        var source = new GatedSource { Peak = 11_000m };
        var cache = Cache(source);
        source.Release();
        await cache.RefreshAsync(CancellationToken.None);
        cache.ObserveEquity(12_000m);

        // A withdrawal of 1,500 is booked: the Ledger's peak in today's money is 10,500. The 12,000 seen here was
        // before it, so keeping it would read the withdrawal as 1,500 of drawdown.
        source.Peak = 10_500m;
        source.TransfersTotal = -1_500m;
        source.TransfersBooked = 1;
        await cache.RefreshAsync(CancellationToken.None);

        Assert.True(cache.TryGetFresh(out var state));
        Assert.Equal(10_500m, state.PeakEquity);
        Assert.Equal(-1_500m, state.TransfersTotal);
    }

    [Fact]
    public async Task RefreshAsync_DepositAndWithdrawalOfOneAmountBookedSinceThePeakWasSeen_LedgersPeakWins()
    {
        var source = new GatedSource { Peak = 11_000m };
        var cache = Cache(source);
        source.Release();
        await cache.RefreshAsync(CancellationToken.None);
        cache.ObserveEquity(12_000m);

        // 1,000 deposited (the 12,000 seen here holds it) and 1,000 withdrawn: the net is back where it was, but two
        // transfers were booked, and the Ledger's peak in today's money is 11,000.
        source.TransfersBooked = 2;
        await cache.RefreshAsync(CancellationToken.None);

        Assert.True(cache.TryGetFresh(out var state));
        Assert.Equal(11_000m, state.PeakEquity);
    }

    [Fact]
    public async Task RefreshAfterNowAsync_LoadUnderWayReadBefore_AnswersALaterRead()
    {
        var source = new GatedSource { Peak = 10_000m };
        var cache = Cache(source);
        source.Hold();
        var underWay = cache.RefreshAsync(CancellationToken.None);
        await source.Reading.Task;

        // The Ledger changes (a transfer booked) after the load under way read it: sharing that load answered the figures
        // from before.
        source.Peak = 8_500m;
        source.TransfersTotal = -1_500m;
        source.TransfersBooked = 1;
        var fresh = cache.RefreshAfterNowAsync(CancellationToken.None);
        source.Release();

        Assert.Equal(10_000m, (await underWay).PeakEquity);
        Assert.Equal(8_500m, (await fresh).PeakEquity);
    }

    private static RiskStateCache Cache(IRiskStateSource source) =>
        new(source, TimeProvider.System, Microsoft.Extensions.Options.Options.Create(new RiskOptions()), NullLogger<RiskStateCache>.Instance);

    private sealed class GatedSource : IRiskStateSource
    {
        private TaskCompletionSource gate = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public KillSwitchView KillSwitch { get; init; } = KillSwitchView.Inactive;

        public decimal Peak { get; set; } = 10_000m;

        public decimal TransfersTotal { get; set; }

        public long TransfersBooked { get; set; }

        public TaskCompletionSource Reading { get; private set; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Hold()
        {
            gate = new(TaskCreationOptions.RunContinuationsAsynchronously);
            Reading = new(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        public void Release() => gate.TrySetResult();

        public async Task<RiskState> LoadAsync(DateTimeOffset now, CancellationToken cancellationToken)
        {
            // What the Ledger said is fixed when the read happens; the answer arrives when the gate opens.
            var read = new RiskState(KillSwitch, DateOnly.FromDateTime(now.UtcDateTime), 10_000m, 0m, Peak, now) { TransfersTotal = TransfersTotal, TransfersBooked = TransfersBooked };
            Reading.TrySetResult();
            await gate.Task.WaitAsync(cancellationToken);
            return read;
        }
    }
}
