using TradeEngine.Domain;
using TradeEngine.Ledger.V1;
using TradeEngine.ServiceDefaults.Grpc;

namespace TradeEngine.Risk.State;

/// <summary>
/// Reads the kill switch, today's PnL with its day-start equity, and the peak equity from the Ledger, in parallel. The
/// day-start and peak equity are taken in today's money: each snapshot's equity plus the net of the transfers booked after
/// it (the Ledger answers both), so a deposit does not hide a loss and a withdrawal is no drawdown.
/// </summary>
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
            InTodaysMoney(day.DayStartEquity, day.TransfersSinceDayStart),
            Optional(day.RealizedPnl) ?? 0m,
            InTodaysMoney(top.PeakEquity, top.TransfersSincePeak),
            now)
        {
            TransfersTotal = Optional(top.TransfersTotal) ?? 0m,
            TransfersBooked = top.TransfersBooked,
        };
    }

    /// <summary>A snapshot's equity plus the transfers booked after it; null without a snapshot.</summary>
    private static decimal? InTodaysMoney(string equity, string transfersSince) =>
        Optional(equity) is { } recorded ? recorded + (Optional(transfersSince) ?? 0m) : null;

    public static KillSwitchView ToView(KillSwitchState state) => new(
        state.Active, state.Trigger, state.Reason, state.Actor, state.ChangedAt?.ToDateTimeOffset());

    private static decimal? Optional(string text) =>
        string.IsNullOrEmpty(text) ? null : DecimalText.Parse(text, "ledger");
}
