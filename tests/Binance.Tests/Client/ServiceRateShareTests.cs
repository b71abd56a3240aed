using System.Text.Json;

namespace TradeEngine.Binance.Tests.Client;

/// <summary>
/// Each service's shares of the venue's limits, as its appsettings.json sets them: the services share one IP's request
/// weight, and what divides it is the request's priority, not the service: background work stops at 0.6
/// (<c>Binance:BackgroundRateLimitUsage</c>), a request someone waits on at 0.9 (<c>Binance:RateLimitUsage</c>), in every
/// service alike (Funding's quote for an open is as pressing as Execution's own reads), and an urgent one only at the
/// limit (<see cref="RateLimitPriorityTests"/> shows the effect).
/// </summary>
public class ServiceRateShareTests
{
    [Theory]
    [InlineData("Funding")]
    [InlineData("Risk")]
    [InlineData("Execution")]
    public void RateLimitShares_EachServicesSettings_BackgroundBelowNormalAsTheClientsDefaults(string service)
    {
        var (normal, background) = Shares(service);

        Assert.Equal((0.9, 0.6), (normal, background));
        var defaults = new BinanceOptions();
        Assert.Equal((defaults.RateLimitUsage, defaults.BackgroundRateLimitUsage), (normal, background));
    }

    private static (double Normal, double Background) Shares(string service)
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "TradeEngine.Services.sln")))
        {
            directory = directory.Parent;
        }

        Assert.NotNull(directory);
        using var settings = JsonDocument.Parse(File.ReadAllText(Path.Combine(directory.FullName, "services", service, "appsettings.json")));
        var binance = settings.RootElement.GetProperty("Binance");
        return (binance.GetProperty("RateLimitUsage").GetDouble(), binance.GetProperty("BackgroundRateLimitUsage").GetDouble());
    }
}
