using TradeEngine.Domain;
using TradeEngine.Ledger.V1;
using TradeEngine.ServiceDefaults.Grpc;

namespace TradeEngine.Risk.State;

/// <summary>Reads the kill switch, today's PnL with its day-start equity, and the peak equity from the Ledger, in parallel.</summary>
public sealed class LedgerRiskStateSource(LedgerService.LedgerServiceClient ledger) : IRiskStateSource
{
    public async Task<RiskState> LoadAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        var killSwitch = ledger.GetKillSwitchAsync(new GetKillSwitchRequest(), cancellationToken: cancellationToken).ResponseAsync;
        var daily = ledger.GetDailyPnlAsync(new GetDailyPnlRequest { Day = Wire.Timestamp(now) }, cancellationToken: cancellationToken).ResponseAsync;
        var peak = ledger.GetPeakEquityAsync(new GetPeakEquityRequest(), cancellationToken: cancellationToken).ResponseAsync;
        await Task.WhenAll(killSwitch, daily, peak).ConfigureAwait(false);

        var ks = await killSwitch.ConfigureAwait(false);
        var day = await daily.ConfigureAwait(false);
        var top = await peak.ConfigureAwait(false);
        return new RiskState(
            ToView(ks),
            DateOnly.FromDateTime(now.UtcDateTime),
            Optional(day.DayStartEquity),
            Optional(day.RealizedPnl) ?? 0m,
            Optional(top.PeakEquity),
            now);
    }

    public static KillSwitchView ToView(KillSwitchState state) => new(
        state.Active, state.Trigger, state.Reason, state.Actor, state.ChangedAt?.ToDateTimeOffset());

    private static decimal? Optional(string text) =>
        string.IsNullOrEmpty(text) ? null : DecimalText.Parse(text, "ledger");
}
