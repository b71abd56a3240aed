namespace TradeEngine.PaperExchange.Engine;

/// <summary>A request refused with one of Binance's codes; the venue layer turns it into <c>{"code":..,"msg":..}</c>.</summary>
public sealed class VenueRejection(int code, string message, int httpStatus = 400) : Exception(message)
{
    public int Code { get; } = code;

    public int HttpStatus { get; } = httpStatus;
}

/// <summary>Binance USD-M error codes and messages as the simulator answers them.</summary>
public static class VenueErrors
{
    public static VenueRejection BadSymbol() => new(-1121, "Invalid symbol.");

    public static VenueRejection Mandatory(string name) =>
        new(-1102, $"Mandatory parameter '{name}' was not sent, was empty/null, or malformed.");

    /// <summary>A decimal parameter that is not digits with an optional fraction (Binance's answer, regex and all).</summary>
    public static VenueRejection IllegalDecimal(string name) =>
        new(-1100, $"Illegal characters found in parameter '{name}'; legal range is '^([0-9]{{1,20}})(\\.[0-9]{{1,20}})?$'.");

    /// <summary>An integer parameter (an id, a time, a count) that is not 1 to 20 digits: Binance's answer, regex and all.</summary>
    public static VenueRejection IllegalInteger(string name) =>
        new(-1100, $"Illegal characters found in parameter '{name}'; legal range is '^[0-9]{{1,20}}$'.");

    /// <summary>A client order id (newClientOrderId, clientAlgoId) with a character outside Binance's pattern.</summary>
    public static VenueRejection IllegalClientId(string name) =>
        new(-1100, $"Illegal characters found in parameter '{name}'; legal range is '^[\\.A-Z\\:/a-z0-9_-]{{1,36}}$'.");

    public static VenueRejection IllegalValue(string name) => new(-1130, $"Data sent for parameter '{name}' is not valid.");

    public static VenueRejection LookupTooLong(int hours) => new(-1127, $"More than {hours} hours between startTime and endTime.");

    public static VenueRejection BadParameterCombination() => new(-1128, "Combination of optional parameters invalid.");

    public static VenueRejection NoSuchOrder() => new(-2013, "Order does not exist.");

    /// <summary>CANCEL_REJECTED: a cancel of an order the venue does not hold open (unknown, filled, triggered or cancelled).</summary>
    public static VenueRejection CancelRejected() => new(-2011, "Unknown order sent.");

    public static VenueRejection MarginInsufficient() => new(-2019, "Margin is insufficient.");

    public static VenueRejection WouldTrigger() => new(-2021, "Order would immediately trigger.");

    public static VenueRejection ReduceOnlyRejected() => new(-2022, "ReduceOnly Order is rejected.");

    public static VenueRejection QuantityNotPositive() => new(-4003, "Quantity less than or equal to zero.");

    public static VenueRejection QuantityBelowMinimum() => new(-4004, "Quantity less than min quantity.");

    public static VenueRejection QuantityTooLarge() => new(-4005, "Quantity greater than max quantity.");

    public static VenueRejection PriceTooLow() => new(-4013, "Price less than min price.");

    public static VenueRejection PriceTooHigh() => new(-4002, "Price greater than max price.");

    /// <summary>PERCENT_PRICE: a BUY priced above mark price × multiplierUp.</summary>
    public static VenueRejection PriceAboveMultiplierCap() => new(-4016, "Price is higher than mark price multiplier cap.");

    /// <summary>PERCENT_PRICE: a SELL priced below mark price × multiplierDown.</summary>
    public static VenueRejection PriceBelowMultiplierFloor() => new(-4024, "Price is lower than mark price multiplier floor.");

    public static VenueRejection PriceOffTick() => new(-4014, "Price not increased by tick size.");

    public static VenueRejection QtyOffStep() => new(-4023, "Qty not increased by step size.");

    public static VenueRejection BadPrecision() => new(-1111, "Precision is over the maximum defined for this asset.");

    public static VenueRejection InvalidLeverage(int leverage) => new(-4028, $"Leverage {leverage} is not valid");

    public static VenueRejection NoNeedToChangeMarginType() => new(-4046, "No need to change margin type.");

    public static VenueRejection MarginTypeWithOpenOrders() => new(-4047, "Margin type cannot be changed if there exists open orders.");

    public static VenueRejection MarginTypeWithPosition() => new(-4048, "Margin type cannot be changed if there exists position.");

    public static VenueRejection MaxPositionAtLeverage() => new(-2027, "Exceeded the maximum allowable position at current leverage.");

    /// <summary>MIN_LEVERAGE_RATIO: a cross position's leverage lowered so far that its initial margin passes the available balance.</summary>
    public static VenueRejection LeverageBelowMarginBalance() => new(-2028, "Leverage is smaller than permitted: insufficient margin balance.");

    /// <summary>ISOLATED_LEVERAGE_REJECT_WITH_POSITION: an open isolated position's leverage lowered.</summary>
    public static VenueRejection IsolatedLeverageReductionWithPosition() =>
        new(-4161, "Leverage reduction is not supported in Isolated Margin Mode with open positions");

    public static VenueRejection InvalidSymbolStatus() => new(-4140, "Invalid symbol status for opening position.");

    public static VenueRejection DuplicateClientOrderId() => new(-4116, "ClientOrderId is duplicated.");

    /// <summary>POST /fapi/v1/positionSide/dual asking for the mode the account already has.</summary>
    public static VenueRejection NoNeedToChangePositionSide() => new(-4059, "No need to change position side.");

    public static VenueRejection PositionSideWithOpenOrders() => new(-4067, "Position side cannot be changed if there exists open orders.");

    public static VenueRejection PositionSideWithPosition() => new(-4068, "Position side cannot be changed if there exists position.");

    /// <summary>An order whose positionSide does not fit the account's mode (LONG or SHORT in one-way mode; BOTH or none in hedge mode).</summary>
    public static VenueRejection PositionSideMismatch() => new(-4061, "Order's position side does not match user's setting.");

    /// <summary>MAX_NUM_ORDERS reached for the symbol.</summary>
    public static VenueRejection MaxOpenOrders() => new(-2025, "Reach max open order limit.");

    /// <summary>MAX_NUM_ALGO_ORDERS reached for the symbol.</summary>
    public static VenueRejection MaxStopOrders() => new(-4045, "Reach max stop order limit.");

    /// <summary>A closePosition (GTE_GTC) order on a symbol with no position.</summary>
    public static VenueRejection GteWithoutPosition() => new(-4509, "TIF GTE can only be used with open positions.");

    /// <summary>A second open closePosition order of one type on one closing side of a symbol.</summary>
    public static VenueRejection ClosePositionOrderExists() =>
        new(-4130, "An open stop or take profit order with GTE and closePosition in the direction is existing.");

    public static VenueRejection UseAlgoEndpoint() =>
        new(-4120, "Order type not supported for this endpoint. Please use the Algo Order API endpoints instead.");

    public static VenueRejection InvalidOrderType() => new(-1116, "Invalid orderType.");

    public static VenueRejection InvalidTimeInForce() => new(-1115, "Invalid timeInForce.");

    public static VenueRejection InvalidSide() => new(-1117, "Invalid side.");

    /// <summary>QUANTITY_EXISTS_WITH_CLOSE_POSITION: a closePosition order sent with a quantity.</summary>
    public static VenueRejection QuantityWithClosePosition() => new(-4137, "Quantity must be zero with closePosition equals true");

    /// <summary>INVALID_CL_ORD_ID_LEN: a newClientOrderId or clientAlgoId longer than 36 characters.</summary>
    public static VenueRejection ClientOrderIdNotValid() => new(-4015, "Client order id is not valid.");

    public static VenueRejection NotRequired(string name) => new(-1106, $"Parameter '{name}' sent when not required.");

    /// <summary>
    /// A FOK order that cannot fill whole at once: refused and not recorded (Binance's reject reason, as its
    /// CONDITIONAL_ORDER_TRIGGER_REJECT event quotes it for a FOK).
    /// </summary>
    public static VenueRejection FokRejected() =>
        new(-5021, "Due to the order could not be filled immediately, the FOK order has been rejected. The order will not be recorded in the order history");

    public static VenueRejection PostOnly() =>
        new(-5022, "Due to the order could not be executed as maker, the Post Only order will be rejected.");

    public static VenueRejection MinNotional(decimal min) =>
        new(-4164, $"Order's notional must be no smaller than {TradeEngine.Domain.DecimalText.Format(min)} (unless you choose reduce only).");

    public static VenueRejection InvalidTimestamp() => new(-1021, "Timestamp for this request is outside of the recvWindow.");

    public static VenueRejection InvalidSignature() => new(-1022, "Signature for this request is not valid.");

    public static VenueRejection BadApiKeyFormat() => new(-2014, "API-key format invalid.", 401);

    public static VenueRejection RejectedKey() => new(-2015, "Invalid API-key, IP, or permissions for action.", 401);

    public static VenueRejection RecvWindow() => new(-1131, "recvWindow must be less than 60000");
}
