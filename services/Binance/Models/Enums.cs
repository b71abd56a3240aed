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

/// <summary>
/// The account's position mode (GET /fapi/v1/positionSide/dual), one setting for every USD-M symbol. One-way
/// (<c>dualSidePosition</c> false): one position a symbol, orders with positionSide BOTH or none. Hedge (true): a LONG and
/// a SHORT position a symbol, every order naming its side.
/// </summary>
public enum PositionMode
{
    OneWay,
    Hedge,
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

/// <summary>
/// The income types of GET /fapi/v1/income the client names. Any other type Binance sends (rebates, bonuses, options,
/// auto exchange and the like) reads as <see cref="Other"/>, with its text in <see cref="IncomeEntry.RawIncomeType"/>.
/// The capital flows (money moved into or out of the futures wallet, not earned or lost by trading) are named by
/// <see cref="IncomeTypes.IsCapitalFlow"/>.
/// </summary>
public enum IncomeType
{
    /// <summary>TRANSFER: to or from another wallet of the account (spot, funding).</summary>
    Transfer,
    RealizedPnl,
    FundingFee,
    Commission,
    InsuranceClear,
    /// <summary>INTERNAL_TRANSFER: between accounts (a sub-account, another user).</summary>
    InternalTransfer,
    /// <summary>CROSS_COLLATERAL_TRANSFER: the cross-collateral (CC) transfer.</summary>
    CrossCollateralTransfer,
    /// <summary>STRATEGY_UMFUTURES_TRANSFER: to or from a USD-M strategy sub-account.</summary>
    StrategyUmFuturesTransfer,
    /// <summary>COIN_SWAP_DEPOSIT: a coin swap's money coming in.</summary>
    CoinSwapDeposit,
    /// <summary>COIN_SWAP_WITHDRAW: a coin swap's money going out.</summary>
    CoinSwapWithdraw,
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
