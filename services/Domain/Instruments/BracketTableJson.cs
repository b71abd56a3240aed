using System.Globalization;
using System.Text.Json;

namespace TradeEngine.Domain.Instruments;

/// <summary>
/// Reads a bracket table document: <c>{ symbol, takenAt, source, brackets: [ leverageBracket rows ] }</c>,
/// where each row uses Binance's field names. Decimals may be JSON strings (as Binance sends
/// them) or numbers; both go through <see cref="DecimalText"/> on their raw text, so no value
/// ever passes through a binary (IEEE 754) number on the way.
/// </summary>
public static class BracketTableJson
{
    public static BracketTable Parse(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        try
        {
            using var document = JsonDocument.Parse(json);
            return Read(document.RootElement);
        }
        catch (JsonException ex)
        {
            throw new DomainException("brackets", "is not valid JSON", ex);
        }
    }

    private static BracketTable Read(JsonElement root)
    {
        var symbol = new Symbol(Required(root, "symbol").GetString() ?? string.Empty);
        var takenAtText = Required(root, "takenAt").GetString();
        if (!DateOnly.TryParseExact(takenAtText, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var takenAt))
        {
            throw new DomainException("takenAt", "must be a date as yyyy-MM-dd");
        }

        var source = Required(root, "source").GetString() ?? string.Empty;
        var rows = new List<LeverageBracket>();
        foreach (var row in Required(root, "brackets").EnumerateArray())
        {
            rows.Add(new LeverageBracket(
                (int)ReadDecimal(row, "bracket", wholeNumber: true),
                (int)ReadDecimal(row, "initialLeverage", wholeNumber: true),
                ReadDecimal(row, "notionalCap"),
                ReadDecimal(row, "notionalFloor"),
                ReadDecimal(row, "maintMarginRatio"),
                ReadDecimal(row, "cum")));
        }

        return new BracketTable(symbol, takenAt, source, rows);
    }

    private static decimal ReadDecimal(JsonElement row, string name, bool wholeNumber = false)
    {
        var element = Required(row, name);
        var text = element.ValueKind switch
        {
            JsonValueKind.String => element.GetString(),
            JsonValueKind.Number => element.GetRawText(),
            _ => null,
        };
        var value = DecimalText.Parse(text ?? string.Empty, name);
        if (wholeNumber && (value != decimal.Truncate(value) || value is > int.MaxValue or < int.MinValue))
        {
            throw new DomainException(name, "must be a whole number");
        }

        return value;
    }

    private static JsonElement Required(JsonElement element, string name)
    {
        if (element.ValueKind != JsonValueKind.Object || !element.TryGetProperty(name, out var value))
        {
            throw new DomainException(name, "is required");
        }

        return value;
    }
}
