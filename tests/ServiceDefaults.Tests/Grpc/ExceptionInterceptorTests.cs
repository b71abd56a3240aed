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
    public async Task UnaryServerHandler_RateLimitRefusal_ResourceExhaustedWithItsRetryDelayPassesThrough()
    {
        var ex = await Assert.ThrowsAsync<RpcException>(() => interceptor.UnaryServerHandler<string, string>(
            "request", new TestServerCallContext("/t/M"), (_, _) => throw GrpcStatuses.ResourceExhausted("venue: not sent", TimeSpan.FromSeconds(12.5))));

        Assert.Equal((StatusCode.ResourceExhausted, "venue: not sent"), (ex.StatusCode, ex.Status.Detail));
        Assert.Equal(TimeSpan.FromSeconds(12.5), GrpcStatuses.RetryDelay(ex));
        Assert.True(GrpcStatuses.IsTransient(ex));

        // A retry time already past asks for no delay, never a negative one; a status without RetryInfo names none.
        Assert.Equal(TimeSpan.Zero, GrpcStatuses.RetryDelay(GrpcStatuses.ResourceExhausted("x", TimeSpan.FromSeconds(-3))));
        Assert.Null(GrpcStatuses.RetryDelay(new RpcException(new global::Grpc.Core.Status(StatusCode.Unavailable, "x"))));
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

    /// <summary>
    /// Work cut short by the service stopping (its stopping token, not the caller's), and a call of ours to another service
    /// cancelled that way, are UNAVAILABLE, to be retried with the same key; the caller's own cancellation stays
    /// CANCELLED. Before, the first was INTERNAL, which reads as a defect, and the second CANCELLED, which is not retried.
    /// </summary>
    [Fact]
    public async Task UnaryServerHandler_CancelledNotByTheCaller_UnavailableAndTheCallersOwnCancellationCancelled()
    {
        using var stopping = new CancellationTokenSource();
        await stopping.CancelAsync();

        var cutShort = await Assert.ThrowsAsync<RpcException>(() => interceptor.UnaryServerHandler<string, string>(
            "request", new TestServerCallContext("/t/M"), (_, _) => throw new OperationCanceledException(stopping.Token)));
        var calleeCancelled = await Assert.ThrowsAsync<RpcException>(() => interceptor.UnaryServerHandler<string, string>(
            "request", new TestServerCallContext("/t/M"), (_, _) => throw new RpcException(new global::Grpc.Core.Status(StatusCode.Cancelled, "cancelled"))));
        var callerGone = await Assert.ThrowsAsync<RpcException>(() => interceptor.UnaryServerHandler<string, string>(
            "request", new TestServerCallContext("/t/M", stopping.Token), (_, _) => throw new OperationCanceledException(stopping.Token)));

        Assert.Equal(StatusCode.Unavailable, cutShort.StatusCode);
        Assert.Contains("same idempotency key", cutShort.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(StatusCode.Unavailable, calleeCancelled.StatusCode);
        Assert.Equal(StatusCode.Cancelled, callerGone.StatusCode);
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
