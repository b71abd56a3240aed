using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace TradeEngine.Binance.Internal.Dto;

/// <summary>
/// Reads a JSON string or number token as its exact text, so numeric fields Binance sends as JSON numbers
/// (leverage brackets) stay text until the strict decimal parser sees them; nothing goes through a double.
/// </summary>
internal sealed class RawTextConverter : JsonConverter<string>
{
    public override string? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        reader.TokenType switch
        {
            JsonTokenType.String => reader.GetString(),
            JsonTokenType.Number => reader.HasValueSequence ? Encoding.UTF8.GetString(System.Buffers.BuffersExtensions.ToArray(reader.ValueSequence)) : Encoding.UTF8.GetString(reader.ValueSpan),
            JsonTokenType.Null => null,
            JsonTokenType.True => "true",
            JsonTokenType.False => "false",
            _ => throw new JsonException($"Expected a string or a number, got {reader.TokenType}"),
        };

    public override void Write(Utf8JsonWriter writer, string value, JsonSerializerOptions options) => writer.WriteStringValue(value);
}
