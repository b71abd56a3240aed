using System.Collections.Concurrent;

namespace TradeEngine.PaperExchange.Control;

/// <summary>Kinds of injected fault. "After" kinds execute the request first, so its effect is real but the answer is lost.</summary>
public enum FaultKind
{
    /// <summary>
    /// Hold the request for <see cref="FaultRule.LatencyMs"/> before it reaches the engine, then run it and answer.
    /// A client that gives up first takes the request with it: nothing executes (a slow network in front of the
    /// venue). For a venue that executes after the client has gone, use <see cref="ExecuteLate"/>.
    /// </summary>
    Latency,

    /// <summary>HTTP 429 with Retry-After, code -1003; nothing executed.</summary>
    RateLimit,

    /// <summary>HTTP 418 (IP ban) with Retry-After; nothing executed.</summary>
    Ban,

    /// <summary>HTTP 400, code -1021 (timestamp outside recvWindow); nothing executed.</summary>
    Timestamp,

    /// <summary>HTTP 503 with Binance's body for -1001 ("Internal error; unable to process your request. Please try again."); nothing executed.</summary>
    Unavailable,

    /// <summary>Execute, then HTTP 503 "Unknown error, please check your request or try again later." (the order WAS placed).</summary>
    UnknownAfterExecute,

    /// <summary>Drop the connection without executing.</summary>
    DropBeforeExecute,

    /// <summary>Execute, then drop the connection before answering.</summary>
    DropAfterExecute,

    /// <summary>
    /// A slow matching engine: the request is taken in at once and executed after <see cref="FaultRule.LatencyMs"/>
    /// whether or not the client is still waiting (then answered if it is). As on Binance, the execution still checks
    /// <c>timestamp</c> + <c>recvWindow</c>, so a delay past the window ends in -1021 and nothing executes.
    /// </summary>
    ExecuteLate,

    /// <summary>Execute, then answer with <see cref="FaultRule.Status"/> (default 400) and error <see cref="FaultRule.Code"/> (default -1006).</summary>
    ErrorAfterExecute,

    /// <summary>Execute, then answer HTTP 200 with a body that is not the documented shape (truncated JSON).</summary>
    GarbledAfterExecute,

    /// <summary>
    /// Answer with <see cref="FaultRule.Status"/> (default 400) and error <see cref="FaultRule.Code"/> (default -1130)
    /// without executing: a refusal the venue gives in a state the simulator does not model (Binance's -4509 for a
    /// stop-loss sent before the position a fill just opened shows on its side).
    /// </summary>
    Reject,
}

/// <summary>
/// One queued fault. <see cref="Status"/>, <see cref="Code"/> and <see cref="Message"/> shape the answer of
/// <see cref="FaultKind.ErrorAfterExecute"/> and <see cref="FaultKind.Reject"/>; <see cref="RetryAfterAsDate"/> sends Retry-After as an HTTP date
/// (of the simulated clock) instead of seconds.
/// </summary>
public sealed record FaultRule(
    FaultKind Kind,
    string? Path,
    int Count,
    int RetryAfterSeconds = 1,
    int LatencyMs = 0,
    int? Status = null,
    int? Code = null,
    string? Message = null,
    bool RetryAfterAsDate = false);

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
        if (rule.Count < 1 || rule.RetryAfterSeconds < 0 || rule.LatencyMs is < 0 or > 120_000 || rule.Status is < 200 or > 599)
        {
            throw new ArgumentOutOfRangeException(nameof(rule), "count ≥ 1, retryAfterSeconds ≥ 0, latencyMs 0..120000, status 200..599");
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

    /// <summary>
    /// The next fault for a request, if one is queued for it: a rule's path is a request path (<c>/fapi/v1/algoOrder</c>,
    /// any method) or a method and path (<c>POST /fapi/v1/algoOrder</c>, as the request counts name them), so a fault meant
    /// for a placement is not spent by a look-up of the same path.
    /// </summary>
    public FaultRule? Take(string method, string path)
    {
        ArgumentNullException.ThrowIfNull(method);
        ArgumentNullException.ThrowIfNull(path);
        if (!_any)
        {
            return null;
        }

        lock (_lock)
        {
            for (var i = 0; i < _rules.Count; i++)
            {
                var (rule, remaining) = _rules[i];
                if (rule.Path is not null && !Matches(rule.Path, method, path))
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

    private static bool Matches(string rulePath, string method, string path)
    {
        var space = rulePath.IndexOf(' ', StringComparison.Ordinal);
        return space < 0
            ? string.Equals(rulePath, path, StringComparison.OrdinalIgnoreCase)
            : string.Equals(rulePath[..space], method, StringComparison.OrdinalIgnoreCase)
              && string.Equals(rulePath[(space + 1)..], path, StringComparison.OrdinalIgnoreCase);
    }

    public void CountRequest(string path) => _received.AddOrUpdate(path, 1, static (_, n) => n + 1);

    public IReadOnlyDictionary<string, long> Received => new Dictionary<string, long>(_received, StringComparer.Ordinal);

    public void ResetCounts() => _received.Clear();
}
