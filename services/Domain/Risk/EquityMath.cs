namespace TradeEngine.Domain.Risk;

/// <summary>
/// Equity and the two loss measures that latch the kill switch. Equity is margin balance:
/// wallet balance (which already holds realized PnL, funding and fees) plus unrealized PnL.
/// </summary>
public static class EquityMath
{
    /// <summary>
    /// Equity now from the day's parts: wallet balance at 00:00 UTC + realized PnL − funding
    /// cost (positive when we paid) − fees (positive when paid) + unrealized PnL now.
    /// </summary>
    public static decimal CurrentEquity(decimal walletBalanceAtStartOfDay, decimal realizedPnl, decimal fundingCost, decimal fees, decimal unrealizedPnl)
    {
        Guard.NonNegative(fees, nameof(fees));
        return walletBalanceAtStartOfDay + realizedPnl - fundingCost - fees + unrealizedPnl;
    }

    /// <summary>Daily loss = equity at 00:00 UTC − current equity (negative on a winning day).</summary>
    public static decimal DailyLoss(decimal equityAtStartOfDay, decimal currentEquity) => equityAtStartOfDay - currentEquity;

    /// <summary>Drawdown = peak equity − current equity, never below 0 (a new high is no drawdown).</summary>
    public static decimal Drawdown(decimal peakEquity, decimal currentEquity) => Math.Max(0m, peakEquity - currentEquity);

    public static decimal NextPeak(decimal previousPeak, decimal currentEquity) => Math.Max(previousPeak, currentEquity);

    /// <summary>00:00 UTC of the day <paramref name="instant"/> falls in: where the daily loss is measured from.</summary>
    public static DateTimeOffset StartOfUtcDay(DateTimeOffset instant) =>
        new(instant.UtcDateTime.Date, TimeSpan.Zero);
}
