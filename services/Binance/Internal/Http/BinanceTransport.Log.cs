using Microsoft.Extensions.Logging;

namespace TradeEngine.Binance.Internal.Http;

// BinanceTransport's log messages (source-generated).
internal sealed partial class BinanceTransport
{
    [LoggerMessage(Level = LogLevel.Debug, Message = "Binance {Endpoint}: not found (code {Code})")]
    private static partial void LogAbsent(ILogger logger, string endpoint, int code);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Binance {Endpoint} rejected the request: HTTP {Status}, code {Code}")]
    private static partial void LogRejected(ILogger logger, string endpoint, int status, int code);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Binance {Endpoint} rate limited (HTTP {Status}); no request before {RetryAt}")]
    private static partial void LogRateLimited(ILogger logger, string endpoint, int status, DateTimeOffset retryAt);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Binance {Endpoint}: outcome unknown ({Reason})")]
    private static partial void LogUnknownOutcome(ILogger logger, string endpoint, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Binance {Endpoint} answered -1021; re-syncing the clock offset")]
    private static partial void LogResync(ILogger logger, string endpoint);

    [LoggerMessage(Level = LogLevel.Information, Message = "Binance {Endpoint} failed ({Reason}); retrying once")]
    private static partial void LogTransientRetry(ILogger logger, string endpoint, string reason);
}
