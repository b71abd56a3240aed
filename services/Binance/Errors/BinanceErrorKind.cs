namespace TradeEngine.Binance.Errors;

/// <summary>What an exchange error code means to a caller. The code itself is always kept beside it.</summary>
public enum BinanceErrorKind
{
    Unknown = 0,
    Unauthorized,
    TooManyRequests,
    InvalidTimestamp,
    InvalidSignature,
    InvalidApiKey,
    MandatoryParameter,
    InvalidParameter,
    BadPrecision,
    InvalidSymbol,
    OrderNotFound,
    DuplicateClientOrderId,
    MarginInsufficient,
    ReduceOnlyRejected,
    QuantityTooSmall,
    QuantityTooLarge,
    PriceOffTick,
    QuantityOffStep,
    MinNotional,
    InvalidLeverage,
    NoNeedToChangeMarginType,
    NoNeedToChangePositionSide,
    OrderWouldTrigger,
    UnsupportedOrderType,
    ServerBusy,

    /// <summary>PERCENT_PRICE: the price is too far from the mark price (-4016, -4024, -4131).</summary>
    PriceOutsideBand,

    /// <summary>The venue refused the order outright (-2010, -2020, -2025, -5021); nothing executed.</summary>
    OrderRejected,
}
