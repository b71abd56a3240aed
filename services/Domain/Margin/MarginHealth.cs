namespace TradeEngine.Domain.Margin;

/// <summary>What the margin monitor should do.</summary>
public enum MarginAction
{
    Ok = 1,

    /// <summary>Inside the buffer: reduce exposure (Execution halves the largest position).</summary>
    Reduce = 2,

    /// <summary>At or past the exchange's liquidation point: close everything.</summary>
    LiquidateAll = 3,
}

/// <summary>
/// Result of the plan's health check. <see cref="Ratio"/> is the plan's ratio,
/// (balance + unrealized PnL) / maintenance margin, null when nothing is open.
/// </summary>
public readonly record struct MarginHealthResult(MarginAction Action, decimal? Ratio);

/// <summary>
/// The plan's margin health check: ratio = (balance + unrealized PnL) / maintenance margin;
/// LiquidateAll at or below 1, Reduce below 1 + buffer, Ok otherwise; no maintenance margin
/// (no positions) is Ok with no ratio.
///
/// One deliberate difference from the plan's "&lt; 1": a ratio of exactly 1 is LiquidateAll,
/// because that is the exchange's own trigger (margin ratio reaches 100 %, i.e. margin balance
/// equals maintenance margin). It matters only at that single point, and it makes the rule
/// agree with <see cref="LiquidationPrice.Exchange"/>: at the liquidation price margin balance
/// equals maintenance margin, and the check says LiquidateAll.
///
/// The decision compares equity with maintenance × threshold by multiplication, so it is exact;
/// the ratio is reported for display only and may carry division rounding in its last digit.
/// </summary>
public static class MarginHealth
{
    public const decimal DefaultBuffer = 0.15m;

    public static MarginHealthResult Evaluate(decimal balance, decimal unrealizedPnl, decimal maintenanceMargin, decimal buffer = DefaultBuffer)
    {
        Guard.NonNegative(maintenanceMargin, nameof(maintenanceMargin));
        if (buffer is < 0m or > 10m)
        {
            Guard.Fail(nameof(buffer), "must be from 0 to 10");
        }

        if (maintenanceMargin == 0m)
        {
            return new MarginHealthResult(MarginAction.Ok, null);
        }

        var equity = balance + unrealizedPnl;
        decimal ratio;
        try
        {
            ratio = equity / maintenanceMargin;
        }
        catch (OverflowException)
        {
            // A maintenance margin of 1e-27 against a wallet of 1,000: a ratio past decimal's range, and no venue's figure.
            throw new DomainException(nameof(maintenanceMargin), "is too small against the equity for a margin ratio");
        }

        if (equity <= maintenanceMargin)
        {
            return new MarginHealthResult(MarginAction.LiquidateAll, ratio);
        }

        return equity < maintenanceMargin * (1m + buffer)
            ? new MarginHealthResult(MarginAction.Reduce, ratio)
            : new MarginHealthResult(MarginAction.Ok, ratio);
    }
}
