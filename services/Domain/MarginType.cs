namespace TradeEngine.Domain;

/// <summary>Binance's margin modes: ISOLATED and CROSSED.</summary>
public enum MarginType
{
    Isolated = 1,
    Cross = 2,
}
