using System.Text.Json;

namespace TradeEngine.Binance.Tests.Client;

/// <summary>
/// Each service's share of the venue's limits, as its appsettings.json sets <c>Binance:RateLimitUsage</c>: the services
/// share one IP's request weight, so the ones whose reads can wait stop first and leave the rest to Execution, which
/// closes positions (Funding 0.6, Risk 0.75, Execution 0.9; <see cref="RateLimitPriorityTests"/> shows the effect).
/// </summary>
public class ServiceRateShareTests
{
    [Fact]
    public void RateLimitUsage_EachServicesSettings_FundingBelowRiskBelowExecution()
    {
        var funding = Usage("Funding");
        var risk = Usage("Risk");
        var execution = Usage("Execution");

        Assert.Equal((0.6, 0.75, 0.9), (funding, risk, execution));
        Assert.True(funding < risk && risk < execution);
        // Execution's share is the client's default: a service run without these settings is in the top tier.
        Assert.Equal(new BinanceOptions().RateLimitUsage, execution);
    }

    private static double Usage(string service)
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "TradeEngine.Services.sln")))
        {
            directory = directory.Parent;
        }

        Assert.NotNull(directory);
        using var settings = JsonDocument.Parse(File.ReadAllText(Path.Combine(directory.FullName, "services", service, "appsettings.json")));
        return settings.RootElement.GetProperty("Binance").GetProperty("RateLimitUsage").GetDouble();
    }
}
