using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using TradeEngine.Risk.Extensions;
using TradeEngine.Risk.Options;

namespace TradeEngine.Risk.Tests;

/// <summary>
/// What configuration cannot do to the hard limits: drop a tightening in silence (a misspelt key), or switch off the
/// margin monitor (which latches the kill switch on a daily-loss or drawdown breach between orders) in Production.
/// </summary>
public sealed class RiskConfigurationTests
{
    private const string Execution = "http://127.0.0.1:1";
    private const string Bus = "amqp://guest:guest@127.0.0.1:1/";

    [Theory]
    [InlineData("Risk:MaxNotional", "2000", "MaxNotional")]
    [InlineData("Risk:MaxDailyLoss", "100", "MaxDailyLoss")]
    [InlineData("Risk:MarginMonitor:Interval", "10", "Interval")]
    public void RiskSection_KeyThatNamesNoSetting_RefusedNamingIt(string key, string value, string named)
    {
        var builder = Builder(Environments.Development, new() { [key] = value, ["services:execution:http:0"] = Execution });

        var refused = Assert.Throws<InvalidOperationException>(() => builder.AddRiskServices());

        Assert.Contains(named, refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void RiskSection_KnownKeys_Bound()
    {
        var builder = Builder(Environments.Development, new()
        {
            ["Risk:MaxPositionNotional"] = "2000", ["Risk:DailyLossLimit"] = "100", ["Risk:MarginMonitor:IntervalSeconds"] = "10",
            ["services:execution:http:0"] = Execution,
        });
        builder.AddRiskServices();
        using var services = builder.Services.BuildServiceProvider();

        var options = services.GetRequiredService<IOptions<RiskOptions>>().Value;

        Assert.Equal((2000m, 100m, 10), (options.MaxPositionNotional, options.DailyLossLimit, options.MarginMonitor.IntervalSeconds));
    }

    [Theory]
    [InlineData(false, "Risk:MarginMonitor:Enabled is false")]
    [InlineData(true, "services:execution:http:0")]
    public void MarginMonitorOff_InProduction_RefusedAtStartNamingTheCause(bool noExecution, string cause)
    {
        var settings = noExecution ? new Dictionary<string, string?>() : new() { ["Risk:MarginMonitor:Enabled"] = "false", ["services:execution:http:0"] = Execution };
        var builder = Builder(Environments.Production, settings);

        var refused = Assert.Throws<InvalidOperationException>(() => builder.AddRiskServices());

        Assert.Contains(cause, refused.Message, StringComparison.Ordinal);
        Assert.Contains("Production refuses", refused.Message, StringComparison.Ordinal);
        Assert.Contains("kill switch", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MarginMonitorOff_OutsideProduction_Allowed()
    {
        var builder = Builder(Environments.Development, new() { ["Risk:MarginMonitor:Enabled"] = "false" });

        builder.AddRiskServices();

        Assert.DoesNotContain(builder.Services, d => d.ServiceType == typeof(TradeEngine.Risk.Monitor.MarginMonitor));
    }

    [Fact]
    public void MarginMonitorOn_InProduction_Registered()
    {
        var builder = Builder(Environments.Production, new() { ["services:execution:http:0"] = Execution });

        builder.AddRiskServices();

        Assert.Contains(builder.Services, d => d.ServiceType == typeof(TradeEngine.Risk.Monitor.MarginMonitor));
    }

    private static HostApplicationBuilder Builder(string environment, Dictionary<string, string?> settings)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { EnvironmentName = environment, DisableDefaults = true });
        settings["ConnectionStrings:eventbus"] = Bus;
        builder.Configuration.AddInMemoryCollection(settings);
        return builder;
    }
}
