using System.Globalization;

namespace TradeEngine.Domain.Risk;

/// <summary>Why a pre-trade check denied an order. Values are stable: they travel on the wire.</summary>
public enum RiskReasonCode
{
    KillSwitchActive = 1,
    LeverageOutOfRange = 2,
    NotionalAboveLimit = 3,
    InsufficientMargin = 4,
    NotionalAboveBalanceTimesLeverage = 5,
    QuantityOffStep = 6,
    QuantityBelowMinimum = 7,
    QuantityAboveMaximum = 8,
    NotionalBelowExchangeMinimum = 9,
    DailyLossLimitBreached = 10,
    DrawdownLimitBreached = 11,
}

/// <summary>
/// One denial reason with the limit it was held to and the actual value, e.g.
/// NotionalAboveLimit, limit 10000, actual 12500. For KillSwitchActive both are 0 and 1
/// (limit: off; actual: on).
/// </summary>
public readonly record struct RiskReason(RiskReasonCode Code, decimal Limit, decimal Actual)
{
    public override string ToString() => string.Create(
        CultureInfo.InvariantCulture,
        $"{Code}: actual {DecimalText.Format(Actual)}, limit {DecimalText.Format(Limit)}");
}
