using Grpc.Core;
using TradeEngine.Binance.Errors;
using TradeEngine.ServiceDefaults.Grpc;

namespace TradeEngine.Funding.Market;

/// <summary>
/// Venue failures as gRPC statuses: an unknown symbol is INVALID_ARGUMENT naming the field, a refused request is
/// INVALID_ARGUMENT naming the client's field, a service without the venue's API key is FAILED_PRECONDITION (its
/// configuration, not the caller's fault), a read the venue's rate limit holds back (not sent) is RESOURCE_EXHAUSTED
/// with the delay before a retry (<c>google.rpc.RetryInfo</c>), and an unreachable, unreadable or too slow venue is
/// UNAVAILABLE.
/// </summary>
public static class VenueCall
{
    /// <param name="call">The venue call.</param>
    /// <param name="symbolField">The request field an unknown symbol is named by.</param>
    /// <param name="caller">
    /// The caller's own token: a cancellation by it is the caller's (CANCELLED); any other (a load's own timeout, a
    /// load shared with callers who gave up) is the venue not answering in time, UNAVAILABLE.
    /// </param>
    public static async Task<T> Run<T>(Func<Task<T>> call, string symbolField = "symbol", CancellationToken caller = default)
    {
        ArgumentNullException.ThrowIfNull(call);
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (BinanceApiException ex) when (ex.Kind == BinanceErrorKind.InvalidApiKey)
        {
            // The venue refused this service's key (-2014, -2015): its configuration again. The venue's message names
            // no key.
            throw new RpcException(new Status(StatusCode.FailedPrecondition, "venue: the venue refused this service's API key: " + ex.Message));
        }
        catch (BinanceApiException ex) when (ex.Kind == BinanceErrorKind.InvalidSymbol)
        {
            throw new RequestValidationException(symbolField, "is not a symbol the venue lists");
        }
        catch (BinanceRequestRefusedException ex) when (ex.Kind == BinanceErrorKind.InvalidApiKey)
        {
            // This service's configuration, not the caller's request: it has no API key for the venue's signed endpoints
            // (the instrument catalog reads leverageBracket). The reason names the settings, never a value.
            throw new RpcException(new Status(StatusCode.FailedPrecondition, "venue: this service is not configured for the venue: " + ex.Reason));
        }
        catch (BinanceRequestRefusedException ex)
        {
            throw new RequestValidationException(ex.Field == "symbol" ? symbolField : ex.Field, ex.Reason);
        }
        catch (BinanceRateLimitException ex)
        {
            // Held back by the venue's rate limit (a back-off, or this client's share used up): nothing was sent, and a
            // retry before the delay is refused the same way.
            throw GrpcStatuses.VenueRateLimited("The venue's rate limit holds this read back", ex.RetryAfter);
        }
        catch (BinanceException ex)
        {
            throw new RpcException(new Status(StatusCode.Unavailable, "The venue could not answer: " + ex.GetType().Name), ex.Message);
        }
        catch (HttpRequestException ex)
        {
            throw new RpcException(new Status(StatusCode.Unavailable, "The venue cannot be reached."), ex.Message);
        }
        catch (OperationCanceledException ex) when (!caller.IsCancellationRequested)
        {
            // A timeout of the load itself (the rate's 15 s, the catalog's 30 s), not the caller's: before, INTERNAL,
            // which no caller retries.
            throw new RpcException(new Status(StatusCode.Unavailable, "The venue did not answer in time."), ex.Message);
        }
    }
}
