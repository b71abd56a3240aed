using System.Buffers;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Options;
using TradeEngine.Domain;
using TradeEngine.PaperExchange.Control;
using TradeEngine.PaperExchange.Engine;
using TradeEngine.PaperExchange.Options;

namespace TradeEngine.PaperExchange.Venue;

/// <summary>How an endpoint is guarded and counted.</summary>
/// <summary>
/// How Binance treats an endpoint: signed or not, its request weight, and whether it counts against the order limits.
/// <paramref name="WeightWithoutSymbol"/>: the weight when the request names no symbol, for endpoints whose documented
/// weight depends on it (GET openOrders: 1 with a symbol, 40 without). <paramref name="FundingRoute"/>: one of the two
/// routes (GET fundingRate, GET fundingInfo) that share their own limit of 500 requests per 5 minutes per IP instead of a
/// request weight.
/// </summary>
public sealed record EndpointSpec(bool Signed, int Weight, bool IsOrder = false, int? WeightWithoutSymbol = null, bool FundingRoute = false)
{
    /// <summary>The weight this request costs.</summary>
    public int WeightOf(VenueParams parameters) =>
        WeightWithoutSymbol is { } without && !parameters.Has("symbol") ? without : Weight;
}

/// <summary>
/// The pipeline of every Binance-surface request: injected faults, parameter decoding, signature and timestamp,
/// rate-limit counting and headers, the operation itself, and Binance-shaped errors.
/// </summary>
public sealed partial class VenueGate(
    PaperEngine engine,
    RequestAuthenticator authenticator,
    FaultInjector faults,
    RateCounters counters,
    IOptions<PaperOptions> options,
    IHostApplicationLifetime lifetime,
    ILogger<VenueGate> logger)
{
    private const string UnknownErrorMessage = "Unknown error, please check your request or try again later.";
    private const string TooManyRequestsMessage = "Too many requests; current limit is exceeded. Please use the websocket for live updates to avoid polling the API.";
    private static readonly JsonWriterOptions WriterOptions = new() { SkipValidation = true };

    public async Task HandleAsync(HttpContext ctx, EndpointSpec spec, Action<VenueParams, Utf8JsonWriter> operation)
    {
        var path = ctx.Request.Path.Value ?? "";
        faults.CountRequest(ctx.Request.Method + " " + path);
        var fault = faults.Take(ctx.Request.Method, path);
        if (fault is not null && await ApplyBeforeAsync(ctx, fault, engine.NowMs).ConfigureAwait(false))
        {
            return;
        }

        // Read the request now: an ExecuteLate fault runs it after the client may have gone.
        var query = ctx.Request.QueryString.HasValue ? ctx.Request.QueryString.Value![1..] : "";
        var body = await ReadBodyAsync(ctx).ConfigureAwait(false);
        if (fault?.Kind == FaultKind.ExecuteLate)
        {
            try
            {
                // Not ctx.RequestAborted: a slow venue executes even when the client has stopped waiting.
                await Task.Delay(fault.LatencyMs, lifetime.ApplicationStopping).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }

        // Decoded once: the weight depends on them for some endpoints, and the operation reads them.
        var parameters = new VenueParams();
        parameters.AddEncoded(query);
        parameters.AddEncoded(body);
        var buffer = new ArrayBufferWriter<byte>(512);
        int status;
        int weightUsed;
        int orders10s;
        int orders1m;
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            var now = engine.NowMs;
            (weightUsed, orders10s, orders1m, var retryAfterMs) = counters.Count(now, spec.WeightOf(parameters), spec.IsOrder);
            var o = options.Value;
            var ordersOver = spec.IsOrder && (orders1m > o.OrderLimitPerMinute || orders10s > o.OrderLimitPer10Seconds);
            var (fundingUsed, fundingRetryAfterMs) = spec.FundingRoute ? counters.CountFunding(now) : (0, 0L);
            if (o.EnforceRateLimits && fundingUsed > o.FundingRouteLimitPer5Minutes)
            {
                // The funding routes' own limit: only they are refused, until their 5-minute window ends.
                ctx.Response.Headers.RetryAfter = ((fundingRetryAfterMs + 999) / 1000).ToString(CultureInfo.InvariantCulture);
                VenueJson.Error(writer, -1003, string.Create(CultureInfo.InvariantCulture,
                    $"Too many requests; current limit of fundingRate and fundingInfo is {o.FundingRouteLimitPer5Minutes} requests per 5 MINUTE."));
                status = 429;
            }
            else if (o.EnforceRateLimits && (weightUsed > o.RequestWeightLimitPerMinute || ordersOver))
            {
                // Retry-After is when the limit that tripped resets: the minute's, or only the 10-second window's.
                if (weightUsed <= o.RequestWeightLimitPerMinute && orders1m <= o.OrderLimitPerMinute)
                {
                    retryAfterMs = 10_000 - (now % 10_000);
                }

                ctx.Response.Headers.RetryAfter = ((retryAfterMs + 999) / 1000).ToString(CultureInfo.InvariantCulture);
                if (weightUsed > o.RequestWeightLimitPerMinute)
                {
                    VenueJson.Error(writer, -1003, TooManyRequestsMessage);
                }
                else
                {
                    // Binance answers the order-count limits with -1015 TOO_MANY_ORDERS, not the IP weight's -1003.
                    var (limit, window) = orders10s > o.OrderLimitPer10Seconds ? (o.OrderLimitPer10Seconds, "10 SECOND") : (o.OrderLimitPerMinute, "1 MINUTE");
                    VenueJson.Error(writer, -1015, string.Create(CultureInfo.InvariantCulture, $"Too many new orders; current limit is {limit} orders per {window}."));
                }

                status = 429;
            }
            else
            {
                status = RunOperation(ctx, spec, operation, parameters, query, body, writer, buffer);
            }
        }

        if (fault is not null && status == 200)
        {
            switch (fault.Kind)
            {
                case FaultKind.DropAfterExecute:
                    ctx.Abort();
                    return;
                case FaultKind.UnknownAfterExecute:
                    status = Rewrite(buffer, 503, -1000, UnknownErrorMessage);
                    break;
                case FaultKind.ErrorAfterExecute:
                    var code = fault.Code ?? -1006;
                    status = Rewrite(buffer, fault.Status ?? 400, code,
                        fault.Message ?? (code == -1006 ? "An unexpected response was received from the message bus. Execution status unknown." : "Injected error."));
                    break;
                case FaultKind.GarbledAfterExecute:
                    var truncated = buffer.WrittenSpan[..(buffer.WrittenCount / 2)].ToArray();
                    buffer.Clear();
                    buffer.Write(truncated);
                    break;
            }
        }

        if (ctx.RequestAborted.IsCancellationRequested)
        {
            // The client left (an ExecuteLate fault ran after it timed out): the effect is real, the answer goes nowhere.
            return;
        }

        var headers = ctx.Response.Headers;
        headers["X-MBX-USED-WEIGHT-1M"] = weightUsed.ToString(CultureInfo.InvariantCulture);
        if (spec.IsOrder)
        {
            headers["X-MBX-ORDER-COUNT-10S"] = orders10s.ToString(CultureInfo.InvariantCulture);
            headers["X-MBX-ORDER-COUNT-1M"] = orders1m.ToString(CultureInfo.InvariantCulture);
        }

        ctx.Response.StatusCode = status;
        ctx.Response.ContentType = "application/json";
        ctx.Response.ContentLength = buffer.WrittenCount;
        try
        {
            await ctx.Response.Body.WriteAsync(buffer.WrittenMemory, ctx.RequestAborted).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (ctx.RequestAborted.IsCancellationRequested)
        {
            // The client went away while the answer was written.
        }
    }

    private static int Rewrite(ArrayBufferWriter<byte> buffer, int status, int code, string msg)
    {
        buffer.Clear();
        using var writer = new Utf8JsonWriter(buffer, WriterOptions);
        VenueJson.Error(writer, code, msg);
        writer.Flush();
        return status;
    }

    private int RunOperation(
        HttpContext ctx, EndpointSpec spec, Action<VenueParams, Utf8JsonWriter> operation, VenueParams parameters, string query, string body,
        Utf8JsonWriter writer, ArrayBufferWriter<byte> buffer)
    {
        try
        {
            if (spec.Signed)
            {
                authenticator.Verify(ctx.Request.Headers["X-MBX-APIKEY"].ToString(), query, body, parameters, engine.NowMs);
            }

            operation(parameters, writer);
            writer.Flush();
            return 200;
        }
        catch (Exception e) when (e is VenueRejection or DomainException)
        {
            writer.Reset();
            buffer.Clear();
            var (code, msg, http) = e is VenueRejection r ? (r.Code, r.Message, r.HttpStatus) : (-1130, "Data sent for parameter is not valid.", 400);
            VenueJson.Error(writer, code, msg);
            writer.Flush();
            LogRejected(logger, ctx.Request.Path.Value ?? "", code);
            return http;
        }
    }

    private static async Task<string> ReadBodyAsync(HttpContext ctx)
    {
        if (ctx.Request.ContentLength is 0 || !(HttpMethods.IsPost(ctx.Request.Method) || HttpMethods.IsPut(ctx.Request.Method) || HttpMethods.IsDelete(ctx.Request.Method)))
        {
            return "";
        }

        using var reader = new StreamReader(ctx.Request.Body, System.Text.Encoding.UTF8, detectEncodingFromByteOrderMarks: false, leaveOpen: true);
        return await reader.ReadToEndAsync(ctx.RequestAborted).ConfigureAwait(false);
    }

    /// <summary>Applies a fault that answers instead of the venue; false when the request should still run.</summary>
    private static async Task<bool> ApplyBeforeAsync(HttpContext ctx, FaultRule fault, long nowMs)
    {
        if (fault.LatencyMs > 0 && fault.Kind != FaultKind.ExecuteLate)
        {
            // Tied to the client: if it gives up, the request dies here and never reaches the engine.
            await Task.Delay(fault.LatencyMs, ctx.RequestAborted).ConfigureAwait(false);
        }

        switch (fault.Kind)
        {
            case FaultKind.RateLimit:
            case FaultKind.Ban:
                ctx.Response.Headers.RetryAfter = fault.RetryAfterAsDate
                    ? DateTimeOffset.FromUnixTimeMilliseconds(nowMs).AddSeconds(fault.RetryAfterSeconds).ToString("R", CultureInfo.InvariantCulture)
                    : fault.RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
                await WriteErrorAsync(ctx, fault.Kind == FaultKind.Ban ? 418 : 429, -1003, TooManyRequestsMessage).ConfigureAwait(false);
                return true;
            case FaultKind.Timestamp:
                await WriteErrorAsync(ctx, 400, -1021, "Timestamp for this request is outside of the recvWindow.").ConfigureAwait(false);
                return true;
            case FaultKind.Unavailable:
                // Binance's documented -1001 DISCONNECTED body, which it sends with a 5xx.
                await WriteErrorAsync(ctx, 503, -1001, "Internal error; unable to process your request. Please try again.").ConfigureAwait(false);
                return true;
            case FaultKind.DropBeforeExecute:
                ctx.Abort();
                return true;
            case FaultKind.Reject:
                await WriteErrorAsync(ctx, fault.Status ?? 400, fault.Code ?? -1130, fault.Message ?? "Injected rejection.").ConfigureAwait(false);
                return true;
            default:
                return false;
        }
    }

    private static async Task WriteErrorAsync(HttpContext ctx, int status, int code, string msg)
    {
        var buffer = new ArrayBufferWriter<byte>(128);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            VenueJson.Error(writer, code, msg);
        }

        ctx.Response.StatusCode = status;
        ctx.Response.ContentType = "application/json";
        ctx.Response.ContentLength = buffer.WrittenCount;
        await ctx.Response.Body.WriteAsync(buffer.WrittenMemory, ctx.RequestAborted).ConfigureAwait(false);
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Rejected {Path} with {Code}")]
    private static partial void LogRejected(ILogger logger, string path, int code);
}
