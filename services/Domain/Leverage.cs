namespace TradeEngine.Domain;

/// <summary>Initial leverage, an integer from 1 to 125 as Binance USD-M accepts it.</summary>
public readonly record struct Leverage
{
    public const int Min = 1;
    public const int Max = 125;

    public Leverage(int value)
    {
        if (value is < Min or > Max)
        {
            Guard.Fail("leverage", "must be an integer from 1 to 125");
        }

        Value = value;
    }

    public int Value { get; }

    public static implicit operator int(Leverage leverage) => leverage.Value;

    public override string ToString() => Value.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
