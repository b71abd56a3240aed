using Grpc.Core;
using Grpc.Core.Interceptors;

namespace TradeEngine.ServiceDefaults.Grpc;

/// <summary>Gives every outbound unary call a deadline when neither the caller nor the propagated context set one.</summary>
public sealed class DefaultDeadlineInterceptor(TimeSpan deadline) : Interceptor
{
    public override AsyncUnaryCall<TResponse> AsyncUnaryCall<TRequest, TResponse>(
        TRequest request, ClientInterceptorContext<TRequest, TResponse> context,
        AsyncUnaryCallContinuation<TRequest, TResponse> continuation)
    {
        if (context.Options.Deadline is null)
        {
            context = new ClientInterceptorContext<TRequest, TResponse>(
                context.Method, context.Host, context.Options.WithDeadline(DateTime.UtcNow.Add(deadline)));
        }

        return continuation(request, context);
    }
}
