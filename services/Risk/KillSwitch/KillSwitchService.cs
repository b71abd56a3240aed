using System.Globalization;
using Grpc.Core;
using TradeEngine.Ledger.V1;
using TradeEngine.Risk.State;
using TradeEngine.ServiceDefaults.Grpc;

namespace TradeEngine.Risk.KillSwitch;

/// <summary>
/// Changes to the kill switch. Its state lives in the Ledger (so it survives restarts of every service); the
/// Ledger's outbox publishes <c>KillSwitchTriggered</c> for each change, in the same transaction. Every change is
/// also a risk event. Triggering an active switch changes nothing (the first cause is kept); only an operator with
/// a reason clears it.
/// </summary>
public sealed partial class KillSwitchService(
    LedgerService.LedgerServiceClient ledger,
    RiskStateCache cache,
    TimeProvider time,
    ILogger<KillSwitchService> logger)
{
    public async Task<KillSwitchView> GetAsync(CancellationToken cancellationToken)
    {
        var state = await LedgerCall.Run(() => ledger.GetKillSwitchAsync(new GetKillSwitchRequest(), cancellationToken: cancellationToken).ResponseAsync)
            .ConfigureAwait(false);
        var view = LedgerRiskStateSource.ToView(state);
        cache.Apply(view);
        return view;
    }

    /// <summary>
    /// Latches the switch unless it is already active. <paramref name="idempotencyKey"/> makes a retry harmless: the
    /// Ledger's keys are scoped to the switch's last change (<see cref="ScopedKey"/>), so a retry while the switch is
    /// still off is the same write, while the same key given again after a later reset is a new trigger. Before, such a
    /// reused key replayed the first trigger's answer and wrote nothing: the switch stayed off, and the call failed on
    /// its risk event (ALREADY_EXISTS) or answered "active" for a switch that was not.
    /// </summary>
    public async Task<KillSwitchView> TriggerAsync(
        string idempotencyKey, string trigger, string reason, string actor, string? metric, string? limit, CancellationToken cancellationToken)
    {
        var current = await GetAsync(cancellationToken).ConfigureAwait(false);
        if (current.Active)
        {
            return current;
        }

        var scoped = ScopedKey(idempotencyKey, current);
        var state = await LedgerCall.Run(() => ledger.SetKillSwitchAsync(new SetKillSwitchRequest
        {
            IdempotencyKey = "ks:" + scoped,
            Active = true,
            Trigger = trigger,
            Reason = reason,
            Actor = actor,
        }, cancellationToken: cancellationToken).ResponseAsync).ConfigureAwait(false);
        var view = LedgerRiskStateSource.ToView(state);
        cache.Apply(view);
        LogTriggered(logger, trigger, actor, reason);
        await LogEventAsync("re:" + scoped, "kill_switch_" + trigger, RiskEventSeverity.Critical, reason, metric, limit, cancellationToken)
            .ConfigureAwait(false);
        return view;
    }

    /// <summary>
    /// Latches the switch for a limit breach found by a check or the monitor, once per breach: keyed by the switch's
    /// last change as the Ledger has it now. Not the cache's, which may not have seen a
    /// latch and reset of the last seconds: its key would be the earlier latch's, which the Ledger refuses
    /// (ALREADY_EXISTS: same key, another reason). Two latches of one breach at once (the monitor and a check) share a
    /// key; the one that loses finds the switch on, which is what it asked for.
    /// </summary>
    public async Task<KillSwitchView> LatchAsync(string trigger, string reason, string? metric, string? limit, CancellationToken cancellationToken)
    {
        var current = await GetAsync(cancellationToken).ConfigureAwait(false);
        if (current.Active)
        {
            return current;
        }

        var generation = current.ChangedAt?.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture) ?? "0";
        try
        {
            return await TriggerAsync($"latch:{trigger}:{generation}", trigger, reason, "risk", metric, limit, cancellationToken).ConfigureAwait(false);
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.AlreadyExists)
        {
            var now = await GetAsync(cancellationToken).ConfigureAwait(false);
            if (now.Active)
            {
                return now;
            }

            throw;
        }
    }

    /// <summary>
    /// Clears the switch. Operator and reason are validated by the caller; a switch already off is left alone. Keys are
    /// scoped as <see cref="TriggerAsync"/>'s are: a reset key reused after a later latch resets that latch, where it
    /// replayed the first reset's answer (off) and left the switch on.
    /// </summary>
    public async Task<KillSwitchView> ResetAsync(string idempotencyKey, string @operator, string reason, CancellationToken cancellationToken)
    {
        var current = await GetAsync(cancellationToken).ConfigureAwait(false);
        if (!current.Active)
        {
            return current;
        }

        var scoped = ScopedKey(idempotencyKey, current);
        var state = await LedgerCall.Run(() => ledger.SetKillSwitchAsync(new SetKillSwitchRequest
        {
            IdempotencyKey = "ks:" + scoped,
            Active = false,
            Trigger = KillSwitchTriggers.Operator,
            Reason = reason,
            Actor = @operator,
        }, cancellationToken: cancellationToken).ResponseAsync).ConfigureAwait(false);
        var view = LedgerRiskStateSource.ToView(state);
        cache.Apply(view);
        LogReset(logger, @operator, reason);
        await LogEventAsync("re:" + scoped, "kill_switch_reset", RiskEventSeverity.Warning, $"{@operator}: {reason}", null, null, cancellationToken)
            .ConfigureAwait(false);
        return view;
    }

    /// <summary>The Ledger's limits on a key and on a risk event's reason.</summary>
    private const int LedgerKeyLength = 128;

    private const int LedgerReasonLength = 1024;

    /// <summary>
    /// A caller's key scoped to the switch's last change (its time in ms, 0 before any), fitted to the Ledger's key
    /// length with the "ks:"/"re:" prefix: a key that would not fit is replaced by its SHA-256 (hex, 64 characters), so
    /// a long key the contract accepts is never refused by the Ledger after the fact.
    /// </summary>
    public static string ScopedKey(string key, KillSwitchView current)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(current);
        var generation = current.ChangedAt?.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture) ?? "0";
        var scoped = generation + ":" + key;
        return scoped.Length + 3 <= LedgerKeyLength
            ? scoped
            : generation + ":#" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(key)));
    }

    /// <summary>A risk event's reason cut to the Ledger's 1,024 characters (an operator's name before a 1,024-character reason went over).</summary>
    private static string EventReason(string reason) => Wire.Cut(reason, LedgerReasonLength);

    public Task LogEventAsync(
        string idempotencyKey, string eventType, RiskEventSeverity severity, string reason, string? metric, string? limit, CancellationToken cancellationToken) =>
        LedgerCall.Run(() => ledger.LogRiskEventAsync(new LogRiskEventRequest
        {
            IdempotencyKey = idempotencyKey,
            EventType = eventType,
            Severity = severity,
            Reason = EventReason(reason),
            MetricValue = metric ?? string.Empty,
            LimitValue = limit ?? string.Empty,
            OccurredAt = Wire.Timestamp(time.GetUtcNow()),
        }, cancellationToken: cancellationToken).ResponseAsync);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Kill switch triggered ({Trigger}) by {Actor}: {Reason}")]
    private static partial void LogTriggered(ILogger logger, string trigger, string actor, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Kill switch reset by {Operator}: {Reason}")]
    private static partial void LogReset(ILogger logger, string @operator, string reason);
}
