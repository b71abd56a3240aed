namespace TradeEngine.Domain;

/// <summary>
/// An order or position quantity in the base asset. Always greater than zero; the direction
/// travels separately as a <see cref="Side"/>, or as a signed size (long positive) where a
/// position is described.
/// </summary>
public readonly record struct Quantity : IComparable<Quantity>
{
    public Quantity(decimal value) => Value = Guard.Positive(value, "quantity");

    public decimal Value { get; }

    public static Quantity Parse(string text, string field = "quantity")
    {
        var value = DecimalText.Parse(text, field);
        return new Quantity(Guard.Positive(value, field));
    }

    /// <summary>Signed size for a side: positive for Long, negative for Short.</summary>
    public decimal Signed(Side side) => side.Sign() * Value;

    public int CompareTo(Quantity other) => Value.CompareTo(other.Value);

    public static bool operator <(Quantity left, Quantity right) => left.Value < right.Value;

    public static bool operator >(Quantity left, Quantity right) => left.Value > right.Value;

    public static bool operator <=(Quantity left, Quantity right) => left.Value <= right.Value;

    public static bool operator >=(Quantity left, Quantity right) => left.Value >= right.Value;

    public override string ToString() => DecimalText.Format(Value);
}
