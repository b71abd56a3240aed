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
}
