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
        var cache = new RiskStateCache(source, TimeProvider.System, Microsoft.Extensions.Options.Options.Create(new RiskOptions()), NullLogger<RiskStateCache>.Instance);
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
        var cache = new RiskStateCache(source, TimeProvider.System, Microsoft.Extensions.Options.Options.Create(new RiskOptions()), NullLogger<RiskStateCache>.Instance);
        source.Release();
        await cache.RefreshAsync(CancellationToken.None);
        cache.Apply(new KillSwitchView(true, "operator", "incident", "bob", DateTimeOffset.UtcNow));

        await cache.RefreshAsync(CancellationToken.None);

        Assert.True(cache.TryGetFresh(out var state));
        Assert.False(state.KillSwitch.Active);
    }

    private sealed class GatedSource : IRiskStateSource
    {
        private TaskCompletionSource gate = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public KillSwitchView KillSwitch { get; init; } = KillSwitchView.Inactive;

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
            var read = new RiskState(KillSwitch, DateOnly.FromDateTime(now.UtcDateTime), 10_000m, 0m, 10_000m, now);
            Reading.TrySetResult();
            await gate.Task.WaitAsync(cancellationToken);
            return read;
        }
    }
}
