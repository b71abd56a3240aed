using System.Text.Json;
using System.Text.Json.Nodes;
using TradeEngine.Binance.Errors;
using TradeEngine.Binance.Internal;
using TradeEngine.Binance.Internal.Dto;
using TradeEngine.Binance.Models;

namespace TradeEngine.Binance.Tests.Contract;

/// <summary>
/// The client's price-filter check on Binance's documented exchangeInfo example (Fixtures/exchangeInfo.json, BLZUSDT:
/// minPrice 0.0001, maxPrice 300, tick 0.0001). Binance documents that a PRICE_FILTER bound of 0 disables that bound.
/// </summary>
public class PriceFilterTests
{
    private static SymbolInfo Symbol(string? minPrice = null, string? maxPrice = null)
    {
        var node = JsonNode.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "exchangeInfo.json")))!;
        var filter = node["symbols"]![0]!["filters"]!.AsArray().First(f => (string?)f!["filterType"] == "PRICE_FILTER")!;
        if (minPrice is not null)
        {
            filter["minPrice"] = minPrice;
        }

        if (maxPrice is not null)
        {
            filter["maxPrice"] = maxPrice;
        }

        var info = BinanceParse.ExchangeInfo(JsonSerializer.Deserialize(node.ToJsonString(), VenueJsonContext.Default.ExchangeInfoDto)!);
        return info.Symbols.Single(s => s.Symbol == "BLZUSDT");
    }

    private static NewConditionalOrder Stop(decimal triggerPrice) =>
        new("BLZUSDT", OrderSide.Sell, ConditionalOrderType.StopMarket, triggerPrice);

    [Fact]
    public void TriggerPriceOutsideTheBounds_RefusedBeforeSending()
    {
        var above = Assert.Throws<BinanceRequestRefusedException>(() => OrderValidation.Validate(Stop(300.0001m), Symbol()));
        var below = Assert.Throws<BinanceRequestRefusedException>(() => OrderValidation.Validate(Stop(0.5m), Symbol(minPrice: "1")));

        Assert.Contains("outside", above.Message, StringComparison.Ordinal);
        Assert.Contains("outside", below.Message, StringComparison.Ordinal);
        OrderValidation.Validate(Stop(300m), Symbol());
    }

    /// <summary>
    /// maxPrice 0 is no upper bound. Before, it was read as a bound of 0 and every trigger price was refused "outside
    /// 0.0001..0", so Execution, which reads 0 as no bound, opened a position and then closed it at once for a stop-loss
    /// it could not place.
    /// </summary>
    [Fact]
    public void MaxPriceZero_IsNoUpperBound() =>
        OrderValidation.Validate(Stop(1_000_000m), Symbol(maxPrice: "0"));
}
