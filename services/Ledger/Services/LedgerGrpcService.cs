using Grpc.Core;
using TradeEngine.Ledger.Funding;
using TradeEngine.Ledger.Inbox;
using TradeEngine.Ledger.Pnl;
using TradeEngine.Ledger.Positions;
using TradeEngine.Ledger.Risk;
using TradeEngine.Ledger.Trades;
using TradeEngine.Ledger.V1;

namespace TradeEngine.Ledger.Services;

/// <summary>
/// The ledger v1 contract. Thin: each RPC hands its request to the store that owns the table. Validation failures
/// become INVALID_ARGUMENT (ExceptionInterceptor), a missing row NOT_FOUND, a state conflict FAILED_PRECONDITION,
/// a reused idempotency key with another payload ALREADY_EXISTS.
/// </summary>
public sealed class LedgerGrpcService(
    TradeStore trades,
    TradeQueries tradeQueries,
    PositionStore positions,
    PositionQueries positionQueries,
    RiskEventStore riskEvents,
    FundingStore funding,
    PnlStore pnl,
    KillSwitchStore killSwitch,
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

    public override Task<LogRiskEventResponse> LogRiskEvent(LogRiskEventRequest request, ServerCallContext context) =>
        riskEvents.LogAsync(request, context.CancellationToken);

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

    public override Task<GetEquityCurveResponse> GetEquityCurve(GetEquityCurveRequest request, ServerCallContext context) =>
        pnl.CurveAsync(request, context.CancellationToken);

    public override Task<KillSwitchState> GetKillSwitch(GetKillSwitchRequest request, ServerCallContext context) =>
        killSwitch.GetAsync(context.CancellationToken);

    public override Task<KillSwitchState> SetKillSwitch(SetKillSwitchRequest request, ServerCallContext context) =>
        killSwitch.SetAsync(request, context.CancellationToken);

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
