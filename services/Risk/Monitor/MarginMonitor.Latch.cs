using TradeEngine.Domain.Risk;
using TradeEngine.Risk.Mapping;
using TradeEngine.Risk.State;
using TradeEngine.ServiceDefaults.Grpc;

namespace TradeEngine.Risk.Monitor;

public sealed partial class MarginMonitor
{
    /// <summary>
    /// A kill-switch latch this monitor owes (LiquidateAll, a daily-loss or drawdown breach) that has not landed yet (the
    /// Ledger did not answer, or refused): retried every tick, even after the account is back to Ok (Execution flattened
    /// it, or the loss was made good), until the switch is on. The first cause is kept.
    /// </summary>
    private (string Trigger, string Reason, string Metric, string Limit, DateOnly Day)? _pendingLatch;

    private async Task LatchPendingAsync(RiskState state, CancellationToken cancellationToken)
    {
        if (_pendingLatch is not { } pending)
        {
            return;
        }

        if (state.KillSwitch.Active
            || (pending.Trigger == KillSwitchTriggers.DailyLoss && pending.Day != DayOf(time.GetUtcNow())))
        {
            // On, or a daily loss of a day that is over: the loss it measured no longer counts (a new day starts at 0),
            // and the switch would flatten every position for it.
            _pendingLatch = null;
            return;
        }

        await TryAsync(async () =>
        {
            await killSwitch.LatchAsync(pending.Trigger, pending.Reason, pending.Metric, pending.Limit, cancellationToken).ConfigureAwait(false);
            _pendingLatch = null;
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// A daily-loss or drawdown breach becomes the latch this monitor owes (<see cref="LatchPendingAsync"/> makes it).
    /// True when this call found a new breach.
    /// </summary>
    private bool CheckLossLimits(AccountView account, RiskState state, RiskLimits limits, DateTimeOffset now)
    {
        if (state.KillSwitch.Active || _pendingLatch is not null)
        {
            return false;
        }

        var dailyLoss = EquityMath.DailyLoss(state.DayStartEquity ?? account.Equity, account.Equity);
        var drawdown = EquityMath.Drawdown(Math.Max(state.PeakEquity ?? account.Equity, account.Equity), account.Equity);
        if (dailyLoss > limits.DailyLossLimit)
        {
            _pendingLatch = (KillSwitchTriggers.DailyLoss, $"Daily loss {Wire.Format(dailyLoss)} above the limit {Wire.Format(limits.DailyLossLimit)}",
                Wire.Format(dailyLoss), Wire.Format(limits.DailyLossLimit), DayOf(now));
        }
        else if (drawdown > limits.MaxDrawdown)
        {
            _pendingLatch = (KillSwitchTriggers.Drawdown, $"Drawdown {Wire.Format(drawdown)} above the limit {Wire.Format(limits.MaxDrawdown)}",
                Wire.Format(drawdown), Wire.Format(limits.MaxDrawdown), DayOf(now));
        }

        return _pendingLatch is not null;
    }

    /// <summary>The UTC day of <paramref name="instant"/>: the day a daily loss is measured in.</summary>
    private static DateOnly DayOf(DateTimeOffset instant) => DateOnly.FromDateTime(instant.UtcDateTime);
}
