using System.Text.Json;
using TradeEngine.PaperExchange.Engine;

namespace TradeEngine.PaperExchange.Venue;

/// <summary>
/// The Binance USD-M REST subset, at Binance's paths, with Binance's request weights (each endpoint's page: ticker/price
/// 1 with a symbol and 2 without; openOrders and openAlgoOrders 1 with a symbol and 40 without; account reads 5;
/// income and the BNB fee discount's status 30; new orders 0 on the IP weight and 1 on the order counts; fundingRate and fundingInfo 0, sharing their own
/// 500 requests per 5 minutes).
/// </summary>
public static class VenueEndpoints
{
    public static IEndpointRouteBuilder MapBinanceSurface(this IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var engine = app.ServiceProvider.GetRequiredService<PaperEngine>();
        var gate = app.ServiceProvider.GetRequiredService<VenueGate>();

        void Map(string method, string path, EndpointSpec spec, Action<VenueParams, Utf8JsonWriter> op) =>
            app.MapMethods(path, [method], ctx => gate.HandleAsync(ctx, spec, op)).ExcludeFromDescription();

        var publicLight = new EndpointSpec(Signed: false, Weight: 1);
        var signedLight = new EndpointSpec(Signed: true, Weight: 1);
        var signedAccount = new EndpointSpec(Signed: true, Weight: 5);
        var signedOrder = new EndpointSpec(Signed: true, Weight: 0, IsOrder: true);

        // Market data
        Map("GET", "/fapi/v1/ping", publicLight, static (_, w) => { w.WriteStartObject(); w.WriteEndObject(); });
        Map("GET", "/fapi/v1/time", publicLight, (_, w) => engine.ServerTime(w));
        Map("GET", "/fapi/v1/exchangeInfo", publicLight, (_, w) => engine.ExchangeInfo(w));
        Map("GET", "/fapi/v1/premiumIndex", publicLight, engine.PremiumIndex);
        // fundingRate and fundingInfo: no request weight; they share 500 requests per 5 minutes per IP.
        var fundingRoute = new EndpointSpec(Signed: false, Weight: 0, FundingRoute: true);
        Map("GET", "/fapi/v1/fundingRate", fundingRoute, engine.FundingRateHistory);
        Map("GET", "/fapi/v1/fundingInfo", fundingRoute, (_, w) => engine.FundingInfo(w));
        Map("GET", "/fapi/v1/ticker/price", publicLight with { WeightWithoutSymbol = 2 }, engine.TickerPrice);
        Map("GET", "/fapi/v2/ticker/price", publicLight with { WeightWithoutSymbol = 2 }, engine.TickerPrice);

        // Trading (SIGNED)
        Map("GET", "/fapi/v1/leverageBracket", signedLight, engine.LeverageBrackets);
        Map("POST", "/fapi/v1/order", signedOrder, engine.PlaceOrder);
        Map("GET", "/fapi/v1/order", signedLight, engine.QueryOrder);
        Map("GET", "/fapi/v1/openOrders", signedLight with { WeightWithoutSymbol = 40 }, engine.OpenOrders);
        Map("DELETE", "/fapi/v1/allOpenOrders", signedLight, engine.CancelAllOpenOrders);
        Map("POST", "/fapi/v1/algoOrder", signedOrder, engine.PlaceAlgoOrder);
        Map("GET", "/fapi/v1/algoOrder", signedLight, engine.QueryAlgoOrder);
        Map("DELETE", "/fapi/v1/algoOrder", signedLight, engine.CancelAlgoOrder);
        Map("GET", "/fapi/v1/openAlgoOrders", signedLight with { WeightWithoutSymbol = 40 }, engine.OpenAlgoOrders);
        Map("DELETE", "/fapi/v1/algoOpenOrders", signedLight, engine.CancelAllAlgoOrders);
        Map("POST", "/fapi/v1/leverage", signedLight, engine.ChangeLeverage);
        Map("POST", "/fapi/v1/marginType", signedLight, engine.ChangeMarginType);

        // Account (SIGNED)
        Map("GET", "/fapi/v2/positionRisk", signedAccount, (p, w) => engine.PositionRisk(p, w, version: 2));
        Map("GET", "/fapi/v3/positionRisk", signedAccount, (p, w) => engine.PositionRisk(p, w, version: 3));
        Map("GET", "/fapi/v2/balance", signedAccount, (_, w) => engine.Balance(w));
        Map("GET", "/fapi/v3/balance", signedAccount, (_, w) => engine.Balance(w));
        Map("GET", "/fapi/v3/account", signedAccount, (_, w) => engine.Account(w));
        Map("GET", "/fapi/v1/income", new EndpointSpec(Signed: true, Weight: 30), engine.Income);
        Map("GET", "/fapi/v1/userTrades", signedAccount, engine.UserTrades);
        Map("POST", "/fapi/v1/positionSide/dual", signedLight, engine.SetPositionMode);
        Map("GET", "/fapi/v1/positionSide/dual", new EndpointSpec(Signed: true, Weight: 30), (_, w) => engine.PositionModeStatus(w));
        Map("POST", "/fapi/v1/feeBurn", signedLight, engine.SetFeeBurn);
        Map("GET", "/fapi/v1/feeBurn", new EndpointSpec(Signed: true, Weight: 30), (_, w) => engine.FeeBurnStatus(w));
        return app;
    }
}
