using System.Globalization;
using TradeEngine.Domain;

namespace TradeEngine.PaperExchange.Engine;

/// <summary>The decoded parameters of one request (query string and form body together).</summary>
public sealed class VenueParams
{
    private readonly List<KeyValuePair<string, string>> _items = new(12);

    public void Add(string name, string value) => _items.Add(new(name, value));

    public string? Get(string name)
    {
        foreach (var (key, value) in _items)
        {
            if (string.Equals(key, name, StringComparison.Ordinal))
            {
                return value;
            }
        }

        return null;
    }

    public bool Has(string name) => Get(name) is not null;

    public string Required(string name) => Get(name) is { Length: > 0 } v ? v : throw VenueErrors.Mandatory(name);

    public decimal? Decimal(string name)
    {
        var text = Get(name);
        if (text is null)
        {
            return null;
        }

        if (text.Length == 0)
        {
            throw VenueErrors.Mandatory(name);
        }

        // Binance checks a decimal's characters against ^([0-9]{1,20})(\.[0-9]{1,20})?$ first: "abc", "1e-5", a sign
        // ("-0.010", which DecimalText reads as a number) or more than 20 digits on either side of the point is -1100.
        return InBinanceDecimalRange(text) && DecimalText.TryParse(text, out var value, out _) ? value : throw VenueErrors.IllegalDecimal(name);
    }

    /// <summary><c>^([0-9]{1,20})(\.[0-9]{1,20})?$</c>, without a regular expression.</summary>
    private static bool InBinanceDecimalRange(string text)
    {
        var point = text.IndexOf('.', StringComparison.Ordinal);
        var integer = point < 0 ? text.Length : point;
        var fraction = point < 0 ? 0 : text.Length - point - 1;
        if (integer is < 1 or > 20 || (point >= 0 && fraction is < 1 or > 20))
        {
            return false;
        }

        for (var i = 0; i < text.Length; i++)
        {
            if (i != point && !char.IsAsciiDigit(text[i]))
            {
                return false;
            }
        }

        return true;
    }

    public decimal RequiredDecimal(string name) => Decimal(name) ?? throw VenueErrors.Mandatory(name);

    public long? Long(string name)
    {
        var text = Get(name);
        if (text is null)
        {
            return null;
        }

        if (text.Length == 0)
        {
            throw VenueErrors.Mandatory(name);
        }

        // Binance checks an integer's characters against ^[0-9]{1,20}$ first: a sign ("-5", "+17..."), a point or letters
        // are -1100 naming the pattern. Before, a sign was taken and anything else answered -1102.
        return text.Length <= 20 && text.All(char.IsAsciiDigit)
               && long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw VenueErrors.IllegalInteger(name);
    }

    public bool Bool(string name)
    {
        var text = Get(name);
        return text is not null && (string.Equals(text, "true", StringComparison.OrdinalIgnoreCase)
            || (!string.Equals(text, "false", StringComparison.OrdinalIgnoreCase) ? throw VenueErrors.IllegalValue(name) : false));
    }

    /// <summary>Parses <c>a=1&amp;b=2</c> (percent-decoded) into the bag.</summary>
    public void AddEncoded(ReadOnlySpan<char> encoded)
    {
        while (!encoded.IsEmpty)
        {
            var amp = encoded.IndexOf('&');
            var pair = amp < 0 ? encoded : encoded[..amp];
            encoded = amp < 0 ? [] : encoded[(amp + 1)..];
            if (pair.IsEmpty)
            {
                continue;
            }

            var eq = pair.IndexOf('=');
            var key = eq < 0 ? pair : pair[..eq];
            var value = eq < 0 ? [] : pair[(eq + 1)..];
            Add(Decode(key), Decode(value));
        }
    }

    private static string Decode(ReadOnlySpan<char> s) =>
        s.IndexOfAny('%', '+') < 0 ? s.ToString() : Uri.UnescapeDataString(s.ToString().Replace('+', ' '));
}
