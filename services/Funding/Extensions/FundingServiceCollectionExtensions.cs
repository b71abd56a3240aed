namespace TradeEngine.Funding.Extensions;

public static class FundingServiceCollectionExtensions
{
    public static IHostApplicationBuilder AddFundingServices(this IHostApplicationBuilder builder)
    {
        return builder;
    }
}
