namespace TradeEngine.Binance.Models;

public enum OrderSide
{
    Buy,
    Sell,
}

public enum OrderType
{
    Market,
    Limit,
}

/// <summary>Conditional orders, sent through the Algo Order API (<c>/fapi/v1/algoOrder</c>, algoType CONDITIONAL).</summary>
public enum ConditionalOrderType
{
    StopMarket,
    TakeProfitMarket,
}

public enum TimeInForce
{
    Gtc,
    Ioc,
    Fok,
    /// <summary>Post only (GTX).</summary>
    Gtx,
}

public enum WorkingType
{
    MarkPrice,
    ContractPrice,
}

public enum IncomeType
{
    Transfer,
    RealizedPnl,
    FundingFee,
    Commission,
    InsuranceClear,
    Other,
}

public enum OrderStatus
{
    New,
    PartiallyFilled,
    Filled,
    Canceled,
    Rejected,
    Expired,
    ExpiredInMatch,
}

public enum AlgoStatus
{
    New,
    Canceled,
    Triggering,
    Triggered,
    Finished,
    Rejected,
    Expired,
}
