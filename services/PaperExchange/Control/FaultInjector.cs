using System.Collections.Concurrent;

namespace TradeEngine.PaperExchange.Control;

/// <summary>Kinds of injected fault. "After" kinds execute the request first, so its effect is real but the answer is lost.</summary>
public enum FaultKind
{
    /// <summary>Delay the answer by <see cref="FaultRule.LatencyMs"/>, then answer normally.</summary>
    Latency,

    /// <summary>HTTP 429 with Retry-After, code -1003; nothing executed.</summary>
    RateLimit,

    /// <summary>HTTP 418 (IP ban) with Retry-After; nothing executed.</summary>
    Ban,

    /// <summary>HTTP 400, code -1021 (timestamp outside recvWindow); nothing executed.</summary>
    Timestamp,

    /// <summary>HTTP 503 "Service Unavailable."; nothing executed.</summary>
    Unavailable,

    /// <summary>Execute, then HTTP 503 "Unknown error, please check your request or try again later." (the order WAS placed).</summary>
    UnknownAfterExecute,

    /// <summary>Drop the connection without executing.</summary>
    DropBeforeExecute,

    /// <summary>Execute, then drop the connection before answering.</summary>
    DropAfterExecute,
}

public sealed record FaultRule(FaultKind Kind, string? Path, int Count, int RetryAfterSeconds = 1, int LatencyMs = 0);

/// <summary>Queued faults for the Binance surface, consumed by matching requests; plus per-path request counts.</summary>
public sealed class FaultInjector
{
    private readonly Lock _lock = new();
    private readonly List<(FaultRule Rule, int Remaining)> _rules = [];
    private readonly ConcurrentDictionary<string, long> _received = new(StringComparer.Ordinal);
    private volatile bool _any;

    public void Add(FaultRule rule)
    {
        ArgumentNullException.ThrowIfNull(rule);
        if (rule.Count < 1 || rule.RetryAfterSeconds < 0 || rule.LatencyMs is < 0 or > 120_000)
        {
            throw new ArgumentOutOfRangeException(nameof(rule), "count ≥ 1, retryAfterSeconds ≥ 0, latencyMs 0..120000");
        }

        lock (_lock)
        {
            _rules.Add((rule, rule.Count));
            _any = true;
        }
    }

    public void Clear()
    {
        lock (_lock)
        {
            _rules.Clear();
            _any = false;
        }
    }

    public FaultRule? Take(string path)
    {
        if (!_any)
        {
            return null;
        }

        lock (_lock)
        {
            for (var i = 0; i < _rules.Count; i++)
            {
                var (rule, remaining) = _rules[i];
                if (rule.Path is not null && !string.Equals(rule.Path, path, StringComparison.OrdinalIgnoreCase))
                {
                    continue;
                }

                if (remaining <= 1)
                {
                    _rules.RemoveAt(i);
                }
                else
                {
                    _rules[i] = (rule, remaining - 1);
                }

                _any = _rules.Count > 0;
                return rule;
            }

            return null;
        }
    }

    public IReadOnlyList<FaultRule> Pending()
    {
        lock (_lock)
        {
            return _rules.Select(r => r.Rule with { Count = r.Remaining }).ToList();
        }
    }

    public void CountRequest(string path) => _received.AddOrUpdate(path, 1, static (_, n) => n + 1);

    public IReadOnlyDictionary<string, long> Received => new Dictionary<string, long>(_received, StringComparer.Ordinal);

    public void ResetCounts() => _received.Clear();
}
