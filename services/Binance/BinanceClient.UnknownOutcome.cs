using Microsoft.Extensions.Logging;
using TradeEngine.Binance.Errors;
using TradeEngine.Binance.Internal.Http;
using TradeEngine.Domain;

namespace TradeEngine.Binance;

public sealed partial class BinanceClient
{
    /// <summary>Pauses between look-ups of an order whose outcome is unknown; the last one repeats.</summary>
    private static readonly TimeSpan[] LookupBackoff =
        [TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(200), TimeSpan.FromMilliseconds(400), TimeSpan.FromMilliseconds(800), TimeSpan.FromSeconds(1)];

    /// <summary>Failed look-ups tolerated once the order can no longer execute, before giving up as unknown.</summary>
    private const int LookupFailuresAfterExpiry = 2;

    /// <summary>The most ids kept in doubt; past it, those whose copies can no longer execute are forgotten first.</summary>
    private const int MaxInDoubt = 10_000;

    // Client order ids (per symbol, as Binance keeps them) whose order a call left in doubt (it threw
    // BinanceUnknownOrderOutcomeException), with the venue-clock millisecond until which a copy it sent may still execute.
    // In memory: a restart takes longer than a recvWindow.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<(string Symbol, string ClientId), long> _inDoubt = new();

    /// <summary>The venue-clock millisecond after which no copy of <paramref name="request"/> can execute any more.</summary>
    private long InDoubtUntil(VenueRequest request) =>
        (request.LastSentTimestamp ?? _transport.Clock.ServerNowMilliseconds()) + _options.RecvWindow + (long)_options.UnknownOutcomeMargin.TotalMilliseconds;

    private void RememberInDoubt(string symbol, string clientId, long until)
    {
        if (_inDoubt.Count >= MaxInDoubt)
        {
            var now = _transport.Clock.ServerNowMilliseconds();
            foreach (var expired in _inDoubt.Where(e => e.Value < now).Select(e => e.Key).ToList())
            {
                _inDoubt.TryRemove(expired, out _);
            }
        }

        _inDoubt[(symbol, clientId)] = until;
    }

    /// <summary>
    /// For an id an earlier call left in doubt: waits until no copy that call sent can execute any more, then looks the
    /// order up. Found: it is the answer (no order is sent). Not found: nothing of the earlier call executed, and the id is
    /// free to send. A look-up that fails (or the caller's cancellation while waiting) keeps it in doubt:
    /// <see cref="BinanceUnknownOrderOutcomeException"/>.
    /// </summary>
    private async Task<TDto?> SettleInDoubtAsync<TDto>(
        long until, Func<CancellationToken, Task<TDto?>> lookup, string symbol, string clientId, CancellationToken ct)
        where TDto : class
    {
        // An order that may be at the venue is risk either way: urgent, and waiting as long as it must.
        using var urgent = VenueRequestPriority.Enter(VenuePriority.Urgent);
        using var unbounded = VenueHoldLimit.Enter(null);
        try
        {
            var wait = until - _transport.Clock.ServerNowMilliseconds();
            if (wait > 0)
            {
                LogWaitingOutInDoubt(_logger, symbol, clientId, wait);
                await Task.Delay(TimeSpan.FromMilliseconds(wait), _time, ct).ConfigureAwait(false);
            }

            var found = await lookup(ct).ConfigureAwait(false);
            _inDoubt.TryRemove(new KeyValuePair<(string, string), long>((symbol, clientId), until));
            return found;
        }
        catch (Exception e) when (e is not BinanceUnknownOrderOutcomeException)
        {
            LogLookupFailed(_logger, symbol, clientId, e.GetType().Name);
            throw new BinanceUnknownOrderOutcomeException(symbol, clientId, e);
        }
    }

    /// <summary>
    /// Looks the order up until it exists (returned) or a look-up sent after every copy expired says it does not
    /// (null). Throws <see cref="BinanceUnknownOrderOutcomeException"/> when neither can be established.
    /// </summary>
    private async Task<TDto?> ResolveUnknownOutcomeAsync<TDto>(
        VenueRequest request, Func<CancellationToken, Task<TDto?>> lookup, string symbol, string clientId, Exception cause, CancellationToken ct)
        where TDto : class
    {
        // An order that may have executed is risk either way: its look-ups are urgent at the venue's limits and wait as long
        // as they must, whatever the caller's priority and hold limit.
        using var urgent = VenueRequestPriority.Enter(VenuePriority.Urgent);
        using var unbounded = VenueHoldLimit.Enter(null);

        // Venue-clock millisecond after which no copy of the order can execute any more.
        var expiry = (request.LastSentTimestamp ?? _transport.Clock.ServerNowMilliseconds())
            + _options.RecvWindow + (long)_options.UnknownOutcomeMargin.TotalMilliseconds;
        var failuresAfterExpiry = 0;
        for (var i = 0; ; i++)
        {
            try
            {
                await Task.Delay(LookupBackoff[Math.Min(i, LookupBackoff.Length - 1)], _time, ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException e)
            {
                throw new BinanceUnknownOrderOutcomeException(symbol, clientId, e);
            }

            var expired = _transport.Clock.ServerNowMilliseconds() > expiry;
            try
            {
                var found = await lookup(ct).ConfigureAwait(false);
                if (found is not null || expired)
                {
                    return found;
                }
            }
            catch (BinanceException e) when ((e is BinanceUnavailableException or BinanceRateLimitException) && !ct.IsCancellationRequested)
            {
                LogLookupFailed(_logger, symbol, clientId, e.GetType().Name);
                if (expired && ++failuresAfterExpiry >= LookupFailuresAfterExpiry)
                {
                    throw new BinanceUnknownOrderOutcomeException(symbol, clientId, e);
                }
            }
            catch (Exception e)
            {
                // A refused look-up (-1021 after a re-sync, -1022, -2015), an unreadable answer or the caller's
                // cancellation: waiting will not settle it, and it says nothing about the order. The caller reconciles.
                LogLookupFailed(_logger, symbol, clientId, e.GetType().Name);
                throw new BinanceUnknownOrderOutcomeException(symbol, clientId, new AggregateException(cause, e));
            }
        }
    }

    /// <summary>One look-up where an order with this id is known to exist; any failure leaves its state unknown.</summary>
    private async Task<TDto?> LookupOnceAsync<TDto>(Func<CancellationToken, Task<TDto?>> lookup, string symbol, string clientId, Exception cause, CancellationToken ct)
        where TDto : class
    {
        // An order that may be at the venue is risk either way: urgent, and waiting as long as it must.
        using var urgent = VenueRequestPriority.Enter(VenuePriority.Urgent);
        using var unbounded = VenueHoldLimit.Enter(null);
        try
        {
            return await lookup(ct).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            LogLookupFailed(_logger, symbol, clientId, e.GetType().Name);
            throw new BinanceUnknownOrderOutcomeException(symbol, clientId, new AggregateException(cause, e));
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Order {ClientOrderId} on {Symbol} was left in doubt by an earlier call; waiting {WaitMs} ms, until none of its copies can execute, before looking it up")]
    private static partial void LogWaitingOutInDoubt(ILogger logger, string symbol, string clientOrderId, long waitMs);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Look-up of order {ClientOrderId} on {Symbol} failed ({Error})")]
    private static partial void LogLookupFailed(ILogger logger, string symbol, string clientOrderId, string error);
}
