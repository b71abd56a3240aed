namespace TradeEngine.Domain;

/// <summary>
/// An amount in a settlement currency (USDT unless stated). Any sign: balances, PnL and
/// funding can be negative. Adding or comparing two currencies throws rather than guessing a rate.
/// </summary>
public readonly record struct Money
{
    public const string Usdt = "USDT";

    public Money(decimal amount, string currency = Usdt)
    {
        if (string.IsNullOrEmpty(currency) || currency.Length > 10 || !IsUpperAlnum(currency))
        {
            Guard.Fail("currency", "must be 1 to 10 characters of A-Z and 0-9");
        }

        Amount = amount;
        Currency = currency;
    }

    public decimal Amount { get; }

    /// <summary>The currency code; <c>default(Money)</c> reads as zero USDT.</summary>
    public string Currency { get => field ?? Usdt; }

    public static Money Zero { get; } = new(0m);

    public static Money InUsdt(decimal amount) => new(amount);

    public static Money operator +(Money left, Money right) => new(left.Amount + right.Amount, SameCurrency(left, right));

    public static Money operator -(Money left, Money right) => new(left.Amount - right.Amount, SameCurrency(left, right));

    public static Money operator -(Money value) => new(-value.Amount, value.Currency);

    public static bool operator <(Money left, Money right) => left.Amount < right.Amount && SameCurrency(left, right) is not null;

    public static bool operator >(Money left, Money right) => left.Amount > right.Amount && SameCurrency(left, right) is not null;

    public static bool operator <=(Money left, Money right) => left.Amount <= right.Amount && SameCurrency(left, right) is not null;

    public static bool operator >=(Money left, Money right) => left.Amount >= right.Amount && SameCurrency(left, right) is not null;

    /// <summary>Rounds to <paramref name="decimals"/> places, half to even, the rule used for postings.</summary>
    public Money Round(int decimals) => new(Math.Round(Amount, decimals, MidpointRounding.ToEven), Currency);

    public override string ToString() => $"{DecimalText.Format(Amount)} {Currency}";

    private static string SameCurrency(Money left, Money right)
    {
        if (!string.Equals(left.Currency, right.Currency, StringComparison.Ordinal))
        {
            Guard.Fail("currency", $"cannot combine {left.Currency} with {right.Currency}");
        }

        return left.Currency;
    }

    private static bool IsUpperAlnum(string text)
    {
        foreach (var c in text)
        {
            if (c is not ((>= 'A' and <= 'Z') or (>= '0' and <= '9')))
            {
                return false;
            }
        }

        return true;
    }
}
