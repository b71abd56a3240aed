using System.Text.Json;
using TradeEngine.Binance.Internal.Dto;

namespace TradeEngine.Binance.Tests.Contract;

/// <summary>
/// GET /fapi/v1/leverageBracket with a symbol: the documentation shows one object (the simulator's answer, checked
/// end to end in <see cref="ResponseShapeTests"/>), the live API a one-element array. The client reads both.
/// </summary>
public class LeverageBracketAnswerTests
{
    private static readonly string Documented = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "leverageBracket.json"));

    [Fact]
    public void Read_DocumentedObjectAndLiveArray_TheSameBrackets()
    {
        var asObject = JsonSerializer.Deserialize(Documented, VenueJsonContext.Default.SymbolBracketsAnswerDto)!;
        var asArray = JsonSerializer.Deserialize("[" + Documented + "]", VenueJsonContext.Default.SymbolBracketsAnswerDto)!;

        var one = Assert.Single(asObject.Items);
        var other = Assert.Single(asArray.Items);
        Assert.Equal("ETHUSDT", one.Symbol);
        Assert.Equal(one.Symbol, other.Symbol);
        Assert.Equal(one.NotionalCoef, other.NotionalCoef);
        Assert.Equal(one.Brackets!.Select(b => (b.Bracket, b.InitialLeverage)), other.Brackets!.Select(b => (b.Bracket, b.InitialLeverage)));
    }

    [Theory]
    [InlineData("\"ETHUSDT\"")]
    [InlineData("12")]
    public void Read_NeitherObjectNorArray_Refused(string body) =>
        Assert.ThrowsAny<JsonException>(() => JsonSerializer.Deserialize(body, VenueJsonContext.Default.SymbolBracketsAnswerDto));
}
