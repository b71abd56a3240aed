using Google.Rpc;
using Grpc.Core;
using Microsoft.Extensions.Logging.Abstractions;
using TradeEngine.Domain;
using TradeEngine.ServiceDefaults.Grpc;

namespace TradeEngine.ServiceDefaults.Tests.Grpc;

public sealed class ExceptionInterceptorTests
{
    private readonly ExceptionInterceptor interceptor = new(NullLogger<ExceptionInterceptor>.Instance);

    [Fact]
    public async Task UnaryServerHandler_ValidationFailure_InvalidArgumentWithFieldViolation()
    {
        var ex = await Assert.ThrowsAsync<RpcException>(() => interceptor.UnaryServerHandler<string, string>(
            "request", new TestServerCallContext("/t/M"), (_, _) => throw new RequestValidationException("quantity", "must be greater than zero")));

        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
        var badRequest = ex.GetRpcStatus()!.GetDetail<BadRequest>();
        var violation = Assert.Single(badRequest.FieldViolations);
        Assert.Equal("quantity", violation.Field);
        Assert.Equal("must be greater than zero", violation.Description);
    }

    [Fact]
    public async Task UnaryServerHandler_DomainException_InvalidArgumentNamingField()
    {
        var ex = await Assert.ThrowsAsync<RpcException>(() => interceptor.UnaryServerHandler<string, string>(
            "request", new TestServerCallContext("/t/M"), (_, _) => throw new DomainException("leverage", "must be between 1 and 125")));

        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
        Assert.Equal("leverage", Assert.Single(ex.GetRpcStatus()!.GetDetail<BadRequest>().FieldViolations).Field);
    }

    [Fact]
    public async Task UnaryServerHandler_UnexpectedException_InternalWithoutDetails()
    {
        var ex = await Assert.ThrowsAsync<RpcException>(() => interceptor.UnaryServerHandler<string, string>(
            "request", new TestServerCallContext("/t/M"),
            (_, _) => throw new InvalidOperationException("Password=hunter2 at Host=db")));

        Assert.Equal(StatusCode.Internal, ex.StatusCode);
        Assert.DoesNotContain("hunter2", ex.Status.Detail, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnaryServerHandler_RpcException_PassesThroughUnchanged()
    {
        var original = new RpcException(new global::Grpc.Core.Status(StatusCode.NotFound, "position not found"));

        var ex = await Assert.ThrowsAsync<RpcException>(() => interceptor.UnaryServerHandler<string, string>(
            "request", new TestServerCallContext("/t/M"), (_, _) => throw original));

        Assert.Same(original, ex);
    }
}
