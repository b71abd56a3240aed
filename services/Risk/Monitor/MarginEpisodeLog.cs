using Grpc.Core;
using TradeEngine.Domain.Margin;
using TradeEngine.Ledger.V1;
using TradeEngine.Risk.KillSwitch;
using TradeEngine.ServiceDefaults.Grpc;

namespace TradeEngine.Risk.Monitor;

/// <summary>
/// The margin monitor's episodes as the Ledger records them: each alert a risk event (<see cref="Reduce"/>,
/// <see cref="LiquidateAll"/>) whose correlation id is the alert's event id, and each return to Ok a
/// <see cref="Recovered"/>. A restarted monitor reads the newest of the three back (<see cref="ReadOpenAsync"/>): an alert
/// not followed by a recovery is an episode still open, whose alert goes out again under the same event id (the
/// consumers' inbox takes it as done) instead of a new one (Execution halved the largest position a second time).
/// </summary>
public sealed class MarginEpisodeLog(LedgerService.LedgerServiceClient ledger)
{
    public const string Reduce = "margin_reduce";

    public const string LiquidateAll = "margin_liquidate_all";

    public const string Recovered = "margin_recovered";

    /// <summary>
    /// How long one call of the record may take (not the clients' 10 s default): the alert's record is written before the
    /// alert is published, and the read-back comes before the first alert, so a Ledger that hangs delays the alert by at
    /// most this each, then the alert goes out without them.
    /// </summary>
    public static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(2);

    /// <summary>
    /// The alert of the episode the Ledger shows open (the newest of the three types is an alert with a correlation id),
    /// or null: none, or it ended with a recovery. <c>Watched</c> says whether the account was observed (a PnL snapshot, which
    /// the monitor writes every tick) within <paramref name="window"/> before <paramref name="before"/>: only then is the
    /// episode known to have gone on until a moment ago. Throws when the Ledger cannot be read.
    /// </summary>
    public async Task<(MarginAction Action, Guid EventId, bool Watched)?> ReadOpenAsync(
        DateTimeOffset before, TimeSpan window, CancellationToken cancellationToken)
    {
        var response = await LedgerCall.Run(() => ledger.GetRiskEventsAsync(new GetRiskEventsRequest
        {
            EventTypes = { Reduce, LiquidateAll, Recovered },
            Page = new TradeEngine.Common.V1.PageRequest { PageSize = 1 },
        }, deadline: DateTime.UtcNow.Add(CallTimeout), cancellationToken: cancellationToken).ResponseAsync).ConfigureAwait(false);
        if (response.Events.Count == 0 || !Guid.TryParse(response.Events[0].CorrelationId, out var eventId))
        {
            // Nothing recorded, or an alert written before alerts carried their event id: nothing to publish again.
            return null;
        }

        MarginAction? action = response.Events[0].EventType switch
        {
            Reduce => MarginAction.Reduce,
            LiquidateAll => MarginAction.LiquidateAll,
            _ => null,
        };
        if (action is null)
        {
            return null;
        }

        var curve = await LedgerCall.Run(() => ledger.GetEquityCurveAsync(new GetEquityCurveRequest
        {
            Range = new TradeEngine.Common.V1.TimeRange { Start = Wire.Timestamp(before - window), End = Wire.Timestamp(before) },
            MaxPoints = 2,
        }, deadline: DateTime.UtcNow.Add(CallTimeout), cancellationToken: cancellationToken).ResponseAsync).ConfigureAwait(false);
        return (action.Value, eventId, curve.Points.Count > 0);
    }

    /// <summary>The alert's record; its key is derived from the event id, so the same alert is recorded once.</summary>
    public Task LogAlertAsync(
        MarginAction action, Guid eventId, string reason, string ratio, string limit, DateTimeOffset occurredAt, CancellationToken cancellationToken) =>
        LogAsync($"margin:{eventId:N}", action == MarginAction.LiquidateAll ? LiquidateAll : Reduce,
            action == MarginAction.LiquidateAll ? RiskEventSeverity.Critical : RiskEventSeverity.Warning,
            reason, ratio, limit, eventId, occurredAt, cancellationToken);

    /// <summary>The end of the episode whose alert was <paramref name="episodeEventId"/> (its correlation id).</summary>
    public Task LogRecoveredAsync(Guid episodeEventId, string reason, string ratio, string limit, DateTimeOffset occurredAt, CancellationToken cancellationToken) =>
        LogAsync($"margin:recovered:{episodeEventId:N}", Recovered, RiskEventSeverity.Info, reason, ratio, limit, episodeEventId, occurredAt, cancellationToken);

    /// <remarks>
    /// ALREADY_EXISTS is the record landing: its key is the event id's. A retry of an owed record carries the first
    /// payload (a replay), but a record written by an earlier process under the same id (a resumed episode) can differ in
    /// time and ratio, which the Ledger refuses as another payload. The first stands; the record is there.
    /// </remarks>
    private async Task LogAsync(
        string key, string eventType, RiskEventSeverity severity, string reason, string ratio, string limit, Guid correlationId,
        DateTimeOffset occurredAt, CancellationToken cancellationToken)
    {
        try
        {
            await Send().ConfigureAwait(false);
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.AlreadyExists)
        {
        }

        Task<LogRiskEventResponse> Send() => LedgerCall.Run(() => ledger.LogRiskEventAsync(new LogRiskEventRequest
        {
            IdempotencyKey = key,
            EventType = eventType,
            Severity = severity,
            Reason = reason,
            MetricValue = ratio,
            LimitValue = limit,
            CorrelationId = correlationId.ToString(),
            OccurredAt = Wire.Timestamp(occurredAt),
        }, deadline: DateTime.UtcNow.Add(CallTimeout), cancellationToken: cancellationToken).ResponseAsync);
    }
}
