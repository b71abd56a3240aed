using System.Numerics;

namespace TradeEngine.Domain.Risk;

/// <summary>
/// The outcome of a pre-trade check: allowed, or denied with every reason that applies. It is
/// a struct holding a bit set of reasons and the figures they were judged on, so the common
/// allowed case allocates nothing; <see cref="Reasons"/> builds a list only when asked.
/// </summary>
public readonly struct RiskDecision
{
    private readonly uint _reasons;
    private readonly PreTradeFigures _figures;

    internal RiskDecision(uint reasons, in PreTradeFigures figures)
    {
        _reasons = reasons;
        _figures = figures;
    }

    public bool Allowed => _reasons == 0;

    public int ReasonCount => BitOperations.PopCount(_reasons);

    /// <summary>The figures the decision was taken on (notional after the trade, daily loss, …).</summary>
    public PreTradeFigures Figures => _figures;

    /// <summary>True when a daily-loss or drawdown breach means the kill switch must latch.</summary>
    public bool LatchesKillSwitch => Has(RiskReasonCode.DailyLossLimitBreached) || Has(RiskReasonCode.DrawdownLimitBreached);

    public bool Has(RiskReasonCode code) => (_reasons & Bit(code)) != 0;

    public bool TryGetReason(RiskReasonCode code, out RiskReason reason)
    {
        reason = Has(code) ? Describe(code) : default;
        return Has(code);
    }

    /// <summary>Every reason, in code order. Allocates only when the order is denied.</summary>
    public IReadOnlyList<RiskReason> Reasons
    {
        get
        {
            if (_reasons == 0)
            {
                return [];
            }

            var list = new RiskReason[ReasonCount];
            var n = 0;
            for (var code = RiskReasonCode.KillSwitchActive; code <= RiskReasonCode.DrawdownLimitBreached; code++)
            {
                if (Has(code))
                {
                    list[n++] = Describe(code);
                }
            }

            return list;
        }
    }

    public override string ToString() => Allowed ? "Allowed" : "Denied: " + string.Join("; ", Reasons);

    internal static uint Bit(RiskReasonCode code) => 1u << (int)code;

    private RiskReason Describe(RiskReasonCode code)
    {
        var f = _figures;
        return code switch
        {
            RiskReasonCode.KillSwitchActive => new(code, 0m, 1m),
            RiskReasonCode.LeverageOutOfRange => new(code, f.MaxLeverage, f.Leverage),
            RiskReasonCode.NotionalAboveLimit => new(code, f.MaxNotional, f.NotionalAfter),
            RiskReasonCode.InsufficientMargin => new(code, f.AvailableBalance, f.RequiredMargin),
            RiskReasonCode.NotionalAboveBalanceTimesLeverage => new(code, f.BalanceTimesLeverage, f.NotionalAfter),
            RiskReasonCode.QuantityOffStep => new(code, f.StepSize, f.Quantity),
            RiskReasonCode.QuantityBelowMinimum => new(code, f.MinQuantity, f.Quantity),
            RiskReasonCode.QuantityAboveMaximum => new(code, f.MaxQuantity, f.Quantity),
            RiskReasonCode.NotionalBelowExchangeMinimum => new(code, f.MinNotional, f.OrderNotional),
            RiskReasonCode.DailyLossLimitBreached => new(code, f.DailyLossLimit, f.DailyLoss),
            RiskReasonCode.DrawdownLimitBreached => new(code, f.MaxDrawdown, f.Drawdown),
            _ => throw new DomainException("code", "is not a risk reason"),
        };
    }
}

/// <summary>The numbers a pre-trade decision was taken on, limit beside actual.</summary>
public readonly record struct PreTradeFigures(
    decimal Quantity,
    decimal OrderNotional,
    decimal NotionalAfter,
    decimal MaxNotional,
    decimal RequiredMargin,
    decimal AvailableBalance,
    decimal BalanceTimesLeverage,
    int Leverage,
    int MaxLeverage,
    decimal StepSize,
    decimal MinQuantity,
    decimal MaxQuantity,
    decimal MinNotional,
    decimal DailyLoss,
    decimal DailyLossLimit,
    decimal Drawdown,
    decimal MaxDrawdown);
