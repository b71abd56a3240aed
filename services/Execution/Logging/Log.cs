using Grpc.Core;

namespace TradeEngine.Execution.Logging;

/// <summary>Every log line of the service, source-generated, with structured fields.</summary>
public static partial class Log
{
    [LoggerMessage(Level = LogLevel.Information, Message = "Opened {Side} {Quantity} {Symbol} at {EntryPrice} (order {ClientOrderId}, position {PositionId})")]
    public static partial void Opened(ILogger logger, string symbol, string side, decimal quantity, decimal entryPrice, string clientOrderId, string positionId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Open {ClientOrderId} on {Symbol} refused by Risk: {Reasons}")]
    public static partial void Denied(ILogger logger, string symbol, string clientOrderId, string reasons);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Action} on {Symbol}: the Ledger's record holds {RecordedQuantity}, the venue {VenuePositionAmount}; reconciling the symbol before the order")]
    public static partial void ReconcilingBefore(ILogger logger, string action, string symbol, string recordedQuantity, decimal venuePositionAmount);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not reconcile {Symbol} before its order")]
    public static partial void RepairBeforeOrderFailed(ILogger logger, Exception exception, string symbol);

    [LoggerMessage(Level = LogLevel.Information, Message = "Order {ClientOrderId} on {Symbol} already exists at the venue (status {Status}); resuming instead of sending it again")]
    public static partial void Resuming(ILogger logger, string symbol, string clientOrderId, string status);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Symbol}: the resumed open {ClientOrderId}'s {Kind} could not be looked up at the venue; its settings are not compared, and the open resumes (its protection is seen to)")]
    public static partial void ResumedProtectionUnread(ILogger logger, Exception exception, string symbol, string clientOrderId, string kind);

    [LoggerMessage(Level = LogLevel.Error, Message = "Stop-loss for {Symbol} (order {ClientOrderId}) could not be placed; closing the position at once")]
    public static partial void StopLossFailed(ILogger logger, Exception exception, string symbol, string clientOrderId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Take-profit for {Symbol} (order {ClientOrderId}) could not be placed")]
    public static partial void TakeProfitFailed(ILogger logger, Exception exception, string symbol, string clientOrderId);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Symbol}: the earlier {Type} {ClientAlgoId} at {TriggerPrice} is cancelled for the one of order {ClientOrderId} (the venue keeps one of each kind per direction)")]
    public static partial void ProtectionReplaced(ILogger logger, string symbol, string type, string clientAlgoId, decimal triggerPrice, string clientOrderId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Symbol}: order {ClientOrderId} could not replace the position's earlier protective order, which still guards it")]
    public static partial void ProtectionNotReplaced(ILogger logger, Exception exception, string symbol, string clientOrderId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Margin alert: the close of the small largest position on {Symbol} was filled in part; it is reduced, and the alert is done: {Detail}")]
    public static partial void SmallCloseIncomplete(ILogger logger, string symbol, string detail);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Closed {Symbol} (order {ClientOrderId}), but its open orders could not be cancelled; reconciliation cancels them")]
    public static partial void OrdersLeftAfterClose(ILogger logger, Exception exception, string symbol, string clientOrderId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Closed {Quantity} {Symbol} at {ExitPrice} (order {ClientOrderId}): {Reason}")]
    public static partial void Closed(ILogger logger, string symbol, decimal quantity, decimal exitPrice, string clientOrderId, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Reduced {Symbol} by {Quantity} at {Price} (order {ClientOrderId}): {Reason}")]
    public static partial void Reduced(ILogger logger, string symbol, decimal quantity, decimal price, string clientOrderId, string reason);

    [LoggerMessage(Level = LogLevel.Critical, Message = "Emergency close-all ({Key}): {Reason}")]
    public static partial void CloseAllStarted(ILogger logger, string key, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Emergency close-all could not close {Symbol}; continuing with the others")]
    public static partial void CloseAllSymbolFailed(ILogger logger, Exception exception, string symbol);

    [LoggerMessage(Level = LogLevel.Error, Message = "Emergency close-all could not trigger the kill switch")]
    public static partial void KillSwitchFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Ledger write {Description} failed ({Status}), attempt {Attempt}; retrying")]
    public static partial void LedgerWriteRetry(ILogger logger, string description, int attempt, StatusCode status);

    [LoggerMessage(Level = LogLevel.Error, Message = "Ledger write {Description} still failing ({Status}); queued to retry in the background until it lands")]
    public static partial void LedgerWriteQueued(ILogger logger, string description, StatusCode status);

    [LoggerMessage(Level = LogLevel.Information, Message = "Queued Ledger write {Description} landed")]
    public static partial void LedgerWriteLanded(ILogger logger, string description);

    [LoggerMessage(Level = LogLevel.Critical, Message = "Queued Ledger write {Description} was refused ({Status}); the reconciliation will repair the record")]
    public static partial void LedgerWriteRefused(ILogger logger, Exception exception, string description, StatusCode status);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Reconciliation: {Kind} on {Symbol}: {Detail}")]
    public static partial void Mismatch(ILogger logger, string kind, string symbol, string detail);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Reconciliation: the venue still holds {Held} on {Symbol}, not booked here and left alone (reported today)")]
    public static partial void LeftAloneStill(ILogger logger, string symbol, string held);

    [LoggerMessage(Level = LogLevel.Information, Message = "Reconciliation pass finished: {Mismatches} difference(s) found and repaired")]
    public static partial void Reconciled(ILogger logger, int mismatches);

    [LoggerMessage(Level = LogLevel.Error, Message = "Reconciliation pass failed; opening stays closed until one succeeds")]
    public static partial void ReconcileFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "Reconciliation could not repair {Symbol}")]
    public static partial void RepairFailed(ILogger logger, Exception exception, string symbol);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Reconciliation: the Ledger refused {Symbol}'s adoption with the venue's fills; adopting it without them")]
    public static partial void AdoptedWithoutFills(ILogger logger, Exception exception, string symbol);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Symbol}: resumed order {ClientOrderId} is already booked in the Ledger (its record holds what the venue holds); nothing more to record")]
    public static partial void AlreadyBooked(ILogger logger, string symbol, string clientOrderId);

    [LoggerMessage(Level = LogLevel.Critical, Message = "Open {Symbol} {ClientOrderId}: the order filled at the venue, but the Ledger refused its record ({Status}); answered as filled, and reconciliation repairs the Ledger's record from the venue")]
    public static partial void OpenRefusedByLedger(ILogger logger, Exception exception, string symbol, string clientOrderId, StatusCode status);

    [LoggerMessage(Level = LogLevel.Error, Message = "Open {Symbol} {ClientOrderId}: recording the fill failed and its stop-loss could not be placed; closing the position first")]
    public static partial void OpenUnrecordedBeforeUnprotectedClose(ILogger logger, Exception exception, string symbol, string clientOrderId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The Ledger does not list an order's trades (GetOrderTrades is UNIMPLEMENTED: it is older than this Execution); {Symbol} {ClientOrderId} is not decided until it is upgraded")]
    public static partial void OrderTradesUnavailable(ILogger logger, string symbol, string clientOrderId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Symbol} {ClientOrderId}: the Ledger could not say whether the client order id was spent on another symbol ({Status}); the order goes ahead unchecked")]
    public static partial void SpentIdUnchecked(ILogger logger, Exception exception, string symbol, string clientOrderId, global::Grpc.Core.StatusCode status);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Reconciliation: the Ledger refused {Symbol}'s size difference with the venue's fills; booking it at the mark without them")]
    public static partial void SizeBookedWithoutFills(ILogger logger, Exception exception, string symbol);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Margin alert {EventId}: {Action} (ratio {Ratio})")]
    public static partial void MarginAlert(ILogger logger, Guid eventId, string action, string ratio);

    [LoggerMessage(Level = LogLevel.Information, Message = "Margin alert {EventId}: no open position to reduce")]
    public static partial void NothingToReduce(ILogger logger, Guid eventId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Margin alert {EventId}: nothing reduced; the only open positions are on contracts this system does not book ({Symbols})")]
    public static partial void NothingOfOursToReduce(ILogger logger, Guid eventId, string symbols);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Margin alert order {Attempt} on {Symbol} ended {Status} with nothing filled; planning the reduce again")]
    public static partial void MarginOrderUnfilled(ILogger logger, string symbol, int attempt, string status);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Kill switch {EventId} is on ({Trigger}, {Reason}); flattening every position")]
    public static partial void KillSwitchOn(ILogger logger, Guid eventId, string trigger, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Could not log risk event {EventType}")]
    public static partial void RiskEventFailed(ILogger logger, Exception exception, string eventType);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The Ledger refused the fills of {Write} ({Detail}); recording the order as one trade")]
    public static partial void FillsRefused(ILogger logger, string write, string detail);

    [LoggerMessage(Level = LogLevel.Warning, Message = "No fills found for order {OrderId} on {Symbol}; fee recorded as 0")]
    public static partial void FeeUnknown(ILogger logger, string symbol, long orderId);

    [LoggerMessage(Level = LogLevel.Error, Message = "The fills of opening order {OrderId} on {Symbol} could not be read; the position is recorded with the order as one trade, fee 0, and its protection is still seen to")]
    public static partial void FillsUnreadable(ILogger logger, Exception exception, string symbol, long orderId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Symbol}: the position after order {ClientOrderId} could not be read at the venue; its update is not streamed (its record is queued for the Ledger)")]
    public static partial void UpdateNotStreamed(ILogger logger, Exception exception, string symbol, string clientOrderId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Symbol}: leverage {Leverage}x is set and its record amended, but the position could not be read at the venue; its update is not streamed")]
    public static partial void LeverageUpdateNotStreamed(ILogger logger, Exception exception, string symbol, int leverage);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Write}: queued behind the Ledger writes still waiting")]
    public static partial void LedgerWriteDeferred(ILogger logger, string write);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Write}: failed ({Message}); retrying")]
    public static partial void LedgerWriteRetryAfterErrorCore(ILogger logger, Exception exception, string write, string message);

    public static void LedgerWriteRetryAfterError(ILogger logger, Exception exception, string write) =>
        LedgerWriteRetryAfterErrorCore(logger, exception, write, exception.Message);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Write}: not taken by the Ledger at shutdown; tried again in {Backoff} while the shutdown's grace lasts")]
    public static partial void LedgerWriteRetryingAtShutdown(ILogger logger, Exception exception, string write, TimeSpan backoff);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Write}: still waiting for the Ledger at shutdown and lost with this process; reconciliation adopts the venue's position on the next start, with the venue's fills where they account for it")]
    public static partial void LedgerWriteLostAtShutdown(ILogger logger, string write);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Write}: the venue refused a read it needs; abandoned (reconciliation repairs the Ledger from the venue)")]
    public static partial void LedgerWriteAbandoned(ILogger logger, Exception exception, string write);

    [LoggerMessage(Level = LogLevel.Error, Message = "Leverage {Leverage}x of {Symbol} is set at the venue, but the Ledger refused to amend its open record ({Status}); reconciliation amends it from the venue")]
    public static partial void LeverageNotRecorded(ILogger logger, Exception exception, string symbol, int leverage, StatusCode status);
}
