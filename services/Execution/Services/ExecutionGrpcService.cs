using Grpc.Core;
using TradeEngine.Domain;
using TradeEngine.Execution.Positions;
using TradeEngine.Execution.Streaming;
using TradeEngine.Execution.V1;

namespace TradeEngine.Execution.Services;

/// <summary>
/// The execution v1 contract: each RPC hands its request to the handler that owns it. A close, a reduce and a close-all
/// take risk off, so their venue requests are urgent (<see cref="VenuePriority.Urgent"/>: held back only by the venue's
/// own limits, not by our headroom); the others go at the caller's priority (normal unless a caller of ours said
/// otherwise in <see cref="VenueRequestPriority.HeaderName"/>, as the margin monitor's account read does), except that
/// an open and a change of leverage or margin type, which add risk or change it, are never urgent whatever the caller
/// says: the last of the IP's limits is kept for what takes risk off.
/// </summary>
public sealed class ExecutionGrpcService(
    OpenPositionHandler opener,
    ClosePositionHandler closer,
    CloseAllHandler closeAll,
    AccountQueries queries,
    SettingsHandler settings,
    PositionUpdateHub updates) : ExecutionService.ExecutionServiceBase
{
    public override async Task<OpenPositionResponse> OpenPosition(OpenPositionRequest request, ServerCallContext context)
    {
        using var atMostNormal = VenueRequestPriority.Enter(VenueRequestPriority.AtMost(VenuePriority.Normal));
        return await opener.OpenAsync(request, context.CancellationToken).ConfigureAwait(false);
    }

    public override async Task<ClosePositionResponse> ClosePosition(ClosePositionRequest request, ServerCallContext context)
    {
        using var urgent = VenueRequestPriority.Enter(VenuePriority.Urgent);
        return await closer.CloseAsync(request, context.CancellationToken).ConfigureAwait(false);
    }

    public override async Task<ReducePositionResponse> ReducePosition(ReducePositionRequest request, ServerCallContext context)
    {
        using var urgent = VenueRequestPriority.Enter(VenuePriority.Urgent);
        return await closer.ReduceAsync(request, context.CancellationToken).ConfigureAwait(false);
    }

    public override async Task<CloseAllPositionsResponse> CloseAllPositions(CloseAllPositionsRequest request, ServerCallContext context)
    {
        using var urgent = VenueRequestPriority.Enter(VenuePriority.Urgent);
        return await closeAll.CloseAllAsync(request, context.CancellationToken).ConfigureAwait(false);
    }

    public override Task<ListPositionsResponse> ListPositions(ListPositionsRequest request, ServerCallContext context) =>
        queries.ListAsync(context.CancellationToken);

    public override Task<Position> GetPosition(GetPositionRequest request, ServerCallContext context) =>
        queries.GetAsync(request, context.CancellationToken);

    public override Task<Account> GetAccount(GetAccountRequest request, ServerCallContext context) =>
        queries.GetAccountAsync(context.CancellationToken);

    public override async Task<SetLeverageResponse> SetLeverage(SetLeverageRequest request, ServerCallContext context)
    {
        using var atMostNormal = VenueRequestPriority.Enter(VenueRequestPriority.AtMost(VenuePriority.Normal));
        return await settings.SetLeverageAsync(request, context.CancellationToken).ConfigureAwait(false);
    }

    public override async Task<SetMarginTypeResponse> SetMarginType(SetMarginTypeRequest request, ServerCallContext context)
    {
        using var atMostNormal = VenueRequestPriority.Enter(VenueRequestPriority.AtMost(VenuePriority.Normal));
        return await settings.SetMarginTypeAsync(request, context.CancellationToken).ConfigureAwait(false);
    }

    /// <summary>The current positions first (SNAPSHOT), then every change as it happens, until the caller hangs up.</summary>
    public override async Task StreamPositionUpdates(
        StreamPositionUpdatesRequest request, IServerStreamWriter<PositionUpdate> responseStream, ServerCallContext context)
    {
        var symbol = request.Symbol;
        if (symbol.Length > 0)
        {
            // A symbol the venue does not list (or "btcusdt") would open a stream that never sends anything.
            await queries.RequireListedAsync(symbol, context.CancellationToken).ConfigureAwait(false);
        }

        using var subscription = updates.Subscribe();
        var account = await queries.GetAccountAsync(context.CancellationToken).ConfigureAwait(false);
        foreach (var position in account.Positions.Where(p => symbol.Length == 0 || p.Symbol == symbol))
        {
            await responseStream.WriteAsync(new PositionUpdate { Kind = PositionUpdateKind.Snapshot, Position = position, At = account.AsOf })
                .ConfigureAwait(false);
        }

        try
        {
            await foreach (var update in subscription.Reader.ReadAllAsync(context.CancellationToken).ConfigureAwait(false))
            {
                if (symbol.Length == 0 || update.Position.Symbol == symbol)
                {
                    await responseStream.WriteAsync(update).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (context.CancellationToken.IsCancellationRequested)
        {
            // The caller hung up: the stream ends normally.
        }
        catch (Exception ex) when (ex is SubscriberFellBehindException || ex.InnerException is SubscriberFellBehindException)
        {
            // Every update it held was sent; the next would have been lost. ABORTED: subscribe again (a fresh snapshot).
            throw new RpcException(new Status(StatusCode.Aborted, (ex as SubscriberFellBehindException ?? ex.InnerException!).Message));
        }
    }
}
