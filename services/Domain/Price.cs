namespace TradeEngine.Domain;

/// <summary>A price in the quote currency (USDT). Always greater than zero.</summary>
public readonly record struct Price : IComparable<Price>
{
    public Price(decimal value) => Value = Guard.Positive(value, "price");

    public decimal Value { get; }

    public static Price Parse(string text, string field = "price")
    {
        var value = DecimalText.Parse(text, field);
        return new Price(Guard.Positive(value, field));
    }

    public int CompareTo(Price other) => Value.CompareTo(other.Value);

    public static bool operator <(Price left, Price right) => left.Value < right.Value;

    public static bool operator >(Price left, Price right) => left.Value > right.Value;

    public static bool operator <=(Price left, Price right) => left.Value <= right.Value;

    public static bool operator >=(Price left, Price right) => left.Value >= right.Value;

    public override string ToString() => DecimalText.Format(Value);
}
