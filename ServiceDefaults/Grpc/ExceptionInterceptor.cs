using Google.Protobuf.WellKnownTypes;
using Google.Rpc;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Microsoft.Extensions.Logging;
using TradeEngine.Domain;

namespace TradeEngine.ServiceDefaults.Grpc;

/// <summary>
/// The one place where exceptions become gRPC statuses. Validation failures (ours and Domain's) become
/// INVALID_ARGUMENT naming the field; an <see cref="RpcException"/> passes through; work cut short by the service
/// stopping becomes UNAVAILABLE (retry); anything else is logged and becomes INTERNAL with a generic message, so no
/// internals (and no secrets) reach the client and no call ever ends as UNKNOWN.
/// </summary>
public sealed partial class ExceptionInterceptor(ILogger<ExceptionInterceptor> logger) : Interceptor
{
    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            return await continuation(request, context).ConfigureAwait(false);
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.Cancelled && !context.CancellationToken.IsCancellationRequested)
        {
            // A call of ours to another service cancelled, not by our caller (the service stopping cut it short).
            throw CutShort(context);
        }
        catch (Exception ex) when (ex is not RpcException)
        {
            throw Translate(ex, context);
        }
    }

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(
        TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context,
        ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            await continuation(request, responseStream, context).ConfigureAwait(false);
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.Cancelled && !context.CancellationToken.IsCancellationRequested)
        {
            // A call of ours to another service cancelled, not by our caller (the service stopping cut it short).
            throw CutShort(context);
        }
        catch (Exception ex) when (ex is not RpcException)
        {
            throw Translate(ex, context);
        }
    }

    private RpcException Translate(Exception ex, ServerCallContext context)
    {
        switch (ex)
        {
            case RequestValidationException rve:
                LogRejected(logger, context.Method, rve.Message);
                return InvalidArgument(rve.Violations);
            case DomainException de:
                LogRejected(logger, context.Method, de.Message);
                return InvalidArgument([new FieldViolation(de.Field, de.Rule)]);
            case OperationCanceledException when context.CancellationToken.IsCancellationRequested:
                return new RpcException(new global::Grpc.Core.Status(StatusCode.Cancelled, "The call was cancelled."));
            case OperationCanceledException:
                // Not the caller's cancellation: the service stopping (or a time limit of its own) cut the work short.
                // Whatever it did stands or is found again by a retry with the same key; INTERNAL would read as a
                // defect no retry can help.
                return CutShort(context);
            default:
                LogUnhandled(logger, ex, context.Method);
                return new RpcException(new global::Grpc.Core.Status(StatusCode.Internal, "Internal error."));
        }
    }

    private RpcException CutShort(ServerCallContext context)
    {
        LogCutShort(logger, context.Method);
        return new RpcException(new global::Grpc.Core.Status(StatusCode.Unavailable,
            "The call was cut short before it was done (not by the caller); retry it with the same idempotency key."));
    }

    public static RpcException InvalidArgument(IReadOnlyList<FieldViolation> violations)
    {
        var badRequest = new BadRequest();
        foreach (var v in violations)
        {
            badRequest.FieldViolations.Add(new BadRequest.Types.FieldViolation { Field = v.Field, Description = v.Description });
        }

        var status = new Google.Rpc.Status
        {
            Code = (int)Code.InvalidArgument,
            Message = string.Join("; ", violations.Select(v => $"{v.Field}: {v.Description}")),
            Details = { Any.Pack(badRequest) },
        };
        return status.ToRpcException();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Rejected {Method}: {Reason}")]
    private static partial void LogRejected(ILogger logger, string method, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Method} was cut short, not by its caller (the service stopping, or a time limit of its own)")]
    private static partial void LogCutShort(ILogger logger, string method);

    [LoggerMessage(Level = LogLevel.Error, Message = "Unhandled exception in {Method}")]
    private static partial void LogUnhandled(ILogger logger, Exception exception, string method);
}
