using Grpc.Core;

namespace TradeEngine.ServiceDefaults.Tests.Grpc;

/// <summary>The smallest <see cref="ServerCallContext"/> the interceptors need: a method name, a token and the request's metadata.</summary>
internal sealed class TestServerCallContext(string method, CancellationToken cancellationToken = default, Metadata? headers = null) : ServerCallContext
{
    protected override string MethodCore => method;
    protected override string HostCore => "127.0.0.1";
    protected override string PeerCore => "ipv4:127.0.0.1:1";
    protected override DateTime DeadlineCore => DateTime.MaxValue;
    protected override Metadata RequestHeadersCore { get; } = headers ?? [];
    protected override CancellationToken CancellationTokenCore => cancellationToken;
    protected override Metadata ResponseTrailersCore { get; } = [];
    protected override Status StatusCore { get; set; }
    protected override WriteOptions? WriteOptionsCore { get; set; }
    protected override AuthContext AuthContextCore => new(null, []);

    protected override ContextPropagationToken CreatePropagationTokenCore(ContextPropagationOptions? options) =>
        throw new NotSupportedException();

    protected override Task WriteResponseHeadersAsyncCore(Metadata responseHeaders) => Task.CompletedTask;
}
