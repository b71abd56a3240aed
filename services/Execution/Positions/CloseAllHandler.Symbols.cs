using Grpc.Core;
using TradeEngine.Execution.Logging;
using TradeEngine.Execution.Mapping;
using TradeEngine.Execution.V1;

namespace TradeEngine.Execution.Positions;

// CloseAllHandler's close of one symbol: its position, under as many ids as it takes, then its orders.
public sealed partial class CloseAllHandler
{
    /// <summary>
    /// Closes the symbol's position, then cancels its orders: only once it is flat (closed now, or closed at the venue
    /// before its close came), as ClosePosition does. A close that did not fill (a thin book, an order refused) leaves the
    /// stop-loss and take-profit guarding what is still open; cancelled first, they left the position unguarded until
    /// the next reconciliation. A symbol listed for its orders only has them cancelled.
    /// </summary>
    private async Task<SymbolCloseResult> FlattenSymbolAsync(string symbol, bool open, string closeId, string reason, CancellationToken ct)
    {
        var result = new SymbolCloseResult { Symbol = symbol };
        try
        {
            if (open)
            {
                result.RealizedPnl = (await CloseWhatIsLeftAsync(symbol, closeId, reason).ConfigureAwait(false)).RealizedPnl;
            }

            result.Closed = true;
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.NotFound)
        {
            // Flat by the time its close came (a stop-loss or take-profit triggered, a liquidation): nothing to close.
            result.Closed = true;
        }
        catch (Exception ex) when (ex is RpcException or Binance.Errors.BinanceException or Domain.DomainException)
        {
            // Its orders stay: they guard the position still open.
            Log.CloseAllSymbolFailed(logger, ex, symbol);
            result.Error = ex.Message;
            return result;
        }
        catch (OperationCanceledException ex) when (ct.IsCancellationRequested)
        {
            // The service is stopping before this symbol's close reached the venue (one that did is seen to the end): the
            // symbols left are failures of this close-all, in its answer and its risk event.
            Log.CloseAllSymbolFailed(logger, ex, symbol);
            result.Error = "not closed: Execution is stopping";
            return result;
        }

        try
        {
            // What follows a close the venue has filled is not cut short by the service stopping (as after an open's fill).
            await protective.CancelAllAsync(symbol, open ? CancellationToken.None : ct).ConfigureAwait(false);
        }
        catch (Binance.Errors.BinanceException ex)
        {
            Log.CloseAllSymbolFailed(logger, ex, symbol);
            result.Error = "its open orders could not be cancelled: " + ex.Message;
        }
        catch (OperationCanceledException ex) when (ct.IsCancellationRequested)
        {
            Log.CloseAllSymbolFailed(logger, ex, symbol);
            result.Error = "its open orders were not cancelled: Execution is stopping";
        }

        return result;
    }

    /// <summary>
    /// Closes the symbol under <paramref name="closeId"/> (derived from the key); when the venue did not complete a close
    /// under an id (it filled part or nothing), the next one (rest-1, rest-2, ...) closes what is left. The ids are the
    /// same on every attempt of the key, so a repeat walks the same orders and finds them instead of placing new ones.
    /// </summary>
    /// <remarks>
    /// A pass places at most <see cref="MaxCloseOrders"/> orders; an id whose order an earlier pass placed and that did
    /// not close the position (it expired unfilled on an empty book, or filled in part) is stepped over without counting,
    /// up to <see cref="MaxCloseIds"/> ids in all. Before, the ids were counted whether placed now or found: a first pass
    /// whose closes all expired unfilled used up every id, and each redelivery of the kill switch's event walked the same
    /// spent orders, placed nothing, and failed, so the position stayed open under the kill switch once the book was back.
    /// </remarks>
    private async Task<ClosePositionResponse> CloseWhatIsLeftAsync(string symbol, string closeId, string reason)
    {
        var id = closeId;
        var placed = 0;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await closer.CloseSymbolAsync(symbol, id, reason, cancelOrders: false).ConfigureAwait(false);
            }
            catch (CloseIncompleteException ex) when (attempt < MaxCloseIds && (ex.Earlier || ++placed < MaxCloseOrders))
            {
                Log.CloseAllSymbolFailed(logger, ex, symbol);
                id = ExecutionWire.Derived(closeId, "rest-" + attempt.ToString(System.Globalization.CultureInfo.InvariantCulture));
            }
        }
    }

    /// <summary>The most close orders one pass places on a symbol.</summary>
    private const int MaxCloseOrders = 4;

    /// <summary>The most ids one pass walks on a symbol, found spent or placed (five deliveries of a key place at most 20 each symbol and sweep).</summary>
    private const int MaxCloseIds = 48;
}
