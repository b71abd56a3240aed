using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using TradeEngine.PaperExchange.Control;
using TradeEngine.PaperExchange.Engine;

namespace TradeEngine.Execution.Tests.Support;

/// <summary>The real PaperExchange on 127.0.0.1 (HTTP/1.1, as the venue client speaks), with still prices and typed control calls.</summary>
public sealed class PaperHost : WebApplicationFactory<PaperEngine>
{
    public const string ApiKey = "paper-exec-test-key-FAKE";
    public const string ApiSecret = "paper-exec-test-secret-FAKE-0123456789";

    private readonly Dictionary<string, string?> _settings;
    private HttpClient? _http;

    private PaperHost(Dictionary<string, string?> settings)
    {
        _settings = settings;
        UseKestrel(o => o.Listen(IPAddress.Loopback, 0));
    }

    public Uri Address { get; private set; } = null!;

    public HttpClient Http => _http ?? throw new InvalidOperationException("Not started");

    public PaperEngine Engine => Services.GetRequiredService<PaperEngine>();

    public static async Task<PaperHost> StartAsync(IDictionary<string, string?>? overrides = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Paper:ApiKey"] = ApiKey,
            ["Paper:ApiSecret"] = ApiSecret,
            ["Paper:SlippageBps"] = "0",
            ["Paper:StartingBalance"] = "10000",
            ["Paper:Markets:BTCUSDT:Volatility"] = "0",
            ["Paper:Markets:ETHUSDT:Volatility"] = "0",
            ["Paper:Markets:SOLUSDT:Volatility"] = "0",
            ["Paper:Markets:BTCUSDT:InitialPrice"] = "100000",
            ["Paper:Markets:ETHUSDT:InitialPrice"] = "3000",
            ["Paper:Markets:SOLUSDT:InitialPrice"] = "150",
            ["Logging:LogLevel:Default"] = "Warning",
        };
        foreach (var (key, value) in overrides ?? new Dictionary<string, string?>())
        {
            settings[key] = value;
        }

        var host = new PaperHost(settings);
        await Task.Run(host.StartServer);
        var addresses = host.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()
            ?? throw new InvalidOperationException("The server exposes no addresses.");
        host.Address = new Uri(addresses.Addresses.First().TrimEnd('/') + "/");
        host._http = new HttpClient { BaseAddress = host.Address, Timeout = TimeSpan.FromSeconds(30) };
        return host;
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        foreach (var (key, value) in _settings)
        {
            builder.UseSetting(key, value);
        }
    }

    public Task SetPriceAsync(string symbol, decimal price) => PostAsync("paper/v1/price", new SetPriceRequest(symbol, price, price));

    public Task InjectFaultAsync(FaultKind kind, string? path = null, int count = 1, int latencyMs = 0) =>
        PostAsync("paper/v1/faults", new FaultRequest(kind.ToString(), path, count, 1, latencyMs));

    public async Task<IReadOnlyList<OrderSummary>> OrdersAsync(string? clientOrderId = null)
    {
        var url = "paper/v1/orders" + (clientOrderId is null ? "" : "?clientOrderId=" + Uri.EscapeDataString(clientOrderId));
        return await Http.GetFromJsonAsync<List<OrderSummary>>(url) ?? [];
    }

    /// <summary>Orders (of any kind, protective ones included) the venue has accepted so far.</summary>
    public async Task<long> OrderRequestsAsync()
    {
        var counts = await Http.GetFromJsonAsync<Dictionary<string, long>>("paper/v1/requests") ?? [];
        return counts.GetValueOrDefault("POST /fapi/v1/order") + counts.GetValueOrDefault("POST /fapi/v1/algoOrder");
    }

    private async Task PostAsync<T>(string path, T body)
    {
        using var response = await Http.PostAsJsonAsync(path, body);
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"{path} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _http?.Dispose();
        }

        base.Dispose(disposing);
    }
}
