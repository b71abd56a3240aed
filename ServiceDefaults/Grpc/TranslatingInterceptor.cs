using Grpc.Core;
using Grpc.Core.Interceptors;

namespace TradeEngine.ServiceDefaults.Grpc;

/// <summary>
/// A server interceptor that turns exceptions of one kind into gRPC statuses before the shared
/// <see cref="ExceptionInterceptor"/> sees them (register it after that one, so it runs inside it): a service's venue
/// errors, its database's. An exception it does not translate goes on as it was.
/// </summary>
public abstract class TranslatingInterceptor : Interceptor
{
    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        ArgumentNullException.ThrowIfNull(continuation);
        try
        {
            return await continuation(request, context).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not RpcException && Translate(ex, context) is { } translated)
        {
            throw translated;
        }
    }

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(
        TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context,
        ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        ArgumentNullException.ThrowIfNull(continuation);
        try
        {
            await continuation(request, responseStream, context).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not RpcException && Translate(ex, context) is { } translated)
        {
            throw translated;
        }
    }

    /// <summary>
    /// The status (an <see cref="RpcException"/>, or an exception the shared interceptor translates) for
    /// <paramref name="exception"/>; null to let it go on unchanged (it is then not caught at all). Runs in an exception
    /// filter: no awaits, and nothing that may throw.
    /// </summary>
    protected abstract Exception? Translate(Exception exception, ServerCallContext context);
}
