using Grpc.AspNetCore.Server;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Microsoft.Extensions.DependencyInjection;

namespace TradeEngine.Execution.Tests.Support;

/// <summary>
/// The Ledger as a release older than some of its RPCs: those answer UNIMPLEMENTED, as gRPC answers a method the
/// server does not have (a rolling upgrade that updated Execution first). Pass <see cref="Configure"/> to
/// <see cref="ExecutionStack.StartLedgerAsync"/>; <see cref="Refusals"/> counts the calls it turned away.
/// </summary>
public sealed class OlderLedger(params string[] missing)
{
    private readonly HashSet<string> _missing = new(missing, StringComparer.Ordinal);
    private int _refusals;

    public int Refusals => Volatile.Read(ref _refusals);

    public void Configure(IServiceCollection services)
    {
        services.AddSingleton(this);
        services.Configure<GrpcServiceOptions>(o => o.Interceptors.Add<Missing>());
    }

    private sealed class Missing(OlderLedger ledger) : Interceptor
    {
        public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
            TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
        {
            if (!ledger._missing.Contains(context.Method[(context.Method.LastIndexOf('/') + 1)..]))
            {
                return continuation(request, context);
            }

            Interlocked.Increment(ref ledger._refusals);
            throw new RpcException(new Status(StatusCode.Unimplemented, "Method is unimplemented."));
        }
    }
}
