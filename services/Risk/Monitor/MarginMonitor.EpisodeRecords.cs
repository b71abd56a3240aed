using TradeEngine.Domain.Margin;

namespace TradeEngine.Risk.Monitor;

public sealed partial class MarginMonitor
{
    /// <summary>Whether this tick has tried the owed alert record already: a Ledger that hangs costs one call's deadline a tick.</summary>
    private bool _owedTried;

    /// <summary>Writes the owed alert records, oldest first, until one fails; true when none is owed (any more).</summary>
    private async Task<bool> RecordOwedAsync(CancellationToken cancellationToken)
    {
        while (_episode.OwedRecord is { } owed)
        {
            _owedTried = true;
            var landed = false;
            await TryAsync(async () =>
            {
                await _episodes.LogAlertAsync(owed.Action, owed.EventId, owed.Reason, owed.Ratio, owed.Limit, owed.OccurredAt, cancellationToken).ConfigureAwait(false);
                _episode.Recorded(owed.EventId);
                landed = true;
            }, cancellationToken).ConfigureAwait(false);
            if (!landed)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// Reads the Ledger's record of the last episode (before this process's first alert; tried each tick until it is read)
    /// and hands it to <see cref="MarginEpisode.Resume"/>, which decides whether it is resumed. The account counts as
    /// watched when a PnL snapshot lies within <see cref="ResumeWindow"/> before <paramref name="startedAt"/>.
    /// </summary>
    private async Task ResumeEpisodeAsync(DateTimeOffset startedAt, CancellationToken cancellationToken)
    {
        (MarginAction Action, Guid EventId, bool Watched)? open;
        try
        {
            // Before anything this process wrote (the Ledger keeps microseconds).
            open = await _episodes.ReadOpenAsync(startedAt - TimeSpan.FromMilliseconds(1), ResumeWindow, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            LogStepFailed(logger, ex.GetType().Name, ex.Message);
            return;
        }

        switch (_episode.Resume(open))
        {
            case true:
                LogEpisodeResumed(logger, open!.Value.Action, open.Value.EventId);
                break;
            case false:
                LogEpisodeNotResumed(logger, open!.Value.Action, open.Value.EventId);
                break;
        }
    }

    /// <summary>
    /// How recently before a start the account must have been watched for an open episode to be resumed: a restart's gap
    /// (a tick, the process's start), at least a minute.
    /// </summary>
    private TimeSpan ResumeWindow => TimeSpan.FromSeconds(Math.Max(60, 3 * options.Value.MarginMonitor.IntervalSeconds));
}
