using Grpc.Core;
using TradeEngine.Binance.Errors;
using TradeEngine.ServiceDefaults.Grpc;

namespace TradeEngine.Execution.Grpc;

/// <summary>
/// Turns venue errors into gRPC statuses before the shared <see cref="ExceptionInterceptor"/> sees them: a request the
/// client refused before sending is INVALID_ARGUMENT naming the field; a definite venue rejection is
/// FAILED_PRECONDITION with the exchange code; an unreachable venue, a refusal of the moment (a rate limit, the venue's
/// load, the clock after the client's one re-sync: <see cref="BinanceErrors.MayPassLater"/>) or an order whose outcome
/// stayed unknown is UNAVAILABLE (the retry with the same client order id resumes by looking the order up). A request
/// the venue's rate limit (a 429 or 418 back-off, or this client's share used up) held back, not sent, is
/// RESOURCE_EXHAUSTED with the delay before a retry can go (<c>google.rpc.RetryInfo</c>): retried at once, it would be
/// refused again. This
/// service's own venue credentials, missing or refused, are FAILED_PRECONDITION: not the caller's request to mend
/// (INVALID_ARGUMENT would say it is), and no retry helps until an operator does.
/// </summary>
public sealed class VenueExceptionInterceptor : TranslatingInterceptor
{
    protected override Exception? Translate(Exception exception, ServerCallContext context) =>
        exception is BinanceException venue ? Translate(venue) : null;

    public static Exception Translate(BinanceException ex) => ex switch
    {
        BinanceRequestRefusedException { Kind: BinanceErrorKind.DuplicateClientOrderId } duplicate =>
            new RpcException(new Status(StatusCode.AlreadyExists, "client_order_id: " + duplicate.Reason)),
        BinanceRequestRefusedException { Kind: BinanceErrorKind.InvalidApiKey } unconfigured =>
            new RpcException(new Status(StatusCode.FailedPrecondition, "venue: this service is not configured for the venue: " + unconfigured.Reason)),
        BinanceRequestRefusedException refused => new RequestValidationException(refused.Field, refused.Reason),
        BinanceApiException { Kind: BinanceErrorKind.InvalidApiKey or BinanceErrorKind.Unauthorized or BinanceErrorKind.InvalidSignature } credentials =>
            new RpcException(new Status(StatusCode.FailedPrecondition,
                $"venue: the venue refused this service's credentials with code {credentials.Code} ({credentials.VenueMessage})")),
        BinanceApiException api when BinanceErrors.MayPassLater(api.Code) => new RpcException(new Status(StatusCode.Unavailable,
            $"venue: refused for the moment with code {api.Code} ({api.VenueMessage}); retry with the same client order id")),
        BinanceApiException api => new RpcException(new Status(StatusCode.FailedPrecondition,
            $"venue: rejected with code {api.Code} ({api.VenueMessage})")),
        BinanceRateLimitException limited => GrpcStatuses.ResourceExhausted(
            $"venue: {limited.Message}; retry with the same client order id after {RetryDelay(limited).TotalSeconds:0.#} s", RetryDelay(limited)),
        BinanceUnknownOrderOutcomeException unknown => new RpcException(new Status(StatusCode.Unavailable,
            $"venue: the outcome of order {unknown.ClientOrderId} is unknown; retry with the same client order id to resume")),
        _ => new RpcException(new Status(StatusCode.Unavailable, "venue: " + ex.Message)),
    };

    private static TimeSpan RetryDelay(BinanceRateLimitException limited) =>
        limited.RetryAfter > TimeSpan.Zero ? limited.RetryAfter : TimeSpan.Zero;
}
