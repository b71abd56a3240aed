namespace TradeEngine.Binance.Errors;

/// <summary>Base of every error the client raises. Messages never contain a key, a secret or a signature.</summary>
public abstract class BinanceException : Exception
{
    protected BinanceException(string message, Exception? inner = null) : base(message, inner)
    {
    }

    /// <summary>The venue's error code (negative), or 0 when the venue gave none.</summary>
    public abstract int Code { get; }
}

/// <summary>The venue answered with an error code: a definite rejection, nothing was executed.</summary>
public sealed class BinanceApiException : BinanceException
{
    public BinanceApiException(int code, string venueMessage, int httpStatus, string endpoint)
        : base($"Binance {endpoint} rejected the request: {code} {venueMessage} (HTTP {httpStatus})")
    {
        Code = code;
        VenueMessage = venueMessage;
        HttpStatus = httpStatus;
        Endpoint = endpoint;
    }

    public override int Code { get; }

    public BinanceErrorKind Kind => BinanceErrors.KindOf(Code);

    public string VenueMessage { get; }

    public int HttpStatus { get; }

    public string Endpoint { get; }
}

/// <summary>429 (rate limit) or 418 (IP ban): the client backs off until <see cref="RetryAt"/>.</summary>
public sealed class BinanceRateLimitException : BinanceException
{
    public BinanceRateLimitException(int httpStatus, DateTimeOffset retryAt, string endpoint)
        : this(httpStatus, retryAt, endpoint, $"answered HTTP {httpStatus}")
    {
    }

    /// <param name="reason">Why nothing is sent (e.g. this client's own share of a limit is used up; nothing was asked).</param>
    public BinanceRateLimitException(int httpStatus, DateTimeOffset retryAt, string endpoint, string reason)
        : base($"Binance {endpoint} {reason}; no request is sent before {retryAt:O}")
    {
        HttpStatus = httpStatus;
        RetryAt = retryAt;
        Endpoint = endpoint;
    }

    public override int Code => BinanceErrors.TooManyRequests;

    public int HttpStatus { get; }

    public bool IsBan => HttpStatus == 418;

    public DateTimeOffset RetryAt { get; }

    /// <summary>
    /// How long after this refusal a request may go again (<see cref="RetryAt"/> less the client's now when it was
    /// raised, measured on the client's clock, so a caller on another clock can pass it on as a delay).
    /// </summary>
    public TimeSpan RetryAfter { get; init; }

    public string Endpoint { get; }
}

/// <summary>
/// The venue could not be reached or failed (5xx, timeout, dropped connection). On a call that is not an order it is
/// the plain failure; on an order it is definite: the order was NOT placed (it was never sent, e.g. the clock sync
/// failed, or its outcome was unknown until a look-up after its recvWindow expired found nothing), so sending it
/// again with the same idempotency key is safe.
/// </summary>
public sealed class BinanceUnavailableException : BinanceException
{
    public BinanceUnavailableException(string endpoint, string reason, Exception? inner = null)
        : base($"Binance {endpoint} is unavailable: {reason}", inner)
    {
        Endpoint = endpoint;
    }

    public override int Code => 0;

    public string Endpoint { get; }
}

/// <summary>
/// An order was sent, the outcome stayed unknown and the look-up by client order id could not settle it either.
/// The caller must reconcile by <see cref="ClientOrderId"/>; the client did not send the order again.
/// </summary>
public sealed class BinanceUnknownOrderOutcomeException : BinanceException
{
    public BinanceUnknownOrderOutcomeException(string symbol, string clientOrderId, Exception? inner = null)
        : base($"Outcome of order {clientOrderId} on {symbol} is unknown; reconcile by client order id", inner)
    {
        Symbol = symbol;
        ClientOrderId = clientOrderId;
    }

    public override int Code => 0;

    public string Symbol { get; }

    public string ClientOrderId { get; }
}

/// <summary>The client refused a request before sending it (bad input or configuration). Nothing reached the venue.</summary>
public sealed class BinanceRequestRefusedException : BinanceException
{
    public BinanceRequestRefusedException(BinanceErrorKind kind, string field, string reason)
        : base($"Refused before sending: {field}: {reason}")
    {
        Kind = kind;
        Field = field;
        Reason = reason;
    }

    public override int Code => 0;

    public BinanceErrorKind Kind { get; }

    public string Field { get; }

    public string Reason { get; }
}

/// <summary>The venue answered with a body the client could not read as the documented shape.</summary>
public sealed class BinanceProtocolException : BinanceException
{
    public BinanceProtocolException(string endpoint, string field, string reason, Exception? inner = null)
        : base($"Binance {endpoint} sent an unreadable {field}: {reason}", inner)
    {
        Endpoint = endpoint;
        Field = field;
    }

    public override int Code => 0;

    public string Endpoint { get; }

    public string Field { get; }
}
