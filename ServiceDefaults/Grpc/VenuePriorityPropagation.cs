using Grpc.Core;
using Grpc.Core.Interceptors;
using TradeEngine.Domain;

namespace TradeEngine.ServiceDefaults.Grpc;

/// <summary>
/// The client half of the venue priority's trip between our services: a call made while a priority other than normal is
/// current (<see cref="VenueRequestPriority.Current"/>) carries it in <see cref="VenueRequestPriority.HeaderName"/>, so
/// the service that answers reads the venue at the same priority (the margin monitor's account read is urgent in
/// Execution too). A normal call carries nothing. A call made under a hold limit (<see cref="VenueHoldLimit"/>: an open
/// holding its symbol's lock) carries what is left of it in <see cref="VenueHoldLimit.HeaderName"/>, so the venue reads
/// made for it in the other service (Funding's rate for the open's quote) are not held back longer either.
/// </summary>
public sealed class VenuePriorityHandler : DelegatingHandler
{
    public VenuePriorityHandler()
    {
    }

    /// <summary>For a channel built by hand (tests, tools), with the handler that sends.</summary>
    public VenuePriorityHandler(HttpMessageHandler inner)
        : base(inner)
    {
    }

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        request.Headers.Remove(VenueRequestPriority.HeaderName);
        if (VenueRequestPriority.Current is var priority and not VenuePriority.Normal)
        {
            request.Headers.TryAddWithoutValidation(VenueRequestPriority.HeaderName, VenueRequestPriority.ToWire(priority));
        }

        request.Headers.Remove(VenueHoldLimit.HeaderName);
        if (VenueHoldLimit.Current is { } left)
        {
            request.Headers.TryAddWithoutValidation(VenueHoldLimit.HeaderName, VenueHoldLimit.ToWire(left));
        }

        return base.SendAsync(request, cancellationToken);
    }
}

/// <summary>
/// The server half: a call that carries <see cref="VenueRequestPriority.HeaderName"/> is handled at that priority (only
/// our own services reach this, the service key having been checked first); without it, at normal priority. A value that
/// is not exactly <c>background</c>, <c>normal</c> or <c>urgent</c> is refused with INVALID_ARGUMENT before the
/// service's code runs. A call that carries <see cref="VenueHoldLimit.HeaderName"/> is handled under that hold limit
/// (without it, none); a value that is not 1 to 6 digits of milliseconds, at most 600000, is INVALID_ARGUMENT too.
/// </summary>
public sealed class VenuePriorityInterceptor : Interceptor
{
    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        ArgumentNullException.ThrowIfNull(continuation);
        using var scope = Enter(context);
        using var hold = EnterHoldLimit(context);
        return await continuation(request, context).ConfigureAwait(false);
    }

    public override async Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream, ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        ArgumentNullException.ThrowIfNull(continuation);
        using var scope = Enter(context);
        using var hold = EnterHoldLimit(context);
        return await continuation(requestStream, context).ConfigureAwait(false);
    }

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(
        TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        ArgumentNullException.ThrowIfNull(continuation);
        using var scope = Enter(context);
        using var hold = EnterHoldLimit(context);
        await continuation(request, responseStream, context).ConfigureAwait(false);
    }

    public override async Task DuplexStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context,
        DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        ArgumentNullException.ThrowIfNull(continuation);
        using var scope = Enter(context);
        using var hold = EnterHoldLimit(context);
        await continuation(requestStream, responseStream, context).ConfigureAwait(false);
    }

    private static VenueHoldLimit.Scope EnterHoldLimit(ServerCallContext context)
    {
        var text = context.RequestHeaders.GetValue(VenueHoldLimit.HeaderName);
        if (text is null)
        {
            return VenueHoldLimit.Enter(null);
        }

        if (!VenueHoldLimit.TryParseWire(text, out var limit))
        {
            var shown = text.Length > 32 ? text[..32] + "…" : text;
            throw new RpcException(new Status(StatusCode.InvalidArgument,
                $"{VenueHoldLimit.HeaderName}: '{shown}' is not a hold limit (whole milliseconds, 0 to {VenueHoldLimit.MaxWireMilliseconds})"));
        }

        return VenueHoldLimit.Enter(limit);
    }

    private static VenueRequestPriority.Scope Enter(ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var text = context.RequestHeaders.GetValue(VenueRequestPriority.HeaderName);
        if (text is null)
        {
            // The server's own flow may hold another priority (a test host in the caller's process): a call without the
            // header is a normal one.
            return VenueRequestPriority.Enter(VenuePriority.Normal);
        }

        if (!VenueRequestPriority.TryParseWire(text, out var priority))
        {
            var shown = text.Length > 32 ? text[..32] + "…" : text;
            throw new RpcException(new Status(StatusCode.InvalidArgument,
                $"{VenueRequestPriority.HeaderName}: '{shown}' is not a venue priority (background, normal or urgent)"));
        }

        return VenueRequestPriority.Enter(priority);
    }
}
