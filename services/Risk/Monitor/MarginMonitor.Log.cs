using TradeEngine.Domain.Margin;

namespace TradeEngine.Risk.Monitor;

/// <summary>The margin monitor's log messages (source-generated).</summary>
public sealed partial class MarginMonitor
{
    [LoggerMessage(Level = LogLevel.Warning, Message = "Margin monitor tick failed: {ErrorType}: {Error}")]
    private static partial void LogTickFailed(ILogger logger, string errorType, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Margin monitor step failed: {ErrorType}: {Error}")]
    private static partial void LogStepFailed(ILogger logger, string errorType, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "Margin state {Previous} -> {Current} (ratio {Ratio})")]
    private static partial void LogStateChanged(ILogger logger, MarginAction previous, MarginAction current, string ratio);

    [LoggerMessage(Level = LogLevel.Information, Message = "Margin episode {Action} (alert {EventId}) resumed from the Ledger: the account was watched until a moment ago")]
    private static partial void LogEpisodeResumed(ILogger logger, MarginAction action, Guid eventId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Margin episode {Action} (alert {EventId}) found open in the Ledger but not resumed: the account went unwatched too long before this start, or this process saw it clear of the band; an alert now is a new one")]
    private static partial void LogEpisodeNotResumed(ILogger logger, MarginAction action, Guid eventId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Margin alert {Action} published again under the resumed episode's event id {EventId}")]
    private static partial void LogEpisodeRepublished(ILogger logger, MarginAction action, Guid eventId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Margin episode record could not be read from the Ledger: {Action} alert raised under a new event id (a restart during an episode may act on it twice)")]
    private static partial void LogEpisodeUnread(ILogger logger, MarginAction action);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Margin ratio {Ratio} still inside the buffer after the positions changed: Reduce raised again")]
    private static partial void LogReducingAgain(ILogger logger, string ratio);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Margin alert raised: {Action} (ratio {Ratio})")]
    private static partial void LogAlert(ILogger logger, MarginAction action, string ratio);
}
