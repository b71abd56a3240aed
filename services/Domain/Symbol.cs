namespace TradeEngine.Domain;

/// <summary>An exchange symbol such as BTCUSDT: 1..20 characters of A-Z and 0-9, as Binance spells them.</summary>
public readonly record struct Symbol
{
    public const int MaxLength = 20;

    public Symbol(string value)
    {
        var error = Check(value);
        if (error is not null)
        {
            Guard.Fail("symbol", error);
        }

        Value = value;
    }

    /// <summary>The symbol text; empty only for <c>default(Symbol)</c>.</summary>
    public string Value { get => field ?? string.Empty; }

    public static Symbol Parse(string value) => new(value);

    public static bool TryParse(string? value, out Symbol symbol)
    {
        if (Check(value) is null)
        {
            symbol = new Symbol(value!);
            return true;
        }

        symbol = default;
        return false;
    }

    public override string ToString() => Value;

    private static string? Check(string? value)
    {
        if (string.IsNullOrEmpty(value) || value.Length > MaxLength)
        {
            return "must be 1 to 20 characters";
        }

        foreach (var c in value)
        {
            if (c is not ((>= 'A' and <= 'Z') or (>= '0' and <= '9')))
            {
                return "must contain only A-Z and 0-9";
            }
        }

        return null;
    }
}
