using Google.Protobuf;

namespace TradeEngine.Ledger.Idempotency;

/// <summary>One idempotent call: which RPC, its key (and the field the caller put it in), the request and how to replay.</summary>
public sealed record IdempotencyContext<TResponse>(
    string Rpc,
    string Key,
    string KeyField,
    IMessage Request,
    MessageParser<TResponse> Parser,
    Action<TResponse> MarkReplayed)
    where TResponse : IMessage<TResponse>
{
    /// <summary>Unique constraints whose violation means "a concurrent call changed what this one read": run again.</summary>
    public IReadOnlySet<string>? RetryOnConstraint { get; init; }

    /// <summary>
    /// The running total this call adds to (e.g. <c>funding</c>), named when the write overflows (SQLSTATE 22003, or an
    /// <see cref="OverflowException"/> in the work): FAILED_PRECONDITION, since every request value was validated.
    /// </summary>
    public string TotalsField { get; init; } = "total";
}
