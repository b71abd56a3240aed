namespace TradeEngine.Domain.Instruments;

/// <summary>Every exchange filter an order quantity or price breaks, as a set.</summary>
[Flags]
public enum FilterViolation
{
    None = 0,
    NotPositive = 1 << 0,
    QuantityOffStep = 1 << 1,
    QuantityBelowMinimum = 1 << 2,
    QuantityAboveMaximum = 1 << 3,
    NotionalBelowMinimum = 1 << 4,
    PriceOffTick = 1 << 5,
}

/// <summary>Outcome of a filter check: a value, not an exception, so callers can list every failure.</summary>
public readonly record struct FilterCheck(FilterViolation Violations)
{
    public bool IsValid => Violations == FilterViolation.None;

    public bool Has(FilterViolation violation) => (Violations & violation) == violation;
}
