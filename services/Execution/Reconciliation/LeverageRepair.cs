using Grpc.Core;
using TradeEngine.Binance.Models;
using TradeEngine.Execution.Ledger;
using TradeEngine.Execution.Logging;
using TradeEngine.Execution.Positions;
using TradeEngine.Execution.V1;
using LedgerV1 = TradeEngine.Ledger.V1;

namespace TradeEngine.Execution.Reconciliation;

/// <summary>Reconciliation's repair of a record's leverage. Logs under <see cref="Reconciler"/>'s category.</summary>
public sealed class LeverageRepair(LedgerBook ledger, MismatchReporter report, FillRecorder fills, ILogger<Reconciler> logger)
{
    /// <summary>
    /// The venue applies a symbol's leverage to its whole position, so its figure is the truth: a record holding another
    /// (a leverage changed at the venue by an operator, or a SetLeverage whose amend was refused or lost with a restart) is
    /// amended to it. Keyed by the pass, as the risk event is: a leverage changed back and forth between the same figures
    /// is a new amend each time, never a replay of an old one. A figure outside 1..125 (none a venue applies, and the Ledger
    /// would refuse it) is left alone. The amended record is streamed as CHANGED, at the pass's mark like the pass's other
    /// updates (<see cref="FillRecorder.Publish(PositionUpdateKind, LedgerV1.PositionRecord?, decimal)"/>); an amend queued
    /// or refused streams nothing.
    /// </summary>
    public async Task<int> AmendLeverageAsync(string symbol, PositionRisk open, LedgerV1.PositionRecord record, string stamp, CancellationToken ct)
    {
        if (open.Leverage == record.Leverage || open.Leverage is < Domain.Leverage.Min or > Domain.Leverage.Max)
        {
            return 0;
        }

        await report.ReportAsync("leverage", symbol,
            $"the venue applies {open.Leverage}x to the position, the Ledger's record {record.PositionId} holds {record.Leverage}x; the record is amended to {open.Leverage}x",
            stamp, ct).ConfigureAwait(false);
        try
        {
            var amended = await ledger.AmendLeverageAsync(
                $"reconcile-leverage:{record.PositionId}:{record.Leverage}:{open.Leverage}:{stamp}", record, open.Leverage, ct).ConfigureAwait(false);
            fills.Publish(PositionUpdateKind.Changed, amended, open.MarkPrice);
        }
        catch (RpcException ex) when (!LedgerWrites.IsTransient(ex) && !ct.IsCancellationRequested)
        {
            // Refused for good (a Ledger older than AmendPosition answers UNIMPLEMENTED during a rolling upgrade): logged,
            // and the symbol's pass counts as done, so reconciliation (and the opens waiting on its first pass) goes on.
            Log.LeverageNotRecorded(logger, ex, symbol, open.Leverage, ex.StatusCode);
        }

        return 1;
    }
}
