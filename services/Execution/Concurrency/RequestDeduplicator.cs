using System.Collections.Concurrent;
using System.Security.Cryptography;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.Extensions.Options;
using TradeEngine.Binance.Errors;
using TradeEngine.Domain;
using TradeEngine.Execution.Options;
using TradeEngine.ServiceDefaults.Grpc;

namespace TradeEngine.Execution.Concurrency;

/// <summary>
/// The in-process half of idempotency: concurrent calls with one key share one execution, and a finished result is
/// answered again to a retry (marked replayed by the caller). The same key with a different request is ALREADY_EXISTS;
/// open, close and reduce keys are client order ids and share one namespace.
/// The durable half lives at the venue (the order is found by its client order id) and in the Ledger (every write is
/// keyed), so a retry after a restart resumes instead of acting twice.
/// </summary>
/// <remarks>
/// A call that failed has its result forgotten at once, so the retry looks at the venue again, but not its request:
/// the same key with another request is still ALREADY_EXISTS (it could take the first request's order at the venue as
/// its own). Only a request refused with nothing of it done is forgotten whole, to be corrected and sent again: refused
/// with an error, or answered with a result that says nothing was done (<c>didNothing</c>: an open Risk denied).
/// </remarks>
public sealed class RequestDeduplicator(IOptions<ExecutionOptions> options)
{
    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<string> _order = new();
    private readonly ConcurrentDictionary<string, byte> _queued = new(StringComparer.Ordinal);

    /// <param name="didNothing">
    /// Whether a result says nothing of the request was done (an open Risk denied, before anything reached the venue): such
    /// a result is not kept, and the key is free again, as after a refusal. Before, a denial was answered again to the
    /// same request, and the request corrected under its id was ALREADY_EXISTS, though nothing had been sent (after a
    /// restart, when this memory is empty, both were judged afresh).
    /// </param>
    public async Task<(TResponse Response, bool Replayed)> RunAsync<TResponse>(
        string operation, string key, IMessage request, Func<Task<TResponse>> work, Func<TResponse, bool>? didNothing = null)
        where TResponse : class
    {
        // Open, close and reduce share one namespace, as their client order ids share the venue's: a close's id given
        // to a reduce is the same key with a different request, not a key of its own (which would find the close's
        // order at the venue and answer it as this reduce). The operation is part of the fingerprint, so two requests
        // of different operations that serialize alike still differ.
        var scope = operation is "open" or "close" or "reduce" ? "order" : operation;
        var id = scope + "\n" + key;
        var fingerprint = Fingerprint(operation, request);
        var myRun = new Lazy<Task<object>>(async () => await work().ConfigureAwait(false));
        var mine = new Entry(fingerprint, myRun);
        Entry entry;
        Lazy<Task<object>> run;
        // Whether the key was bound to this request by an earlier run whose outcome was not known: it stays bound.
        var bound = false;
        while (true)
        {
            entry = _entries.GetOrAdd(id, mine);
            if (!string.Equals(entry.Fingerprint, fingerprint, StringComparison.Ordinal))
            {
                throw new RpcException(new Status(StatusCode.AlreadyExists,
                    $"{KeyField(operation)}: '{key}' was already used for a different request"));
            }

            if (entry.Work is { } started)
            {
                run = started;
                break;
            }

            // The same request again after one that failed: it runs again (and finds at the venue what the first one
            // did).
            if (_entries.TryUpdate(id, mine, entry))
            {
                (entry, run, bound) = (mine, myRun, true);
                break;
            }
        }

        var replayed = !ReferenceEquals(entry, mine);
        try
        {
            var result = await run.Value.ConfigureAwait(false);
            if (!replayed)
            {
                if (didNothing?.Invoke((TResponse)result) == true)
                {
                    // Nothing done by this run; but a key an earlier run left bound (its order may yet appear at the
                    // venue under the id) stays bound to its request, as after that run.
                    if (bound)
                    {
                        _entries.TryUpdate(id, new Entry(fingerprint, null), entry);
                    }
                    else
                    {
                        _entries.TryRemove(new KeyValuePair<string, Entry>(id, entry));
                    }
                }
                else
                {
                    Remember(id);
                }
            }

            return ((TResponse)result, replayed);
        }
        catch (Exception ex) when (!IsFinal(ex))
        {
            if (!Refused(ex))
            {
                // Its result is forgotten but not its request: the venue may hold an order under this id (placed, or
                // placed late), so another request under the id could take that order as its own, or place a second one.
                if (_entries.TryUpdate(id, new Entry(fingerprint, null), entry))
                {
                    Remember(id);
                }
            }
            else
            {
                _entries.TryRemove(new KeyValuePair<string, Entry>(id, entry));
            }

            throw;
        }
        catch
        {
            if (!replayed)
            {
                Remember(id);
            }

            throw;
        }
    }

    /// <summary>
    /// The result a finished run kept for this key and this very request, when there is one: answered before the request
    /// is judged again. A retry must get the first result, and judging it again against what has changed since (the
    /// symbol's tick or step, its listing) could refuse it, INVALID_ARGUMENT for an order that filled. Null otherwise
    /// (no run, one still going, one that failed, another request under the key): the request then goes the usual way.
    /// </summary>
    public TResponse? Finished<TResponse>(string operation, string key, IMessage request)
        where TResponse : class
    {
        var scope = operation is "open" or "close" or "reduce" ? "order" : operation;
        return _entries.TryGetValue(scope + "\n" + key, out var entry)
               && entry.Work is { IsValueCreated: true, Value: { IsCompletedSuccessfully: true } done }
               && done.Result is TResponse response
               && string.Equals(entry.Fingerprint, Fingerprint(operation, request), StringComparison.Ordinal)
            ? response
            : null;
    }

    private static string Fingerprint(string operation, IMessage request)
    {
        var name = System.Text.Encoding.UTF8.GetBytes(operation);
        var body = request.ToByteArray();
        var bytes = new byte[name.Length + 1 + body.Length];
        name.CopyTo(bytes, 0);
        body.CopyTo(bytes, name.Length + 1);
        return Convert.ToHexString(SHA256.HashData(bytes));
    }

    private static string KeyField(string operation) => operation is "close-all" or "set-leverage" or "set-margin-type" ? "idempotency_key" : "client_order_id";

    private static bool IsFinal(Exception ex) => ex is RpcException { StatusCode: StatusCode.Aborted };

    /// <summary>
    /// Whether a failed call leaves unknown whether it acted at the venue (an order may stand under its key): neither
    /// final (ABORTED) nor a refusal with nothing done. Such a call's request keeps its key.
    /// </summary>
    public static bool OutcomeUnknown(Exception ex) => !IsFinal(ex) && !Refused(ex);

    /// <summary>
    /// Whether the request was refused with nothing of it done: malformed (ours or the domain's validation), refused by
    /// a rule (FAILED_PRECONDITION, NOT_FOUND, ALREADY_EXISTS: the id is another request's), or refused by the venue
    /// for good. The caller may send another request under the key. Every other failure (a timeout, UNAVAILABLE, a
    /// venue answer lost or refused for a while, the service stopping) leaves unknown whether an order went out: its
    /// request keeps the key.
    /// </summary>
    private static bool Refused(Exception ex) => ex switch
    {
        RequestValidationException or DomainException or BinanceRequestRefusedException => true,
        RpcException rpc => rpc.StatusCode is StatusCode.InvalidArgument or StatusCode.FailedPrecondition or StatusCode.NotFound
            or StatusCode.AlreadyExists or StatusCode.OutOfRange or StatusCode.PermissionDenied or StatusCode.Unauthenticated,
        BinanceApiException api => !BinanceErrors.MayPassLater(api.Code),
        _ => false,
    };

    /// <summary>
    /// Keeps the id's entry among the last <see cref="ExecutionOptions.ResultCacheSize"/>; an id is queued once. An
    /// entry whose run is still going when its turn comes stays (its run queues it again when it ends): dropped, a
    /// concurrent call with its key would run the request a second time.
    /// </summary>
    private void Remember(string id)
    {
        if (!_queued.TryAdd(id, 0))
        {
            return;
        }

        _order.Enqueue(id);
        while (_order.Count > options.Value.ResultCacheSize && _order.TryDequeue(out var old))
        {
            _queued.TryRemove(old, out _);
            if (_entries.TryGetValue(old, out var entry) && entry.Work is not { IsValueCreated: true, Value.IsCompleted: false })
            {
                _entries.TryRemove(new KeyValuePair<string, Entry>(old, entry));
            }
        }
    }

    /// <summary>A key's request and its work; <see cref="Work"/> is null once a run whose outcome was not known has ended.</summary>
    private sealed record Entry(string Fingerprint, Lazy<Task<object>>? Work);
}
