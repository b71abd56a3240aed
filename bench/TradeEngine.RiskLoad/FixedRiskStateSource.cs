using TradeEngine.Risk.State;

namespace TradeEngine.RiskLoad;

/// <summary>
/// Stands in for the Ledger behind Risk's state cache: the kill switch off, day-start and peak equity 10,000. The
/// check reads the cache, never the Ledger, so the measured path is the production one; only the refresh source differs.
/// There is no Ledger to record the checks' observations in (<see cref="IRiskStateSource.RecordsObservations"/>).
/// </summary>
public sealed class FixedRiskStateSource : IRiskStateSource
{
    public Task<RiskState> LoadAsync(DateTimeOffset now, CancellationToken cancellationToken) =>
        Task.FromResult(new RiskState(KillSwitchView.Inactive, DateOnly.FromDateTime(now.UtcDateTime), 10_000m, 0m, 10_000m, now));

    public bool RecordsObservations => false;
}
