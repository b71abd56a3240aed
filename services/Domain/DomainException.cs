namespace TradeEngine.Domain;

/// <summary>
/// A broken invariant or malformed input, raised where a value is constructed. It names the
/// field and the rule so the boundary can turn it into an INVALID_ARGUMENT field violation.
/// A risk denial is never an exception: it is a <c>RiskDecision</c> value.
/// </summary>
public sealed class DomainException : Exception
{
    public DomainException(string field, string rule)
        : base($"{field}: {rule}")
    {
        Field = field;
        Rule = rule;
    }

    public DomainException(string field, string rule, Exception innerException)
        : base($"{field}: {rule}", innerException)
    {
        Field = field;
        Rule = rule;
    }

    /// <summary>The offending field, as the caller named it (e.g. "quantity", "leverage").</summary>
    public string Field { get; }

    /// <summary>The rule the value broke, in words (e.g. "must be greater than 0").</summary>
    public string Rule { get; }
}
