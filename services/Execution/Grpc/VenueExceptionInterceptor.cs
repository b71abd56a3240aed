using Grpc.Core;
using Grpc.Core.Interceptors;
using TradeEngine.Binance.Errors;
using TradeEngine.ServiceDefaults.Grpc;

namespace TradeEngine.Execution.Grpc;

/// <summary>
/// Turns venue errors into gRPC statuses before the shared <see cref="ExceptionInterceptor"/> sees them: a request the
/// client refused before sending is INVALID_ARGUMENT naming the field; a definite venue rejection is
/// FAILED_PRECONDITION with the exchange code; an unreachable venue, a rate limit or an order whose outcome stayed
/// unknown is UNAVAILABLE (the retry with the same client order id resumes by looking the order up).
/// </summary>
public sealed class VenueExceptionInterceptor : Interceptor
{
    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            return await continuation(request, context).ConfigureAwait(false);
        }
        catch (BinanceException ex)
        {
            throw Translate(ex);
        }
    }

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(
        TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context,
        ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            await continuation(request, responseStream, context).ConfigureAwait(false);
        }
        catch (BinanceException ex)
        {
            throw Translate(ex);
        }
    }

    public static Exception Translate(BinanceException ex) => ex switch
    {
        BinanceRequestRefusedException { Kind: BinanceErrorKind.DuplicateClientOrderId } duplicate =>
            new RpcException(new Status(StatusCode.AlreadyExists, "client_order_id: " + duplicate.Reason)),
        BinanceRequestRefusedException refused => new RequestValidationException(refused.Field, refused.Reason),
        BinanceApiException api => new RpcException(new Status(StatusCode.FailedPrecondition,
            $"venue: rejected with code {api.Code} ({api.VenueMessage})")),
        BinanceUnknownOrderOutcomeException unknown => new RpcException(new Status(StatusCode.Unavailable,
            $"venue: the outcome of order {unknown.ClientOrderId} is unknown; retry with the same client order id to resume")),
        _ => new RpcException(new Status(StatusCode.Unavailable, "venue: " + ex.Message)),
    };
}
