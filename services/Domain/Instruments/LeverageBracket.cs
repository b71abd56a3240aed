namespace TradeEngine.Domain.Instruments;

/// <summary>
/// One row of Binance's GET /fapi/v1/leverageBracket, with its field names: a position whose
/// notional lies in (NotionalFloor, NotionalCap] may use up to InitialLeverage, and its
/// maintenance margin is notional × MaintMarginRatio − Cum. Cum (the "maintenance amount")
/// makes that margin continuous across bracket edges.
/// </summary>
public readonly record struct LeverageBracket
{
    public LeverageBracket(int bracket, int initialLeverage, decimal notionalCap, decimal notionalFloor, decimal maintMarginRatio, decimal cum)
    {
        if (bracket < 1)
        {
            Guard.Fail("bracket", "must be 1 or more");
        }

        if (initialLeverage is < Leverage.Min or > Leverage.Max)
        {
            Guard.Fail("initialLeverage", "must be an integer from 1 to 125");
        }

        Guard.NonNegative(notionalFloor, "notionalFloor");
        if (notionalCap <= notionalFloor)
        {
            Guard.Fail("notionalCap", "must be greater than notionalFloor");
        }

        if (maintMarginRatio is <= 0m or >= 1m)
        {
            Guard.Fail("maintMarginRatio", "must be greater than 0 and less than 1");
        }

        Bracket = bracket;
        InitialLeverage = initialLeverage;
        NotionalCap = notionalCap;
        NotionalFloor = notionalFloor;
        MaintMarginRatio = maintMarginRatio;
        Cum = Guard.NonNegative(cum, "cum");
    }

    public int Bracket { get; }
    public int InitialLeverage { get; }
    public decimal NotionalCap { get; }
    public decimal NotionalFloor { get; }
    public decimal MaintMarginRatio { get; }
    public decimal Cum { get; }

    /// <summary>Maintenance margin of a position of this notional, were it in this bracket.</summary>
    public decimal MaintenanceMargin(decimal notional) => notional * MaintMarginRatio - Cum;
}
