using Google.Protobuf.WellKnownTypes;
using Google.Rpc;
using Grpc.Core;

namespace TradeEngine.ServiceDefaults.Grpc;

/// <summary>What a gRPC status says about the call that failed with it.</summary>
public static class GrpcStatuses
{
    /// <summary>
    /// The callee did not answer or failed inside (down, restarting, overloaded, past the deadline, cancelled under us):
    /// the same request may land later, so it is asked again. Every other status is the callee's answer to the request
    /// itself, which asking again would not change.
    /// </summary>
    public static bool IsTransient(RpcException ex)
    {
        ArgumentNullException.ThrowIfNull(ex);
        return ex.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded or StatusCode.Internal or StatusCode.Unknown
            or StatusCode.ResourceExhausted or StatusCode.Aborted or StatusCode.Cancelled;
    }

    /// <summary>
    /// RESOURCE_EXHAUSTED with <c>google.rpc.RetryInfo</c>: a quota (the venue's rate limit, or this deployment's share
    /// of it) refused the request before it was sent, and asking again before <paramref name="retryDelay"/> is refused the
    /// same way. Our clients do not retry it at once (their policy retries UNAVAILABLE only); a caller that waits the
    /// delay may send the same request again.
    /// </summary>
    public static RpcException ResourceExhausted(string message, TimeSpan retryDelay)
    {
        var status = new Google.Rpc.Status
        {
            Code = (int)Code.ResourceExhausted,
            Message = message,
            Details = { Any.Pack(new RetryInfo { RetryDelay = Duration.FromTimeSpan(retryDelay > TimeSpan.Zero ? retryDelay : TimeSpan.Zero) }) },
        };
        return status.ToRpcException();
    }

    /// <summary>
    /// RESOURCE_EXHAUSTED for a venue read the venue client's rate limit held back (a back-off, or the client's share
    /// used up): nothing was sent; the delay is the client's estimate. <paramref name="heldBack"/> says what was held.
    /// </summary>
    public static RpcException VenueRateLimited(string heldBack, TimeSpan retryAfter) =>
        ResourceExhausted($"{heldBack} (nothing was sent); retry after {Math.Max(0, retryAfter.TotalSeconds):0.#} s", retryAfter);

    /// <summary>The delay a RESOURCE_EXHAUSTED status asks for (its <c>google.rpc.RetryInfo</c>), if it names one.</summary>
    public static TimeSpan? RetryDelay(RpcException ex)
    {
        ArgumentNullException.ThrowIfNull(ex);
        return ex.GetRpcStatus()?.GetDetail<RetryInfo>()?.RetryDelay?.ToTimeSpan();
    }
}
