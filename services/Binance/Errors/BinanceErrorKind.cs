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
    NoNeedToChangeLeverage,
    OrderWouldTrigger,
    UnsupportedOrderType,
    ServerBusy,
}
