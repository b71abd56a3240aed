using TradeEngine.Execution.Ledger;
using TradeEngine.Execution.Logging;
using LedgerV1 = TradeEngine.Ledger.V1;

namespace TradeEngine.Execution.Reconciliation;

/// <summary>
/// How reconciliation reports a difference it found: logged (under <see cref="Reconciler"/>'s category, as every
/// reconciliation message is) and written to the Ledger as a risk event keyed by its kind, symbol and pass.
/// </summary>
public sealed class MismatchReporter(LedgerBook ledger, ILogger<Reconciler> logger)
{
    private const string EventType = "reconciliation_mismatch";

    /// <summary>
    /// Logs the difference and its risk event, keyed by <paramref name="kind"/>, the symbol and the pass's
    /// <paramref name="stamp"/>.
    /// </summary>
    public Task ReportAsync(
        string kind, string symbol, string detail, string stamp, CancellationToken ct,
        LedgerV1.RiskEventSeverity severity = LedgerV1.RiskEventSeverity.Warning)
    {
        Log.Mismatch(logger, kind, symbol, detail);
        return ledger.LogRiskEventAsync($"reconcile:{kind}:{symbol}:{stamp}", EventType, severity, detail, symbol, ct);
    }
}
