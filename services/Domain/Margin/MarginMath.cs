using TradeEngine.Domain.Instruments;

namespace TradeEngine.Domain.Margin;

/// <summary>Margin requirements. All exact; round only where a figure is shown or posted.</summary>
public static class MarginMath
{
    /// <summary>Notional of a position: |size| × price.</summary>
    public static decimal Notional(decimal signedSize, decimal price) =>
        Math.Abs(signedSize) * Guard.Positive(price, nameof(price));

    /// <summary>Initial margin: notional / leverage.</summary>
    public static decimal InitialMargin(decimal notional, int leverage)
    {
        Guard.NonNegative(notional, nameof(notional));
        return notional / new Leverage(leverage).Value;
    }

    /// <summary>Maintenance margin from the brackets: notional × mmr − cum of the notional's bracket.</summary>
    public static decimal MaintenanceMargin(decimal notional, BracketTable brackets)
    {
        ArgumentNullException.ThrowIfNull(brackets);
        return brackets.MaintenanceMargin(Guard.NonNegative(notional, nameof(notional)));
    }

    /// <summary>
    /// The exchange's margin ratio, as Binance shows it: maintenance margin / margin balance
    /// (margin balance = wallet balance + unrealized PnL). The exchange liquidates when it
    /// reaches 1 (100 %). Not to be confused with the plan's health ratio in
    /// <see cref="MarginHealth"/>, which is the inverse, margin balance / maintenance. Null when
    /// the margin balance is zero or negative: the ratio is then unbounded and the account is
    /// past liquidation; so is a ratio past decimal's range (a margin balance of 1e-27 against a real maintenance).
    /// </summary>
    public static decimal? ExchangeMarginRatio(decimal maintenanceMargin, decimal marginBalance)
    {
        Guard.NonNegative(maintenanceMargin, nameof(maintenanceMargin));
        if (marginBalance <= 0m)
        {
            return null;
        }

        try
        {
            return maintenanceMargin / marginBalance;
        }
        catch (OverflowException)
        {
            // A margin balance so small against the maintenance that the ratio passes decimal's range: unbounded too.
            return null;
        }
    }
}
