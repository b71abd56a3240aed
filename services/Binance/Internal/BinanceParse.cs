using TradeEngine.Binance.Errors;

namespace TradeEngine.Binance.Internal;

/// <summary>
/// Pure functions from venue DTOs (strings as received) to the public models. A malformed value raises
/// <see cref="BinanceProtocolException"/> naming the endpoint and the field; nothing is defaulted silently.
/// </summary>
internal static partial class BinanceParse
{
    public static decimal Dec(string endpoint, string field, string? text)
    {
        if (!VenueText.TryParseDecimal(text, out var value, out var error))
        {
            throw new BinanceProtocolException(endpoint, field, error ?? "malformed decimal");
        }

        return value;
    }

    /// <summary>Builds a Domain value; its validation failure becomes a protocol error naming the field.</summary>
    private static T Domain<T>(string endpoint, string field, Func<T> build)
    {
        try
        {
            return build();
        }
        catch (TradeEngine.Domain.DomainException e)
        {
            throw new BinanceProtocolException(endpoint, field, e.Message, e);
        }
    }

    public static decimal? OptionalDec(string endpoint, string field, string? text) =>
        string.IsNullOrEmpty(text) ? null : Dec(endpoint, field, text);

    /// <summary>A number or flag the venue must send: absent (or JSON null) is a protocol error, not 0 or false.</summary>
    public static T Required<T>(string endpoint, string field, T? value)
        where T : struct =>
        value ?? throw new BinanceProtocolException(endpoint, field, "missing");

    /// <summary>A required time in Unix milliseconds; one outside DateTimeOffset's range is a protocol error too.</summary>
    public static DateTimeOffset Time(string endpoint, string field, long? millis)
    {
        var ms = Required(endpoint, field, millis);
        try
        {
            return VenueText.FromMillis(ms);
        }
        catch (ArgumentOutOfRangeException e)
        {
            throw new BinanceProtocolException(endpoint, field, $"{ms} is not a time in milliseconds", e);
        }
    }

    public static string Text(string endpoint, string field, string? text) =>
        string.IsNullOrEmpty(text) ? throw new BinanceProtocolException(endpoint, field, "missing") : text;
}
