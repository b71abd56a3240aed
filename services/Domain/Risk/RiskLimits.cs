namespace TradeEngine.Domain.Risk;

/// <summary>
/// The risk limits in force. The hard limits are constants here and not configuration:
/// configuration may tighten each of them (a smaller notional, loss, drawdown or leverage; a
/// larger buffer or minimum notional) but never loosen one. <see cref="Create"/> refuses a
/// looser value with a <see cref="DomainException"/> naming the setting, so a bad deployment
/// fails at start-up instead of trading outside the limits.
/// </summary>
public readonly record struct RiskLimits
{
    public const decimal HardMaxNotional = 10_000m;
    public const decimal HardDailyLossLimit = 500m;
    public const decimal HardMaxDrawdown = 1_000m;
    public const int HardMaxLeverage = 5;
    public const decimal HardLiquidationBuffer = 0.15m;
    public const decimal HardMinNotional = 5m;

    private RiskLimits(decimal maxNotional, decimal dailyLossLimit, decimal maxDrawdown, int maxLeverage, decimal liquidationBuffer, decimal minNotional)
    {
        MaxNotional = maxNotional;
        DailyLossLimit = dailyLossLimit;
        MaxDrawdown = maxDrawdown;
        MaxLeverage = maxLeverage;
        LiquidationBuffer = liquidationBuffer;
        MinNotional = minNotional;
    }

    /// <summary>The hard limits themselves.</summary>
    public static RiskLimits Default { get; } = new(HardMaxNotional, HardDailyLossLimit, HardMaxDrawdown, HardMaxLeverage, HardLiquidationBuffer, HardMinNotional);

    /// <summary>Largest notional a position on one symbol may reach, in USDT.</summary>
    public decimal MaxNotional { get; }

    /// <summary>Largest loss since 00:00 UTC before the kill switch latches.</summary>
    public decimal DailyLossLimit { get; }

    /// <summary>Largest fall from peak equity before the kill switch latches.</summary>
    public decimal MaxDrawdown { get; }

    public int MaxLeverage { get; }

    /// <summary>Margin health buffer: Reduce below 1 + buffer.</summary>
    public decimal LiquidationBuffer { get; }

    /// <summary>Smallest order notional we send, whatever the exchange's own minimum.</summary>
    public decimal MinNotional { get; }

    /// <summary>Limits from configuration; a null takes the hard limit. Throws when any value loosens a hard limit.</summary>
    public static RiskLimits Create(
        decimal? maxNotional = null,
        decimal? dailyLossLimit = null,
        decimal? maxDrawdown = null,
        int? maxLeverage = null,
        decimal? liquidationBuffer = null,
        decimal? minNotional = null)
    {
        var limits = new RiskLimits(
            maxNotional ?? HardMaxNotional,
            dailyLossLimit ?? HardDailyLossLimit,
            maxDrawdown ?? HardMaxDrawdown,
            maxLeverage ?? HardMaxLeverage,
            liquidationBuffer ?? HardLiquidationBuffer,
            minNotional ?? HardMinNotional);
        Validate(limits);
        return limits;
    }

    /// <summary>Throws a <see cref="DomainException"/> naming the first limit that is looser than the hard one or meaningless.</summary>
    public static void Validate(in RiskLimits limits)
    {
        const string Tighten = "limits may be tightened, never loosened";
        Ceiling(limits.MaxNotional, HardMaxNotional, nameof(MaxNotional), Tighten);
        Ceiling(limits.DailyLossLimit, HardDailyLossLimit, nameof(DailyLossLimit), Tighten);
        Ceiling(limits.MaxDrawdown, HardMaxDrawdown, nameof(MaxDrawdown), Tighten);
        if (limits.MaxLeverage is < 1 or > HardMaxLeverage)
        {
            Guard.Fail(nameof(MaxLeverage), $"must be from 1 to the hard limit {HardMaxLeverage}; {Tighten}");
        }

        if (limits.LiquidationBuffer is < HardLiquidationBuffer or > 10m)
        {
            Guard.Fail(nameof(LiquidationBuffer), $"must be at least the hard limit {DecimalText.Format(HardLiquidationBuffer)} (and at most 10); {Tighten}");
        }

        if (limits.MinNotional < HardMinNotional || limits.MinNotional > limits.MaxNotional)
        {
            Guard.Fail(nameof(MinNotional), $"must be at least the hard limit {DecimalText.Format(HardMinNotional)} and not above MaxNotional; {Tighten}");
        }
    }

    /// <summary>True when every limit of this set is at least as strict as <paramref name="other"/>'s.</summary>
    public bool IsAtLeastAsStrictAs(in RiskLimits other) =>
        MaxNotional <= other.MaxNotional && DailyLossLimit <= other.DailyLossLimit && MaxDrawdown <= other.MaxDrawdown
        && MaxLeverage <= other.MaxLeverage && LiquidationBuffer >= other.LiquidationBuffer && MinNotional >= other.MinNotional;

    private static void Ceiling(decimal value, decimal hard, string field, string tighten)
    {
        if (value <= 0m || value > hard)
        {
            Guard.Fail(field, $"must be greater than 0 and not above the hard limit {DecimalText.Format(hard)}; {tighten}");
        }
    }
}
