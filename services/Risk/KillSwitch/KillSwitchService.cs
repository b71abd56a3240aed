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
/// a reason clears it. A latch for a breach the Ledger could not take is owed, kept on in memory and written in the
/// background (<see cref="LatchAsync"/>, KillSwitchService.Owed.cs).
/// </summary>
public sealed partial class KillSwitchService(
    LedgerService.LedgerServiceClient ledger,
    RiskStateCache cache,
    TimeProvider time,
    ILogger<KillSwitchService> logger) : IDisposable
{
    /// <summary>
    /// The switch as Risk enforces it: the Ledger's, or a latch this process owes the Ledger (<see cref="Owed"/>) while the
    /// Ledger has the switch off or cannot be reached. A switch known to be on is answered without the Ledger.
    /// </summary>
    public async Task<KillSwitchView> GetAsync(CancellationToken cancellationToken)
    {
        KillSwitchView view;
        try
        {
            view = await ReadAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (RpcException) when (Owed is { } owed)
        {
            return owed;
        }

        return !view.Active && Owed is { } pending ? pending : view;
    }

    /// <summary>The switch as the Ledger has it now (the cache learns it too).</summary>
    private async Task<KillSwitchView> ReadAsync(CancellationToken cancellationToken)
    {
        var state = await LedgerCall.Run(() => ledger.GetKillSwitchAsync(new GetKillSwitchRequest(), cancellationToken: cancellationToken).ResponseAsync)
            .ConfigureAwait(false);
        var view = LedgerRiskStateSource.ToView(state);
        cache.Apply(view);
        return view;
    }

    /// <summary>
    /// Latches the switch unless it is already active (then the first cause is kept). <paramref name="idempotencyKey"/>
    /// names one request forever, as the Ledger keeps it (key, fingerprint of the request, answer): the same key with
    /// the same request answers what the first did and changes nothing, even after the switch changed since; with
    /// another request it is ALREADY_EXISTS. A retry after the switch changed but its risk event was not written writes
    /// the event (<see cref="ChangeAsync"/>).
    /// </summary>
    public Task<KillSwitchView> TriggerAsync(
        string idempotencyKey, string trigger, string reason, string actor, string? metric, string? limit, CancellationToken cancellationToken) =>
        ChangeAsync(idempotencyKey, new SetKillSwitchRequest { Active = true, Trigger = trigger, Reason = reason, Actor = actor },
            "kill_switch_" + trigger, RiskEventSeverity.Critical, reason, metric, limit, null, cancellationToken);

    /// <summary>
    /// Latches the switch for a limit breach found by a check or the monitor, once per breach: keyed by the switch's
    /// last change as the Ledger has it now. Not the cache's, which may not have seen a
    /// latch and reset of the last seconds: its key would be the earlier latch's, which the Ledger refuses
    /// (ALREADY_EXISTS: same key, another reason). Two latches of one breach at once (the monitor and a check) share a
    /// key; the one that loses finds the switch on, which is what it asked for.
    /// <para>
    /// The breach is already decided, so the Ledger failing to take the latch (unreachable, refusing, slower than
    /// <see cref="InlineLatchTimeout"/>) does not fail the caller: the latch is owed instead. This process keeps the switch
    /// on in memory from here (every later check is denied KILL_SWITCH_ACTIVE, even before the Ledger answers again) and
    /// writes it in the background with back-off until the Ledger takes it, under one key (<see cref="WriteOwedAsync"/>).
    /// Before, the caller got UNAVAILABLE for a denial that was known, and the latch was left to whoever retried.
    /// A latch already owed is the switch's first cause: a later breach keeps it and writes nothing more.
    /// </para>
    /// </summary>
    public async Task<KillSwitchView> LatchAsync(string trigger, string reason, string? metric, string? limit, CancellationToken cancellationToken)
    {
        var latch = new OwedLatch(trigger, reason, metric, limit, time.GetUtcNow());
        NoteDecided(latch);
        if (Owed is { } owed)
        {
            return owed;
        }

        try
        {
            using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            bounded.CancelAfter(InlineLatchTimeout);
            return await WriteLatchAsync(latch, bounded.Token).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            // Whatever failed (the caller gave up included), the breach stands: owe the latch rather than lose it.
            return Owe(latch, ex.GetType().Name, ex.Message);
        }
    }

    /// <summary>
    /// One attempt at a latch: nothing to write when the Ledger already has the switch on (the first cause is kept);
    /// otherwise the trigger under the latch's key, which is fixed by the first attempt that gets this far and reused by
    /// every retry, so an attempt that reached the Ledger but lost its answer is answered from the Ledger's idempotency
    /// (and its risk event written once) instead of being written again.
    /// </summary>
    private async Task<KillSwitchView> WriteLatchAsync(OwedLatch latch, CancellationToken cancellationToken)
    {
        var current = await ReadAsync(cancellationToken).ConfigureAwait(false);
        if (current.Active)
        {
            return current;
        }

        var generation = current.ChangedAt?.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture) ?? "0";
        var key = latch.FixKey($"latch:{latch.Trigger}:{generation}");
        try
        {
            return await TriggerAsync(key, latch.Trigger, latch.Reason, "risk", latch.Metric, latch.Limit, cancellationToken).ConfigureAwait(false);
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.AlreadyExists)
        {
            var now = await ReadAsync(cancellationToken).ConfigureAwait(false);
            if (now.Active)
            {
                return now;
            }

            // The key names another request, so this latch's was never applied: the next attempt keys it afresh from
            // the switch's last change, not forever on a key the Ledger refuses.
            latch.ReleaseKey(key);
            throw;
        }
    }

    /// <summary>
    /// Clears the switch. Operator and reason are validated by the caller, and so is <paramref name="operatorKey"/>, the key
    /// the operator presented: it goes to the Ledger as <c>x-operator-key</c> metadata, since the Ledger refuses a reset
    /// without its own key (so that it is no way around Risk's check). A Ledger configured with another key answers
    /// PERMISSION_DENIED, passed through to the caller; the switch stays on. A switch already off is left alone. Keys name
    /// one request forever, as <see cref="TriggerAsync"/>'s do: a retried reset that arrives after a newer latch answers
    /// the first reset's answer and leaves that latch on.
    /// <para>
    /// A reset and an owed latch (<see cref="LatchAsync"/>) are ordered by when each was decided; the race may leave the
    /// switch on when it need not be, never off after a breach:
    /// a latch owed when the reset begins was decided before the operator's reset, so it is written to the Ledger first
    /// and then reset, as if the Ledger had taken it in time (the record shows the breach and the reset that cleared
    /// it). If it cannot be written, the reset fails (UNAVAILABLE: the Ledger is not taking writes anyway) and the switch
    /// stays on. A breach decided after the reset began (a check or the monitor while the reset was under way) must
    /// outlive it: once the reset is done, it is owed again and written after it, under a key from the reset's change.
    /// </para>
    /// </summary>
    public async Task<KillSwitchView> ResetAsync(string idempotencyKey, string @operator, string reason, string operatorKey, CancellationToken cancellationToken)
    {
        var began = time.GetUtcNow();
        if (OwedLatchNow is { } owed)
        {
            await WriteLatchAsync(owed, cancellationToken).ConfigureAwait(false);
            Settle(owed);
        }

        KillSwitchView view;
        try
        {
            view = await ChangeAsync(idempotencyKey, new SetKillSwitchRequest { Active = false, Trigger = KillSwitchTriggers.Operator, Reason = reason, Actor = @operator },
                "kill_switch_reset", RiskEventSeverity.Warning, $"{@operator}: {reason}", null, null,
                new Metadata { { OperatorKeyGuard.HeaderName, operatorKey } }, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (!RefusedBeforeWriting(ex) && Volatile.Read(ref _lastDecided) is { } decided && decided.DecidedAt >= began)
        {
            // A reset that failed may still have cleared the switch in the Ledger (its SetKillSwitch committed, and its risk
            // event or its answer was lost): a breach decided since it began must outlive it all the same. Owing it is
            // harmless when the switch is still on (the writer finds it on and settles).
            Owe(decided.Again(), "reset", "a breach was decided while a reset that failed was under way");
            throw;
        }

        if (!view.Active && Volatile.Read(ref _lastDecided) is { } later && later.DecidedAt >= began)
        {
            return Owe(later.Again(), "reset", "a breach was decided while the reset was under way");
        }

        return view;
    }

    /// <summary>
    /// The change, through the Ledger's idempotency under the caller's key (not scoped to the switch's state: before, a
    /// reset key was scoped to the switch's last change, so a late retry of a reset cleared a newer latch nobody saw),
    /// then its risk event under the same key, stamped with the change's time so that a retry sends the same event: a
    /// retry after the change committed and the event failed writes the event, once. A change the Ledger found already
    /// made (<c>unchanged</c>) has no event. <paramref name="headers"/> go with the Ledger's SetKillSwitch only (a reset's
    /// operator key), not with its risk event.
    /// </summary>
    private async Task<KillSwitchView> ChangeAsync(
        string idempotencyKey, SetKillSwitchRequest change, string eventType, RiskEventSeverity severity, string eventReason, string? metric, string? limit,
        Metadata? headers, CancellationToken cancellationToken)
    {
        var key = LedgerKey(idempotencyKey);
        change.IdempotencyKey = "ks:" + key;
        var state = await LedgerCall.Run(() => ledger.SetKillSwitchAsync(change, headers, cancellationToken: cancellationToken).ResponseAsync)
            .ConfigureAwait(false);
        var view = LedgerRiskStateSource.ToView(state);
        if (state.Replayed)
        {
            // The answer the key was first given: the switch may have changed since, so the cache learns it from a read.
            await ReadAsync(cancellationToken).ConfigureAwait(false);
        }
        else
        {
            cache.Apply(view);
        }

        if (state.Unchanged)
        {
            return view;
        }

        if (!state.Replayed)
        {
            if (change.Active)
            {
                LogTriggered(logger, change.Trigger, change.Actor, change.Reason);
            }
            else
            {
                LogReset(logger, change.Actor, change.Reason);
            }
        }

        await LogEventAsync("re:" + key, eventType, severity, eventReason, metric, limit, view.ChangedAt ?? time.GetUtcNow(), cancellationToken)
            .ConfigureAwait(false);
        return view;
    }

    /// <summary>The Ledger's limits on a key and on a risk event's reason.</summary>
    private const int LedgerKeyLength = 128;

    private const int LedgerReasonLength = 1024;

    /// <summary>
    /// A caller's key fitted to the Ledger's key length with the "ks:"/"re:" prefix: a key that would not fit is replaced
    /// by its SHA-256 (hex, 64 characters), so a long key the contract accepts is never refused by the Ledger after the fact.
    /// </summary>
    public static string LedgerKey(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return key.Length + 3 <= LedgerKeyLength
            ? key
            : "#" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(key)));
    }

    /// <summary>A risk event's reason cut to the Ledger's 1,024 characters (an operator's name before a 1,024-character reason went over).</summary>
    private static string EventReason(string reason) => Wire.Cut(reason, LedgerReasonLength);

    private Task LogEventAsync(
        string idempotencyKey, string eventType, RiskEventSeverity severity, string reason, string? metric, string? limit, DateTimeOffset occurredAt,
        CancellationToken cancellationToken) =>
        LedgerCall.Run(() => ledger.LogRiskEventAsync(new LogRiskEventRequest
        {
            IdempotencyKey = idempotencyKey,
            EventType = eventType,
            Severity = severity,
            Reason = EventReason(reason),
            MetricValue = metric ?? string.Empty,
            LimitValue = limit ?? string.Empty,
            OccurredAt = Wire.Timestamp(occurredAt),
        }, cancellationToken: cancellationToken).ResponseAsync);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Kill switch triggered ({Trigger}) by {Actor}: {Reason}")]
    private static partial void LogTriggered(ILogger logger, string trigger, string actor, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Kill switch reset by {Operator}: {Reason}")]
    private static partial void LogReset(ILogger logger, string @operator, string reason);
}
