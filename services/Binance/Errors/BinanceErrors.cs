using System.Collections.Frozen;

namespace TradeEngine.Binance.Errors;

/// <summary>
/// Binance USD-M error codes, mapped once. Messages are the documented ones
/// (developers.binance.com, "Error Codes" of USDⓈ-M futures); PaperExchange answers with the same pairs.
/// </summary>
public static class BinanceErrors
{
    public const int Unknown = -1000;
    public const int Disconnected = -1001;
    public const int Unauthorized = -1002;
    public const int TooManyRequests = -1003;
    public const int UnexpectedResponse = -1006;
    public const int Timeout = -1007;
    public const int ServerOverloaded = -1008;
    public const int TooManyOrders = -1015;
    public const int InvalidTimestamp = -1021;
    public const int InvalidSignature = -1022;
    public const int IllegalChars = -1100;
    public const int MandatoryParamEmptyOrMalformed = -1102;
    public const int BadPrecision = -1111;
    public const int InvalidParameter = -1130;
    public const int InvalidTimeInForce = -1115;
    public const int InvalidOrderType = -1116;
    public const int InvalidSide = -1117;
    public const int ParamNotRequired = -1106;
    public const int InvalidRecvWindow = -1131;
    public const int FokOrderRejected = -5021;
    public const int PostOnlyRejected = -5022;
    public const int MarginTypeChangeWithOpenOrders = -4047;
    public const int MarginTypeChangeWithPosition = -4048;
    public const int MaxPositionForLeverage = -2027;
    public const int BadSymbol = -1121;
    public const int NoSuchOrder = -2013;
    public const int CancelRejected = -2011;
    public const int BadApiKeyFormat = -2014;
    public const int RejectedMbxKey = -2015;
    public const int NewOrderRejected = -2010;
    public const int MarginNotSufficient = -2019;
    public const int UnableToFill = -2020;
    public const int OrderWouldImmediatelyTrigger = -2021;
    public const int ReduceOnlyReject = -2022;
    public const int MaxOpenOrderExceeded = -2025;
    public const int MaxStopOrderLimit = -4045;
    public const int PositionSideMismatch = -4061;
    public const int PriceLessThanZero = -4001;
    public const int PriceGreaterThanMax = -4002;
    public const int QuantityLessThanZero = -4003;
    public const int QuantityLessThanMin = -4004;
    public const int QuantityGreaterThanMax = -4005;
    public const int StopPriceLessThanZero = -4006;
    public const int StopPriceGreaterThanMax = -4007;
    public const int PriceLessThanMin = -4013;
    public const int PriceNotIncreasedByTickSize = -4014;
    public const int InvalidClientOrderIdLength = -4015;
    public const int PriceHigherThanMultiplierUp = -4016;
    public const int PriceLowerThanMultiplierDown = -4024;
    public const int InvalidLeverage = -4028;
    public const int StepSizeMismatch = -4023;
    public const int NoNeedToChangeMarginType = -4046;
    public const int NoNeedToChangePositionSide = -4059;
    public const int PositionSideChangeWithOpenOrders = -4067;
    public const int PositionSideChangeWithPosition = -4068;
    public const int DuplicatedClientOrderId = -4116;
    public const int UnsupportedOrderTypeOnEndpoint = -4120;

    /// <summary>
    /// A closePosition conditional order of this type and direction is already open on the symbol: Binance keeps one
    /// (one STOP_MARKET and one TAKE_PROFIT_MARKET per closing side), so a replacement waits for the old one's cancel.
    /// </summary>
    public const int ClosePositionOrderExists = -4130;

    /// <summary>
    /// A closePosition (GTE_GTC) order with no position to close. Binance also answers it for a stop-loss sent right
    /// after the opening fill, before the position shows on its side (reported by several live clients): worth a
    /// short retry then.
    /// </summary>
    public const int GteWithoutPosition = -4509;
    public const int MarketOrderOutsidePercentPrice = -4131;
    public const int PositionNotSufficient = -2024;
    public const int ReduceOnlyOrderTypeNotSupported = -2026;
    public const int MinLeverageRatio = -2028;
    public const int ReduceOnlyMarginCheckFailed = -4118;
    public const int QuantityWithClosePosition = -4137;
    public const int ReduceOnlyMustBeTrue = -4138;
    public const int InvalidOpeningPositionStatus = -4140;
    public const int SymbolAlreadyClosed = -4141;

    /// <summary>
    /// ISOLATED_LEVERAGE_REJECT_WITH_POSITION: an open isolated position's leverage cannot be lowered (its margin was
    /// fixed at the leverage it was opened at). Nothing changed; close the position, or raise the leverage instead.
    /// </summary>
    public const int IsolatedLeverageReductionWithPosition = -4161;

    /// <summary>The conditional (algo) order's counterpart of -2021: its trigger price would trigger at once.</summary>
    public const int StrategyInvalidTriggerPrice = -4142;
    public const int MinNotional = -4164;

    private static readonly FrozenDictionary<int, (BinanceErrorKind Kind, string Message)> Map =
        new Dictionary<int, (BinanceErrorKind, string)>
        {
            [Unknown] = (BinanceErrorKind.Unknown, "An unknown error occured while processing the request."),
            [Disconnected] = (BinanceErrorKind.ServerBusy, "Internal error; unable to process your request. Please try again."),
            [Unauthorized] = (BinanceErrorKind.Unauthorized, "You are not authorized to execute this request."),
            [TooManyRequests] = (BinanceErrorKind.TooManyRequests, "Too many requests; please use the websocket for live updates."),
            [UnexpectedResponse] = (BinanceErrorKind.Unknown, "An unexpected response was received from the message bus. Execution status unknown."),
            [ServerOverloaded] = (BinanceErrorKind.ServerBusy, "Server is currently overloaded with other requests. Please try again in a few minutes."),
            [TooManyOrders] = (BinanceErrorKind.TooManyRequests, "Too many new orders."),
            [Timeout] = (BinanceErrorKind.ServerBusy, "Timeout waiting for response from backend server. Send status unknown; execution status unknown."),
            [InvalidTimestamp] = (BinanceErrorKind.InvalidTimestamp, "Timestamp for this request is outside of the recvWindow."),
            [InvalidSignature] = (BinanceErrorKind.InvalidSignature, "Signature for this request is not valid."),
            [IllegalChars] = (BinanceErrorKind.InvalidParameter, "Illegal characters found in a parameter."),
            [MandatoryParamEmptyOrMalformed] = (BinanceErrorKind.MandatoryParameter, "A mandatory parameter was not sent, was empty/null, or malformed."),
            [BadPrecision] = (BinanceErrorKind.BadPrecision, "Precision is over the maximum defined for this asset."),
            [InvalidParameter] = (BinanceErrorKind.InvalidParameter, "Invalid data sent for a parameter."),
            [InvalidTimeInForce] = (BinanceErrorKind.InvalidParameter, "Invalid timeInForce."),
            [InvalidOrderType] = (BinanceErrorKind.InvalidParameter, "Invalid orderType."),
            [InvalidSide] = (BinanceErrorKind.InvalidParameter, "Invalid side."),
            [ParamNotRequired] = (BinanceErrorKind.InvalidParameter, "Parameter was sent when not required."),
            [InvalidRecvWindow] = (BinanceErrorKind.InvalidParameter, "recvWindow must be less than 60000"),
            [FokOrderRejected] = (BinanceErrorKind.OrderRejected, "Due to the order could not be filled immediately, the FOK order has been rejected."),
            [PostOnlyRejected] = (BinanceErrorKind.InvalidParameter, "Due to the order could not be executed as maker, the Post Only order will be rejected."),
            [MarginTypeChangeWithOpenOrders] = (BinanceErrorKind.InvalidParameter, "Margin type cannot be changed if there exists open orders."),
            [MarginTypeChangeWithPosition] = (BinanceErrorKind.InvalidParameter, "Margin type cannot be changed if there exists position."),
            [MaxPositionForLeverage] = (BinanceErrorKind.InvalidLeverage, "Exceeded the maximum allowable position at current leverage."),
            [BadSymbol] = (BinanceErrorKind.InvalidSymbol, "Invalid symbol."),
            [NoSuchOrder] = (BinanceErrorKind.OrderNotFound, "Order does not exist."),
            [CancelRejected] = (BinanceErrorKind.OrderNotFound, "Unknown order sent."),
            [BadApiKeyFormat] = (BinanceErrorKind.InvalidApiKey, "API-key format invalid."),
            [RejectedMbxKey] = (BinanceErrorKind.InvalidApiKey, "Invalid API-key, IP, or permissions for action."),
            [NewOrderRejected] = (BinanceErrorKind.OrderRejected, "NEW_ORDER_REJECTED"),
            [MarginNotSufficient] = (BinanceErrorKind.MarginInsufficient, "Margin is insufficient."),
            [UnableToFill] = (BinanceErrorKind.OrderRejected, "Unable to fill."),
            [OrderWouldImmediatelyTrigger] = (BinanceErrorKind.OrderWouldTrigger, "Order would immediately trigger."),
            [ReduceOnlyReject] = (BinanceErrorKind.ReduceOnlyRejected, "ReduceOnly Order is rejected."),
            [MaxOpenOrderExceeded] = (BinanceErrorKind.OrderRejected, "Reach max open order limit."),
            [MaxStopOrderLimit] = (BinanceErrorKind.OrderRejected, "Reach max stop order limit."),
            [PositionSideMismatch] = (BinanceErrorKind.OrderRejected, "Order's position side does not match user's setting."),
            [PriceLessThanZero] = (BinanceErrorKind.InvalidParameter, "Price less than 0."),
            [PriceGreaterThanMax] = (BinanceErrorKind.InvalidParameter, "Price greater than max price."),
            [QuantityLessThanZero] = (BinanceErrorKind.QuantityTooSmall, "Quantity less than or equal to zero."),
            [QuantityLessThanMin] = (BinanceErrorKind.QuantityTooSmall, "Quantity less than min quantity."),
            [QuantityGreaterThanMax] = (BinanceErrorKind.QuantityTooLarge, "Quantity greater than max quantity."),
            [StopPriceLessThanZero] = (BinanceErrorKind.InvalidParameter, "Stop price less than zero."),
            [StopPriceGreaterThanMax] = (BinanceErrorKind.InvalidParameter, "Stop price greater than max price."),
            [PriceLessThanMin] = (BinanceErrorKind.InvalidParameter, "Price less than min price."),
            [PriceNotIncreasedByTickSize] = (BinanceErrorKind.PriceOffTick, "Price not increased by tick size."),
            [InvalidClientOrderIdLength] = (BinanceErrorKind.InvalidParameter, "Client order id is not valid."),
            [PriceHigherThanMultiplierUp] = (BinanceErrorKind.PriceOutsideBand, "Price is higher than mark price multiplier cap."),
            [PriceLowerThanMultiplierDown] = (BinanceErrorKind.PriceOutsideBand, "Price is lower than mark price multiplier floor."),
            [StepSizeMismatch] = (BinanceErrorKind.QuantityOffStep, "Qty not increased by step size."),
            [InvalidLeverage] = (BinanceErrorKind.InvalidLeverage, "Leverage is not valid"),
            [NoNeedToChangeMarginType] = (BinanceErrorKind.NoNeedToChangeMarginType, "No need to change margin type."),
            [NoNeedToChangePositionSide] = (BinanceErrorKind.NoNeedToChangePositionSide, "No need to change position side."),
            [PositionSideChangeWithOpenOrders] = (BinanceErrorKind.InvalidParameter, "Position side cannot be changed if there exists open orders."),
            [PositionSideChangeWithPosition] = (BinanceErrorKind.InvalidParameter, "Position side cannot be changed if there exists position."),
            [DuplicatedClientOrderId] = (BinanceErrorKind.DuplicateClientOrderId, "ClientOrderId is duplicated."),
            [UnsupportedOrderTypeOnEndpoint] = (BinanceErrorKind.UnsupportedOrderType, "Order type not supported for this endpoint. Please use the Algo Order API endpoints instead."),
            [MarketOrderOutsidePercentPrice] = (BinanceErrorKind.PriceOutsideBand, "The counterparty's best price does not meet the PERCENT_PRICE filter limit"),
            [MinNotional] = (BinanceErrorKind.MinNotional, "Order's notional must be no smaller than 5 (unless you choose reduce only)."),
            [ClosePositionOrderExists] = (BinanceErrorKind.OrderRejected, "An open stop or take profit order with GTE and closePosition in the direction is existing."),
            [GteWithoutPosition] = (BinanceErrorKind.OrderRejected, "TIF GTE can only be used with open positions."),
            [PositionNotSufficient] = (BinanceErrorKind.ReduceOnlyRejected, "Position is not sufficient."),
            [ReduceOnlyOrderTypeNotSupported] = (BinanceErrorKind.UnsupportedOrderType, "This OrderType is not supported when reduceOnly."),
            [MinLeverageRatio] = (BinanceErrorKind.InvalidLeverage, "Leverage is smaller than permitted: insufficient margin balance."),
            [IsolatedLeverageReductionWithPosition] = (BinanceErrorKind.InvalidLeverage, "Leverage reduction is not supported in Isolated Margin Mode with open positions"),
            [ReduceOnlyMarginCheckFailed] = (BinanceErrorKind.ReduceOnlyRejected, "ReduceOnly Order Failed. Please check your existing position and open orders"),
            [QuantityWithClosePosition] = (BinanceErrorKind.InvalidParameter, "Quantity must be zero with closePosition equals true"),
            [ReduceOnlyMustBeTrue] = (BinanceErrorKind.InvalidParameter, "Reduce only must be true with closePosition equals true"),
            [InvalidOpeningPositionStatus] = (BinanceErrorKind.OrderRejected, "Invalid symbol status for opening position"),
            [SymbolAlreadyClosed] = (BinanceErrorKind.OrderRejected, "Symbol is closed"),
            [StrategyInvalidTriggerPrice] = (BinanceErrorKind.OrderWouldTrigger, "REJECT: take profit or stop order will be triggered immediately"),
        }.ToFrozenDictionary();

    public static BinanceErrorKind KindOf(int code) => Map.TryGetValue(code, out var e) ? e.Kind : BinanceErrorKind.Unknown;

    /// <summary>The documented message for a code (PaperExchange answers with it).</summary>
    public static string MessageOf(int code) => Map.TryGetValue(code, out var e) ? e.Message : "An unknown error occured while processing the request.";

    /// <summary>
    /// The codes that say an order was refused before it reached the matching engine. This is an allowlist on
    /// purpose: Binance documents -1000, -1001, -1006 and -1007 as "execution status unknown", and a code we have
    /// not mapped (a new one, or one Binance sends in a case we never saw) must be treated the same way, so an
    /// order is only ever called rejected when the code is known to mean that nothing executed.
    /// </summary>
    private static readonly FrozenSet<int> DefiniteOrderRejections = new[]
    {
        Unauthorized, TooManyRequests, TooManyOrders, InvalidTimestamp, InvalidSignature, IllegalChars,
        MandatoryParamEmptyOrMalformed, BadPrecision, InvalidParameter, InvalidTimeInForce, InvalidOrderType, InvalidSide,
        ParamNotRequired, InvalidRecvWindow, FokOrderRejected, PostOnlyRejected, MaxPositionForLeverage, BadSymbol,
        BadApiKeyFormat, RejectedMbxKey, NewOrderRejected, MarginNotSufficient, UnableToFill, OrderWouldImmediatelyTrigger,
        ReduceOnlyReject, MaxOpenOrderExceeded, MaxStopOrderLimit, PositionSideMismatch,

        // 40xx filter failures: the order was checked against the symbol's filters and refused.
        PriceLessThanZero, PriceGreaterThanMax, QuantityLessThanZero, QuantityLessThanMin, QuantityGreaterThanMax,
        StopPriceLessThanZero, StopPriceGreaterThanMax, PriceLessThanMin, PriceNotIncreasedByTickSize,
        InvalidClientOrderIdLength, PriceHigherThanMultiplierUp, StepSizeMismatch, PriceLowerThanMultiplierDown,
        InvalidLeverage, DuplicatedClientOrderId, UnsupportedOrderTypeOnEndpoint, MarketOrderOutsidePercentPrice, MinNotional,
        ClosePositionOrderExists, GteWithoutPosition,

        // Order-rule refusals from the same list (reduce-only and closePosition rules, the symbol's trading status, a
        // conditional order that would trigger at once): each is an answer to the order, which did not execute.
        PositionNotSufficient, ReduceOnlyOrderTypeNotSupported, MinLeverageRatio, ReduceOnlyMarginCheckFailed,
        QuantityWithClosePosition, ReduceOnlyMustBeTrue, InvalidOpeningPositionStatus, SymbolAlreadyClosed,
        StrategyInvalidTriggerPrice,

        // A leverage change refused (like -2027 and -2028 above): nothing changed.
        IsolatedLeverageReductionWithPosition,
    }.ToFrozenSet();

    /// <summary>Codes Binance documents as "execution status unknown" (or an internal failure that may have run).</summary>
    private static readonly FrozenSet<int> UnknownOutcomeCodes = new[] { Unknown, Disconnected, UnexpectedResponse, Timeout }.ToFrozenSet();

    /// <summary>
    /// True only for codes that say an order was refused before it could execute, so sending the same order again
    /// cannot create a second one. Anything else (including codes not in the allowlist) means the outcome is unknown.
    /// </summary>
    public static bool IsDefiniteRejection(int code) => DefiniteOrderRejections.Contains(code);

    /// <summary>
    /// Refusals of the caller rather than of the request: its rate (-1003, -1015), the venue's load (-1008), its clock
    /// (-1021, after the transport's one re-sync) or its credentials and their permissions (-1002, -1022, -2014, -2015,
    /// which an operator can mend at the venue without a restart), and the "status unknown" codes. The same request may
    /// pass later; any other code is the venue's answer to the request itself (an unknown symbol, an order that does
    /// not exist, a parameter it will never take), and asking again would get the same answer.
    /// </summary>
    private static readonly FrozenSet<int> TemporaryRefusals = new[]
    {
        Unknown, Disconnected, Unauthorized, TooManyRequests, UnexpectedResponse, Timeout, ServerOverloaded, TooManyOrders,
        InvalidTimestamp, InvalidSignature, BadApiKeyFormat, RejectedMbxKey,
    }.ToFrozenSet();

    /// <summary>Whether the same request may pass later (see <see cref="TemporaryRefusals"/>): retry it, do not give it up.</summary>
    public static bool MayPassLater(int code) => TemporaryRefusals.Contains(code);

    /// <summary>
    /// For calls that are not orders: the codes after which the call may be repeated (nothing to duplicate). Other
    /// codes on a read are the venue's answer and surface as <see cref="BinanceApiException"/>.
    /// </summary>
    public static bool IsUnknownOutcome(int code) => UnknownOutcomeCodes.Contains(code);
}
