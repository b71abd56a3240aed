using Grpc.Core;
using TradeEngine.Binance.Errors;
using TradeEngine.Binance.Models;
using TradeEngine.Binance;
using TradeEngine.Domain;
using TradeEngine.Execution.Concurrency;
using TradeEngine.Execution.Ledger;
using TradeEngine.Execution.Logging;
using TradeEngine.Execution.Mapping;
using TradeEngine.Execution.V1;
using TradeEngine.Execution.Venue;
using TradeEngine.Risk.V1;
using TradeEngine.ServiceDefaults.Grpc;
using LedgerV1 = TradeEngine.Ledger.V1;

namespace TradeEngine.Execution.Positions;

/// <summary>
/// Leverage and margin type of a symbol. Leverage is validated here, then Risk decides (its limit and the symbol's
/// bracket); when Risk says invalid the answer is FAILED_PRECONDITION naming the rule and nothing goes to the venue.
/// Both are keyed by their idempotency key like every mutating call: a repeat replays the first answer (a late retry of
/// an old key does not put an old setting back), and the key with a different request is ALREADY_EXISTS. A leverage the
/// venue took applies to the symbol's whole open position, so the Ledger's open record is amended to it (see
/// <see cref="RecordLeverageAsync"/>), and the amended position is streamed (<see cref="StreamAmendedAsync"/>).
/// </summary>
public sealed class SettingsHandler(
    IBinanceClient venue,
    RiskService.RiskServiceClient risk,
    InstrumentDirectory instruments,
    SymbolLocks locks,
    RequestDeduplicator deduplicator,
    LedgerBook ledger,
    FillRecorder fills,
    IHostApplicationLifetime lifetime,
    ILogger<SettingsHandler> logger)
{
    public async Task<SetLeverageResponse> SetLeverageAsync(SetLeverageRequest request, CancellationToken cancellationToken)
    {
        var violations = new List<FieldViolation>();
        // The rule every key of ours follows (Wire.Key): no control or invisible characters, no spaces at either end.
        // Before, only emptiness and length were checked here: the venue's setting was changed under a key the Ledger
        // then refused for the record's amend, and "k" and "k " were two keys.
        if (Wire.KeyProblem(request.IdempotencyKey) is { } keyProblem)
        {
            violations.Add(new FieldViolation("idempotency_key", keyProblem));
        }

        if (request.Leverage is < Domain.Leverage.Min or > Domain.Leverage.Max)
        {
            violations.Add(new FieldViolation("leverage", $"must be from {Domain.Leverage.Min} to {Domain.Leverage.Max}"));
        }

        var symbol = await SymbolAsync(request.Symbol, violations, cancellationToken).ConfigureAwait(false);
        if (violations.Count > 0)
        {
            throw new RequestValidationException(violations);
        }

        var (response, _) = await deduplicator.RunAsync(
            "set-leverage", request.IdempotencyKey, request, () => Detached.Run(() => ApplyLeverageAsync(symbol, request.Leverage, request.IdempotencyKey))).ConfigureAwait(false);
        return response;
    }

    private async Task<SetLeverageResponse> ApplyLeverageAsync(string symbol, int leverage, string key)
    {
        var ct = lifetime.ApplicationStopping;
        var verdict = await risk.ValidateLeverageAsync(
            new ValidateLeverageRequest { Symbol = symbol, Leverage = leverage }, cancellationToken: ct).ConfigureAwait(false);
        if (!verdict.Valid)
        {
            throw new RpcException(new Status(StatusCode.FailedPrecondition,
                $"leverage: {verdict.Reason} (risk rule: leverage_limit, maximum {verdict.MaxLeverage})"));
        }

        using var held = await locks.AcquireAsync(symbol, ct).ConfigureAwait(false);
        using var bounded = VenueHoldLimit.Enter(OpenPositionHandler.LockedHoldLimit);
        var setting = await venue.ChangeLeverageAsync(symbol, leverage, ct).ConfigureAwait(false);
        await RecordLeverageAsync(symbol, setting.Leverage, key, ct).ConfigureAwait(false);
        return new SetLeverageResponse
        {
            Symbol = setting.Symbol,
            Leverage = setting.Leverage,
            MaxNotionalValue = Wire.Format(setting.MaxNotionalValue),
        };
    }

    /// <summary>
    /// After the venue took a leverage: the symbol's open record, if any, is amended to it, under the symbol's lock (so no
    /// open, add or close of ours is half-way), keyed by this application of the call (its key and a fresh id: the Ledger
    /// write's own retries replay it, but a retry of the call that reaches the venue again after a restart writes what the
    /// venue now applies, never a replay of an older answer while the record holds another leverage; a record already at
    /// the leverage is not written at all). When Ledger writes are still queued
    /// (the record may be one of them) or the record cannot be read, the amend is queued behind them; a write the Ledger
    /// does not take in time is queued too (LedgerWrites). The answer is the venue's either way: the venue has changed
    /// it. A refusal is logged, and reconciliation amends the record from the venue.
    /// </summary>
    private async Task RecordLeverageAsync(string symbol, int leverage, string key, CancellationToken ct)
    {
        var description = $"leverage {leverage}x of {symbol} ({key})";
        var attempt = key + ":" + Guid.NewGuid().ToString("N");
        try
        {
            // A second at most for the read: this is bookkeeping under the symbol's lock, and a close (a margin alert's, the
            // kill switch's) must not wait on a hung Ledger behind it; unanswered, the amend is queued.
            var (record, answered) = ledger.HasQueuedWrites ? (null, false) : await ledger.TryOpenRecordAsync(symbol, ct, RecordReadDeadline).ConfigureAwait(false);
            if (!answered)
            {
                ledger.AfterQueuedWrites(description, symbol, (queued, c) => AmendAsync(queued, leverage, attempt, c));
                return;
            }

            var amended = await AmendAsync(record, leverage, attempt, ct).ConfigureAwait(false);
            await StreamAmendedAsync(symbol, amended, ct).ConfigureAwait(false);
        }
        catch (RpcException ex) when (!LedgerWrites.IsTransient(ex))
        {
            Log.LeverageNotRecorded(logger, ex, symbol, leverage, ex.StatusCode);
        }
    }

    /// <summary>The amended record; null when there was nothing to amend, or the amend was queued.</summary>
    private Task<LedgerV1.PositionRecord?> AmendAsync(LedgerV1.PositionRecord? record, int leverage, string attempt, CancellationToken ct) =>
        record is null || record.Leverage == leverage
            ? Task.FromResult<LedgerV1.PositionRecord?>(null)
            : ledger.AmendLeverageAsync($"set-leverage:{attempt}:{record.PositionId}", record, leverage, ct);

    /// <summary>
    /// Streams the record the Ledger amended as CHANGED: the venue applies the leverage to the whole position, a change to
    /// it like any other, streamed under the symbol's lock so the symbol's updates keep the venue's order (see
    /// <see cref="FillRecorder.Publish(PositionUpdateKind, Position)"/>). At the venue's mark, read for it only while someone
    /// subscribes. Nothing when the venue no longer holds the position (a close reconciliation has yet to record), or the
    /// read fails (logged: the leverage is set either way), or the Ledger gave no amended record: an amend queued streams
    /// nothing when it lands, as no queued write does. Like every update built from a record, it carries no liquidation
    /// price (empty, not the one before the change); GetPosition and the stream's snapshot carry the venue's.
    /// </summary>
    private async Task StreamAmendedAsync(string symbol, LedgerV1.PositionRecord? amended, CancellationToken ct)
    {
        if (amended is null || !fills.HasSubscribers)
        {
            return;
        }

        PositionRisk? open;
        try
        {
            open = await fills.OpenAtVenueAsync(symbol, ct).ConfigureAwait(false);
        }
        catch (BinanceException ex)
        {
            Log.LeverageUpdateNotStreamed(logger, ex, symbol, amended.Leverage);
            return;
        }

        if (open is not null)
        {
            fills.Publish(PositionUpdateKind.Changed, amended, open.MarkPrice);
        }
    }

    /// <summary>How long the open record's read under the symbol's lock may take before the amend is queued instead.</summary>
    private static readonly TimeSpan RecordReadDeadline = TimeSpan.FromSeconds(1);

    public async Task<SetMarginTypeResponse> SetMarginTypeAsync(SetMarginTypeRequest request, CancellationToken cancellationToken)
    {
        var violations = new List<FieldViolation>();
        // The rule every key of ours follows (Wire.Key): no control or invisible characters, no spaces at either end.
        // Before, only emptiness and length were checked here: the venue's setting was changed under a key the Ledger
        // then refused for the record's amend, and "k" and "k " were two keys.
        if (Wire.KeyProblem(request.IdempotencyKey) is { } keyProblem)
        {
            violations.Add(new FieldViolation("idempotency_key", keyProblem));
        }

        Domain.MarginType marginType = default;
        try
        {
            marginType = ExecutionWire.MarginType(request.MarginType, "margin_type");
        }
        catch (RequestValidationException ex)
        {
            violations.AddRange(ex.Violations);
        }

        var symbol = await SymbolAsync(request.Symbol, violations, cancellationToken).ConfigureAwait(false);
        if (violations.Count > 0)
        {
            throw new RequestValidationException(violations);
        }

        var (response, _) = await deduplicator.RunAsync(
            "set-margin-type", request.IdempotencyKey, request, () => Detached.Run(() => ApplyMarginTypeAsync(symbol, marginType))).ConfigureAwait(false);
        return response;
    }

    private async Task<SetMarginTypeResponse> ApplyMarginTypeAsync(string symbol, Domain.MarginType marginType)
    {
        var ct = lifetime.ApplicationStopping;
        using var held = await locks.AcquireAsync(symbol, ct).ConfigureAwait(false);
        using var bounded = VenueHoldLimit.Enter(OpenPositionHandler.LockedHoldLimit);
        var change = await venue.ChangeMarginTypeAsync(symbol, marginType, ct).ConfigureAwait(false);
        return new SetMarginTypeResponse { Symbol = change.Symbol, MarginType = ExecutionWire.MarginType(change.MarginType) };
    }

    private async Task<string> SymbolAsync(string symbol, List<FieldViolation> violations, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(symbol))
        {
            violations.Add(new FieldViolation("symbol", "is required"));
            return string.Empty;
        }

        if (!Domain.Symbol.TryParse(symbol, out _))
        {
            violations.Add(new FieldViolation("symbol", $"'{symbol}' is not a symbol the venue lists"));
            return symbol;
        }

        try
        {
            var instrument = await instruments.FindAsync(symbol, cancellationToken).ConfigureAwait(false);
            if (instrument is null)
            {
                violations.Add(new FieldViolation("symbol", $"'{symbol}' is not a symbol the venue lists"));
            }
            else if (instrument.NotUsdtReason is { } notUsdt)
            {
                // A contract margined in another asset (a USDC-margined perpetual) is not this system's: a position on it
                // is held by hand, the operator's, whose leverage or margin type a call here must not change under them.
                // A USDT perpetual no longer opened here (PERPETUAL_DELIVERING, being delisted) may still hold one of our
                // positions, whose leverage can be lowered.
                violations.Add(new FieldViolation("symbol", $"'{symbol}' is listed by the venue but not traded here: {notUsdt}; nothing was sent"));
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException && violations.Count > 0)
        {
            // The venue's instrument list is out of reach and another field is malformed whatever the venue lists: that
            // is the answer (INVALID_ARGUMENT), not the venue's state (UNAVAILABLE).
        }

        return symbol;
    }
}
