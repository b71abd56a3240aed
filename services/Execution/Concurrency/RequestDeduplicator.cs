using System.Collections.Concurrent;
using System.Security.Cryptography;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.Extensions.Options;
using TradeEngine.Execution.Options;

namespace TradeEngine.Execution.Concurrency;

/// <summary>
/// The in-process half of idempotency: concurrent calls with one key share one execution, and a finished result is
/// answered again to a retry (marked replayed by the caller). The same key with a different request is ALREADY_EXISTS;
/// open, close and reduce keys are client order ids and share one namespace.
/// The durable half lives at the venue (the order is found by its client order id) and in the Ledger (every write is
/// keyed), so a retry after a restart resumes instead of acting twice.
/// </summary>
/// <remarks>
/// A call that ends UNAVAILABLE, CANCELLED, DEADLINE_EXCEEDED or INTERNAL is forgotten at once: its outcome is not
/// final, and the retry must look at the venue again. Validation failures are forgotten too (nothing happened).
/// </remarks>
public sealed class RequestDeduplicator(IOptions<ExecutionOptions> options)
{
    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<string> _order = new();

    public async Task<(TResponse Response, bool Replayed)> RunAsync<TResponse>(
        string operation, string key, IMessage request, Func<Task<TResponse>> work)
        where TResponse : class
    {
        // Open, close and reduce share one namespace, as their client order ids share the venue's: a close's id given
        // to a reduce is the same key with a different request, not a key of its own (which would find the close's
        // order at the venue and answer it as this reduce). The operation is part of the fingerprint, so two requests
        // of different operations that serialize alike still differ.
        var scope = operation is "open" or "close" or "reduce" ? "order" : operation;
        var id = scope + "\n" + key;
        var fingerprint = Fingerprint(operation, request);
        var mine = new Entry(fingerprint, new Lazy<Task<object>>(async () => await work().ConfigureAwait(false)));
        var entry = _entries.GetOrAdd(id, mine);
        if (!string.Equals(entry.Fingerprint, fingerprint, StringComparison.Ordinal))
        {
            throw new RpcException(new Status(StatusCode.AlreadyExists,
                $"{KeyField(operation)}: '{key}' was already used for a different request"));
        }

        var replayed = !ReferenceEquals(entry, mine);
        try
        {
            var result = await entry.Work.Value.ConfigureAwait(false);
            if (!replayed)
            {
                Remember(id);
            }

            return ((TResponse)result, replayed);
        }
        catch (Exception ex) when (!IsFinal(ex))
        {
            _entries.TryRemove(new KeyValuePair<string, Entry>(id, entry));
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

    private void Remember(string id)
    {
        _order.Enqueue(id);
        while (_order.Count > options.Value.ResultCacheSize && _order.TryDequeue(out var old))
        {
            _entries.TryRemove(old, out _);
        }
    }

    private sealed record Entry(string Fingerprint, Lazy<Task<object>> Work);
}
