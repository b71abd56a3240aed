using System.Security.Cryptography;
using System.Text;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;

namespace TradeEngine.ServiceDefaults.Grpc;

/// <summary>
/// Service identity between our own services: every gRPC call to Funding, Risk, Execution or the Ledger carries the
/// deployment's service key in the <see cref="HeaderName"/> request metadata, and a call without it is refused before
/// any of the service's code runs. Before, any process that reached a service's port could open or close positions,
/// write the system of record or latch the kill switch. The key is one secret per deployment (the AppHost generates
/// the parameter <c>service-key</c> for each run); metadata, not a message field, so it is never logged or traced. The
/// gRPC health service (the AppHost's and an orchestrator's probes) and, in Development, reflection need no key.
/// Resetting the kill switch needs the operator key besides (<see cref="OperatorKeyGuard"/>): a service may latch the
/// switch, only an operator may clear it.
/// </summary>
public static class ServiceKey
{
    /// <summary>The request metadata that carries the key (gRPC metadata names are lower case).</summary>
    public const string HeaderName = "x-service-key";

    /// <summary>The configuration key that holds it (environment <c>TradeEngine__ServiceKey</c>).</summary>
    public const string Setting = "TradeEngine:ServiceKey";

    /// <summary>The configured key, or null when none is configured.</summary>
    public static string? Read(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        return configuration[Setting] is { Length: > 0 } key ? key : null;
    }

    /// <summary>
    /// What is wrong with the configured key (missing, short, blank or not printable ASCII), naming the setting and never
    /// the key; null when it will do. Checked when a service starts and before a client sends its first call.
    /// </summary>
    public static string? Problem(IConfiguration configuration) =>
        Read(configuration) is { } key
            ? OperatorKeyGuard.Problem(key) is { } problem ? $"{Setting} {problem}." : null
            : $"{Setting} is not configured: every call between TradeEngine's services carries it ({HeaderName}); the AppHost generates one (parameter service-key).";

    internal static byte[] Hash(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));

    /// <summary>Whether a method is open without the key: the health service, and reflection (mapped in Development only).</summary>
    internal static bool IsOpen(string method) =>
        method.StartsWith("/grpc.health.v1.Health/", StringComparison.Ordinal)
        || method.StartsWith("/grpc.reflection.", StringComparison.Ordinal);
}

/// <summary>
/// The server half of <see cref="ServiceKey"/>: a call without the key is UNAUTHENTICATED, one with another key
/// PERMISSION_DENIED (logged with the method and the peer, never a key); compared by SHA-256 in constant time. Runs
/// before every other interceptor, for unary and streaming calls alike.
/// </summary>
public sealed partial class ServiceKeyInterceptor : Interceptor
{
    private readonly byte[] _keyHash;
    private readonly ILogger<ServiceKeyInterceptor> _logger;

    public ServiceKeyInterceptor(IConfiguration configuration, ILogger<ServiceKeyInterceptor> logger)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(logger);
        // The start-up check (AddGrpcServerDefaults) has refused a missing or weak key before any call gets here.
        _keyHash = ServiceKey.Hash(ServiceKey.Read(configuration) ?? throw new InvalidOperationException(ServiceKey.Problem(configuration)));
        _logger = logger;
    }

    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        ArgumentNullException.ThrowIfNull(continuation);
        Demand(context);
        return continuation(request, context);
    }

    public override Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream, ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        ArgumentNullException.ThrowIfNull(continuation);
        Demand(context);
        return continuation(requestStream, context);
    }

    public override Task ServerStreamingServerHandler<TRequest, TResponse>(
        TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        ArgumentNullException.ThrowIfNull(continuation);
        Demand(context);
        return continuation(request, responseStream, context);
    }

    public override Task DuplexStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context,
        DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        ArgumentNullException.ThrowIfNull(continuation);
        Demand(context);
        return continuation(requestStream, responseStream, context);
    }

    private void Demand(ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (ServiceKey.IsOpen(context.Method))
        {
            return;
        }

        var presented = context.RequestHeaders.GetValue(ServiceKey.HeaderName);
        if (string.IsNullOrEmpty(presented))
        {
            throw new RpcException(new Status(StatusCode.Unauthenticated,
                $"a service key ({ServiceKey.HeaderName}) is required: this service answers TradeEngine's own services only"));
        }

        if (!CryptographicOperations.FixedTimeEquals(ServiceKey.Hash(presented), _keyHash))
        {
            LogRefused(_logger, context.Method, context.Peer);
            throw new RpcException(new Status(StatusCode.PermissionDenied,
                $"the service key ({ServiceKey.HeaderName}) is not this deployment's: the call was refused"));
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Call to {Method} refused: wrong service key from {Peer}")]
    private static partial void LogRefused(ILogger logger, string method, string peer);
}

/// <summary>
/// The client half of <see cref="ServiceKey"/>: puts the key on every request of a gRPC channel (unary and streaming).
/// A process without a key configured fails its first call with the setting named, rather than being refused by the
/// service it calls.
/// </summary>
public sealed class ServiceKeyHandler : DelegatingHandler
{
    private readonly string? _key;
    private readonly string? _problem;

    /// <summary>For a channel of our services, reading the key from configuration.</summary>
    public ServiceKeyHandler(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        _problem = ServiceKey.Problem(configuration);
        _key = _problem is null ? ServiceKey.Read(configuration) : null;
    }

    /// <summary>For a channel built by hand (tests, tools), with the key and the handler that sends.</summary>
    public ServiceKeyHandler(string key, HttpMessageHandler inner)
        : base(inner)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        _key = key;
    }

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (_key is null)
        {
            throw new InvalidOperationException(_problem);
        }

        request.Headers.Remove(ServiceKey.HeaderName);
        request.Headers.TryAddWithoutValidation(ServiceKey.HeaderName, _key);
        return base.SendAsync(request, cancellationToken);
    }
}
