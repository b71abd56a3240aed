using System.Net;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using TradeEngine.PaperExchange.Clock;
using TradeEngine.PaperExchange.Engine;
using TradeEngine.PaperExchange.Options;

namespace TradeEngine.Risk.Tests.Support;

/// <summary>
/// The real PaperExchange (its Program) on Kestrel at 127.0.0.1, speaking HTTP/1.1 as Binance's REST API does, with the
/// real clock and no random walk: prices move only when a test sets them.
/// </summary>
public sealed class PaperHost : WebApplicationFactory<PaperOptions>
{
    public const string ApiKey = "risk-tests-paper-key";
    public const string ApiSecret = "risk-tests-paper-secret";
    private readonly DateTimeOffset _start;

    public PaperHost()
    {
        _start = DateTimeOffset.UtcNow;
        UseKestrel(o => o.Listen(IPAddress.Loopback, 0, l => l.Protocols = HttpProtocols.Http1AndHttp2));
    }

    public Uri Address { get; private set; } = null!;

    public PaperEngine Engine => Services.GetRequiredService<PaperEngine>();

    public SimulatedClock Clock => Services.GetRequiredService<SimulatedClock>();

    public Task StartAsync() => Task.Run(() =>
    {
        StartServer();
        Address = new Uri(Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
    });

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var settings = new Dictionary<string, string>
        {
            ["Paper:ApiKey"] = ApiKey,
            ["Paper:ApiSecret"] = ApiSecret,
            ["Paper:StartTime"] = _start.ToString("O"),
            ["Paper:ClockSpeed"] = "1",
            ["Paper:SlippageBps"] = "0",
            ["Paper:Markets:BTCUSDT:InitialPrice"] = "60000",
            ["Paper:Markets:BTCUSDT:FundingRate"] = "0.0001",
            ["Paper:Markets:BTCUSDT:Volatility"] = "0",
            ["Paper:Markets:ETHUSDT:Volatility"] = "0",
            ["Paper:Markets:SOLUSDT:InitialPrice"] = "150",
            ["Paper:Markets:SOLUSDT:FundingRate"] = "0.00005",
            ["Paper:Markets:SOLUSDT:FundingIntervalHours"] = "4",
            ["Paper:Markets:SOLUSDT:Volatility"] = "0",
            ["Logging:LogLevel:Default"] = "Warning",
        };
        foreach (var (key, value) in settings)
        {
            builder.UseSetting(key, value);
        }
    }
}
