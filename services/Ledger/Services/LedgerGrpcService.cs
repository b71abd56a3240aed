using Grpc.Core;
using TradeEngine.Ledger.Funding;
using TradeEngine.Ledger.Inbox;
using TradeEngine.Ledger.Pnl;
using TradeEngine.Ledger.Positions;
using TradeEngine.Ledger.Risk;
using TradeEngine.Ledger.Trades;
using TradeEngine.Ledger.Transfers;
using TradeEngine.Ledger.V1;
using TradeEngine.ServiceDefaults.Grpc;

namespace TradeEngine.Ledger.Services;

/// <summary>
/// The ledger v1 contract. Thin: each RPC hands its request to the store that owns the table. Validation failures
/// become INVALID_ARGUMENT (ExceptionInterceptor), a missing row NOT_FOUND, a state conflict FAILED_PRECONDITION,
/// a reused idempotency key with another payload ALREADY_EXISTS. Turning the kill switch off needs the operator key
/// (<see cref="SetKillSwitch"/>).
/// </summary>
public sealed class LedgerGrpcService(
    TradeStore trades,
    TradeQueries tradeQueries,
    PositionStore positions,
    PositionAmendments amendments,
    PositionQueries positionQueries,
    RiskEventStore riskEvents,
    FundingStore funding,
    PnlStore pnl,
    TransferStore transfers,
    KillSwitchStore killSwitch,
    OperatorKeyGuard resetKey,
    InboxStore inbox) : LedgerService.LedgerServiceBase
{
    public override Task<RecordTradeResponse> RecordTrade(RecordTradeRequest request, ServerCallContext context) =>
        trades.RecordAsync(request, context.CancellationToken);

    public override Task<GetOrderTradesResponse> GetOrderTrades(GetOrderTradesRequest request, ServerCallContext context) =>
        tradeQueries.OrderTradesAsync(request, context.CancellationToken);

    public override Task<PositionRecord> OpenPosition(OpenPositionRequest request, ServerCallContext context) =>
        positions.OpenAsync(request, context.CancellationToken);

    public override Task<PositionRecord> ReducePosition(ReducePositionRequest request, ServerCallContext context) =>
        positions.ReduceAsync(request, context.CancellationToken);

    public override Task<PositionRecord> ClosePosition(ClosePositionRequest request, ServerCallContext context) =>
        positions.CloseAsync(request, context.CancellationToken);

    public override Task<PositionRecord> AmendPosition(AmendPositionRequest request, ServerCallContext context) =>
        amendments.AmendAsync(request, context.CancellationToken);

    public override Task<LogRiskEventResponse> LogRiskEvent(LogRiskEventRequest request, ServerCallContext context) =>
        riskEvents.LogAsync(request, context.CancellationToken);

    public override Task<GetRiskEventsResponse> GetRiskEvents(GetRiskEventsRequest request, ServerCallContext context) =>
        riskEvents.ListAsync(request, context.CancellationToken);

    public override Task<LogFundingEventResponse> LogFundingEvent(LogFundingEventRequest request, ServerCallContext context) =>
        funding.LogAsync(request, context.CancellationToken);

    public override Task<LogPnlSnapshotResponse> LogPnlSnapshot(LogPnlSnapshotRequest request, ServerCallContext context) =>
        pnl.LogSnapshotAsync(request, context.CancellationToken);

    public override Task<GetPositionsResponse> GetPositions(GetPositionsRequest request, ServerCallContext context) =>
        positionQueries.ListAsync(request, context.CancellationToken);

    public override Task<PositionRecord> GetPosition(GetPositionRequest request, ServerCallContext context) =>
        positionQueries.GetAsync(request, context.CancellationToken);

    public override Task<GetPositionsResponse> GetOpenPositions(GetOpenPositionsRequest request, ServerCallContext context) =>
        positionQueries.ListOpenAsync(request, context.CancellationToken);

    public override Task<GetPositionSizeAtResponse> GetPositionSizeAt(GetPositionSizeAtRequest request, ServerCallContext context) =>
        positionQueries.SizeAtAsync(request, context.CancellationToken);

    public override Task<GetDailyPnlResponse> GetDailyPnl(GetDailyPnlRequest request, ServerCallContext context) =>
        pnl.DailyAsync(request, context.CancellationToken);

    public override Task<GetPeakEquityResponse> GetPeakEquity(GetPeakEquityRequest request, ServerCallContext context) =>
        pnl.PeakAsync(context.CancellationToken);

    public override Task<GetFundingHistoryResponse> GetFundingHistory(GetFundingHistoryRequest request, ServerCallContext context) =>
        funding.HistoryAsync(request, context.CancellationToken);

    public override Task<LogTransferResponse> LogTransfer(LogTransferRequest request, ServerCallContext context) =>
        transfers.LogAsync(request, context.CancellationToken);

    public override Task<GetTransfersResponse> GetTransfers(GetTransfersRequest request, ServerCallContext context) =>
        transfers.ListAsync(request, context.CancellationToken);

    public override Task<GetEquityCurveResponse> GetEquityCurve(GetEquityCurveRequest request, ServerCallContext context) =>
        pnl.CurveAsync(request, context.CancellationToken);

    public override Task<KillSwitchState> GetKillSwitch(GetKillSwitchRequest request, ServerCallContext context) =>
        killSwitch.GetAsync(context.CancellationToken);

    /// <summary>
    /// Latching (active=true) is open to any caller: it is the safe direction. Turning the switch off needs the operator
    /// key (<c>Ledger:KillSwitch:OperatorKey</c>) in the <c>x-operator-key</c> metadata, as Risk's ResetKillSwitch does
    /// (Risk forwards it), so that the Ledger is no way around Risk's check. The key is checked before anything else,
    /// even the request's form or its idempotency key: a refused reset writes nothing, and a replay of an earlier
    /// accepted reset without the key is refused like any other (it neither replays that answer nor tells whether the
    /// key was used).
    /// </summary>
    public override Task<KillSwitchState> SetKillSwitch(SetKillSwitchRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        if (!request.Active)
        {
            // The actor is not validated yet: cut to its column's length for the warning a wrong key logs.
            resetKey.Demand(context, Wire.Cut(request.Actor, 128));
        }

        return killSwitch.SetAsync(request, context.CancellationToken);
    }

    public override Task<GetKillSwitchHistoryResponse> GetKillSwitchHistory(GetKillSwitchHistoryRequest request, ServerCallContext context) =>
        killSwitch.HistoryAsync(request, context.CancellationToken);

    public override Task<CheckInboxResponse> CheckInbox(CheckInboxRequest request, ServerCallContext context) =>
        inbox.CheckAsync(request, context.CancellationToken);

    public override Task<RecordInboxResponse> RecordInbox(RecordInboxRequest request, ServerCallContext context) =>
        inbox.RecordAsync(request, context.CancellationToken);

    public override Task<ClaimInboxResponse> ClaimInbox(ClaimInboxRequest request, ServerCallContext context) =>
        inbox.ClaimAsync(request, context.CancellationToken);

    public override Task<CompleteInboxResponse> CompleteInbox(CompleteInboxRequest request, ServerCallContext context) =>
        inbox.CompleteAsync(request, context.CancellationToken);

    public override Task<ReleaseInboxResponse> ReleaseInbox(ReleaseInboxRequest request, ServerCallContext context) =>
        inbox.ReleaseAsync(request, context.CancellationToken);
}
