using System.Globalization;

namespace TradeEngine.Domain;

/// <summary>
/// Decimals on the wire travel as invariant-culture strings, as Binance sends them. This parser
/// accepts only <c>-?digits(.digits)?</c>: no whitespace, sign '+', exponent, thousands
/// separator, comma, hex, NaN or Infinity, and at most 28 significant digits and 28 decimal
/// places, so every accepted string converts to a decimal exactly (decimal.Parse would round
/// anything longer without a word). Every accepted string is also one that
/// <c>decimal.Parse(text, AllowLeadingSign | AllowDecimalPoint, InvariantCulture)</c> accepts.
/// </summary>
public static class DecimalText
{
    public const int MaxSignificantDigits = 28;
    public const int MaxLength = 64;

    private const NumberStyles Style = NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint;

    public static bool TryParse(string? text, out decimal value, out string? error)
    {
        value = 0m;
        error = Check(text);
        if (error is not null)
        {
            return false;
        }

        // The grammar check above guarantees an exact result; TryParse is the conversion only.
        if (!decimal.TryParse(text, Style, CultureInfo.InvariantCulture, out value))
        {
            error = "is not a decimal number";
            return false;
        }

        return true;
    }

    /// <summary>Parses or throws a <see cref="DomainException"/> naming <paramref name="field"/>.</summary>
    public static decimal Parse(string text, string field)
    {
        if (!TryParse(text, out var value, out var error))
        {
            throw new DomainException(field, error!);
        }

        return value;
    }

    /// <summary>Invariant text without exponent or trailing zeros: "0.0001", "40200", "-3".</summary>
    public static string Format(decimal value)
    {
        if (value == 0m)
        {
            return "0";
        }

        // Dividing by 1.000…0 (scale 28) yields the same value at its smallest scale.
        var normalized = value / 1.0000000000000000000000000000m;
        return normalized.ToString(CultureInfo.InvariantCulture);
    }

    private static string? Check(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return "must not be empty";
        }

        if (text.Length > MaxLength)
        {
            return "is too long for a decimal";
        }

        var i = text[0] == '-' ? 1 : 0;
        var integerStart = i;
        while (i < text.Length && char.IsAsciiDigit(text[i]))
        {
            i++;
        }

        var integerDigits = i - integerStart;
        var fractionDigits = 0;
        if (i < text.Length && text[i] == '.')
        {
            i++;
            var fractionStart = i;
            while (i < text.Length && char.IsAsciiDigit(text[i]))
            {
                i++;
            }

            fractionDigits = i - fractionStart;
            if (fractionDigits == 0)
            {
                return "must have digits after the decimal point";
            }
        }

        if (i != text.Length || integerDigits == 0)
        {
            return "must be digits with an optional leading '-' and '.' (invariant culture, no exponent)";
        }

        if (fractionDigits > MaxSignificantDigits)
        {
            return "has more than 28 decimal places";
        }

        return CountSignificant(text, integerStart) > MaxSignificantDigits
            ? "has more than 28 significant digits"
            : null;
    }

    // Digits from the first non-zero digit to the end, trailing zeros included: they widen the
    // decimal's scale and so count against its 96-bit mantissa.
    private static int CountSignificant(string text, int start)
    {
        var count = 0;
        var seenNonZero = false;
        for (var k = start; k < text.Length; k++)
        {
            var c = text[k];
            if (c == '.')
            {
                continue;
            }

            seenNonZero |= c != '0';
            if (seenNonZero)
            {
                count++;
            }
        }

        return count;
    }
}
