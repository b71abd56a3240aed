namespace TradeEngine.Risk.Extensions;

public static class RiskServiceCollectionExtensions
{
    public static IHostApplicationBuilder AddRiskServices(this IHostApplicationBuilder builder)
    {
        return builder;
    }
}
