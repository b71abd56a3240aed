using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using TradeEngine.Binance;
using TradeEngine.PaperExchange.Control;
using TradeEngine.PaperExchange.Engine;

namespace TradeEngine.Binance.Tests.Infrastructure;

/// <summary>
/// Starts the real PaperExchange (its <c>Program</c>) on Kestrel at 127.0.0.1 with an ephemeral port, HTTP/1.1,
/// with test credentials and still prices (volatility 0), and offers typed helpers over its control API.
/// Reusable by any suite that needs a venue: <c>await using var paper = await PaperExchangeHost.StartAsync();</c>
/// then <c>paper.CreateClient()</c>, or point <c>Binance__BaseUrl</c> at <see cref="Address"/>.
/// </summary>
public sealed class PaperExchangeHost : WebApplicationFactory<Program>
{
    public const string ApiKey = "paper-test-key-FAKE";
    public const string ApiSecret = "paper-test-secret-FAKE-0123456789";

    private readonly Dictionary<string, string?> _settings;
    private HttpClient? _control;

    private PaperExchangeHost(Dictionary<string, string?> settings)
    {
        _settings = settings;
        UseKestrel(o => o.Listen(IPAddress.Loopback, 0));
    }

    /// <summary>The address Kestrel bound, e.g. <c>http://127.0.0.1:41234/</c>.</summary>
    public Uri Address { get; private set; } = null!;

    /// <summary>A plain HttpClient on the simulator (control API, raw venue calls).</summary>
    public HttpClient Http => _control ?? throw new InvalidOperationException("Not started");

    public PaperEngine Engine => Services.GetRequiredService<PaperEngine>();

    public static async Task<PaperExchangeHost> StartAsync(IDictionary<string, string?>? overrides = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Paper:ApiKey"] = ApiKey,
            ["Paper:ApiSecret"] = ApiSecret,
            ["Paper:SlippageBps"] = "0",
            ["Paper:Markets:BTCUSDT:Volatility"] = "0",
            ["Paper:Markets:ETHUSDT:Volatility"] = "0",
            ["Paper:Markets:SOLUSDT:Volatility"] = "0",
            ["Paper:Markets:BTCUSDT:InitialPrice"] = "60000",
            ["Paper:Markets:ETHUSDT:InitialPrice"] = "3000",
            ["Paper:Markets:SOLUSDT:InitialPrice"] = "150",
            ["Logging:LogLevel:Default"] = "Warning",
        };
        foreach (var (key, value) in overrides ?? new Dictionary<string, string?>())
        {
            settings[key] = value;
        }

        var host = new PaperExchangeHost(settings);
        await Task.Run(host.StartServer).ConfigureAwait(false);
        var addresses = host.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()
            ?? throw new InvalidOperationException("The server exposes no addresses.");
        host.Address = new Uri(addresses.Addresses.First().TrimEnd('/') + "/");
        host._control = new HttpClient { BaseAddress = host.Address, Timeout = TimeSpan.FromSeconds(30) };
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

    /// <summary>A <see cref="BinanceClient"/> on this simulator with the test key (or as <paramref name="configure"/> says).</summary>
    public BinanceClient CreateClient(Action<BinanceOptions>? configure = null, ILoggerFactory? loggers = null, TimeProvider? time = null)
    {
        var options = new BinanceOptions { BaseUrl = Address.ToString(), ApiKey = ApiKey, ApiSecret = ApiSecret, RequestTimeout = TimeSpan.FromSeconds(5) };
        configure?.Invoke(options);
        var http = new HttpClient { BaseAddress = options.ResolveBaseUri(), Timeout = Timeout.InfiniteTimeSpan };
        return new BinanceClient(http, Options.Create(options), time, loggers?.CreateLogger<BinanceClient>());
    }

    public Task SetPriceAsync(string symbol, decimal price, decimal? markPrice = null) =>
        PostAsync("paper/v1/price", new SetPriceRequest(symbol, price, markPrice));

    public Task SetPathAsync(string symbol, IReadOnlyList<decimal> prices, bool immediate = true) =>
        PostAsync("paper/v1/path", new SetPathRequest(symbol, prices, immediate));

    public Task SetFundingRateAsync(string symbol, decimal rate) => PostAsync("paper/v1/funding-rate", new SetFundingRateRequest(symbol, rate));

    public Task SetFeesAsync(decimal makerRate, decimal takerRate) => PostAsync("paper/v1/fees", new SetFeesRequest(makerRate, takerRate));

    public Task AdvanceAsync(TimeSpan delta) => PostAsync("paper/v1/clock/advance", new AdvanceClockRequest(Milliseconds: (long)delta.TotalMilliseconds));

    public Task InjectFaultAsync(
        FaultKind kind, string? path = null, int count = 1, int retryAfterSeconds = 1, int latencyMs = 0,
        int? status = null, int? code = null, bool retryAfterAsDate = false) =>
        PostAsync("paper/v1/faults", new FaultRequest(kind.ToString(), path, count, retryAfterSeconds, latencyMs, status, code, RetryAfterAsDate: retryAfterAsDate));

    public Task ResetAsync(decimal? balance = null) => PostAsync("paper/v1/reset", new ResetRequest(balance));

    public async Task<IReadOnlyList<OrderSummary>> OrdersAsync(string? clientOrderId = null)
    {
        var url = "paper/v1/orders" + (clientOrderId is null ? "" : "?clientOrderId=" + Uri.EscapeDataString(clientOrderId));
        return await Http.GetFromJsonAsync<List<OrderSummary>>(url).ConfigureAwait(false) ?? [];
    }

    /// <summary>How many requests each venue route received, keyed "METHOD /path" (the control API is not counted).</summary>
    public async Task<IReadOnlyDictionary<string, long>> RequestCountsAsync() =>
        await Http.GetFromJsonAsync<Dictionary<string, long>>("paper/v1/requests").ConfigureAwait(false) ?? [];

    public async Task<long> RequestCountAsync(string path) =>
        (await RequestCountsAsync().ConfigureAwait(false)).GetValueOrDefault(path);

    private async Task PostAsync<T>(string path, T body)
    {
        using var response = await Http.PostAsJsonAsync(path, body).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"{path} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync().ConfigureAwait(false)}");
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _control?.Dispose();
        }

        base.Dispose(disposing);
    }
}
