using Grpc.AspNetCore.Server;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Microsoft.Extensions.DependencyInjection;

namespace TradeEngine.Execution.Tests.Support;

/// <summary>
/// The Ledger as a release older than some of its RPCs: those answer UNIMPLEMENTED, as gRPC answers a method the
/// server does not have (a rolling upgrade that updated Execution first). Pass <see cref="Without"/> to
/// <see cref="ExecutionStack.StartLedgerAsync"/>.
/// </summary>
public static class OlderLedger
{
    public static Action<IServiceCollection> Without(params string[] methods) =>
        services => services.Configure<GrpcServiceOptions>(o => o.Interceptors.Add<Missing>(new HashSet<string>(methods, StringComparer.Ordinal)));

    private sealed class Missing(HashSet<string> methods) : Interceptor
    {
        public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
            TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation) =>
            methods.Contains(context.Method[(context.Method.LastIndexOf('/') + 1)..])
                ? throw new RpcException(new Status(StatusCode.Unimplemented, "Method is unimplemented."))
                : continuation(request, context);
    }
}
