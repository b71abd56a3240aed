using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using TradeEngine.Binance;
using TradeEngine.PaperExchange.Clock;
using TradeEngine.PaperExchange.Control;
using TradeEngine.PaperExchange.Engine;
using TradeEngine.PaperExchange.Markets;
using TradeEngine.PaperExchange.Options;

namespace TradeEngine.Testing.Paper;

/// <summary>
/// The real PaperExchange (its Program) on Kestrel at 127.0.0.1 on an ephemeral port, speaking HTTP/1.1 as Binance's
/// REST API does (<see cref="Hosting.LoopbackServiceHost{TProgram}"/> is HTTP/2 only, for gRPC), with test
/// credentials, no slippage, still prices on every market (volatility 0), in the Testing environment (control API on
/// unless <c>Paper:EnableControlApi</c> or <c>environment</c> says otherwise). The simulated clock
/// starts at <c>start</c> (default: now) and runs at <c>clockSpeed</c> (0 freezes it; tests move it with
/// <see cref="AdvanceAsync"/>). One host for every suite that needs a venue:
/// <code>
/// await using var paper = await PaperExchangeHost.StartAsync();
/// var client = paper.CreateClient();                         // a BinanceClient on it
/// var settings = paper.BinanceSettings();                    // Binance:BaseUrl, ApiKey, ApiSecret for a service
/// </code>
/// </summary>
public sealed class PaperExchangeHost : WebApplicationFactory<PaperOptions>
{
    public const string ApiKey = "paper-test-key-FAKE";
    public const string ApiSecret = "paper-test-secret-FAKE-0123456789";

    private readonly Dictionary<string, string?> _settings;
    private HttpClient? _control;

    private PaperExchangeHost(Dictionary<string, string?> settings)
    {
        _settings = settings;
        UseKestrel(o => o.Listen(IPAddress.Loopback, 0, l => l.Protocols = HttpProtocols.Http1AndHttp2));
    }

    /// <summary>The address Kestrel bound, e.g. <c>http://127.0.0.1:41234/</c>.</summary>
    public Uri Address { get; private set; } = null!;

    /// <summary>A plain HttpClient on the simulator (control API, raw venue calls).</summary>
    public HttpClient Http => _control ?? throw new InvalidOperationException("Not started");

    public PaperEngine Engine => Services.GetRequiredService<PaperEngine>();

    public SimulatedClock Clock => Services.GetRequiredService<SimulatedClock>();

    /// <summary>Every symbol the simulator offers (BTCUSDT, ETHUSDT and the simulated markets).</summary>
    public static IReadOnlyList<string> Symbols { get; } = MarketCatalog.Build(new PaperOptions()).Select(m => m.Symbol).ToList();

    /// <summary>Starts a simulator; <paramref name="overrides"/> (any <c>Paper:*</c> key, or <c>environment</c>) win over the defaults.</summary>
    public static async Task<PaperExchangeHost> StartAsync(
        IDictionary<string, string?>? overrides = null, DateTimeOffset? start = null, double? clockSpeed = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Paper:ApiKey"] = ApiKey,
            ["Paper:ApiSecret"] = ApiSecret,
            ["Paper:SlippageBps"] = "0",
            ["Paper:Markets:BTCUSDT:InitialPrice"] = "60000",
            ["Paper:Markets:BTCUSDT:FundingRate"] = "0.0001",
            ["Paper:Markets:ETHUSDT:InitialPrice"] = "3000",
            ["Paper:Markets:SOLUSDT:InitialPrice"] = "150",
            ["Paper:Markets:SOLUSDT:FundingRate"] = "0.00005",
            ["Paper:Markets:SOLUSDT:FundingIntervalHours"] = "4",
            ["Logging:LogLevel:Default"] = "Warning",
        };
        foreach (var symbol in Symbols)
        {
            settings[$"Paper:Markets:{symbol}:Volatility"] = "0";
        }

        if (start is { } s)
        {
            settings["Paper:StartTime"] = s.ToString("O", CultureInfo.InvariantCulture);
        }

        if (clockSpeed is { } speed)
        {
            settings["Paper:ClockSpeed"] = speed.ToString(CultureInfo.InvariantCulture);
        }

        foreach (var (key, value) in overrides ?? new Dictionary<string, string?>())
        {
            settings[key] = value;
        }

        var host = new PaperExchangeHost(settings);
        try
        {
            // StartServer blocks while the host starts: keep it off the test's thread.
            await Task.Run(host.StartServer).ConfigureAwait(false);
            var addresses = host.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()
                ?? throw new InvalidOperationException("The server exposes no addresses.");
            host.Address = new Uri(addresses.Addresses.First().TrimEnd('/') + "/");
            host._control = new HttpClient { BaseAddress = host.Address, Timeout = TimeSpan.FromSeconds(30) };
            return host;
        }
        catch
        {
            await host.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>The configuration keys a service needs to use this simulator as its venue.</summary>
    public Dictionary<string, string?> BinanceSettings() => new()
    {
        ["Binance:BaseUrl"] = Address.ToString(),
        ["Binance:ApiKey"] = ApiKey,
        ["Binance:ApiSecret"] = ApiSecret,
    };

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

    /// <summary>Changes what fundingInfo reports for <paramref name="symbol"/>; a null term is left as it is.</summary>
    public Task SetFundingInfoAsync(string symbol, int? intervalHours = null, decimal? cap = null, decimal? floor = null) =>
        PostAsync("paper/v1/funding-info", new SetFundingInfoRequest(symbol, intervalHours, cap, floor));

    /// <summary>Pauses (or resumes) the simulator's liquidation engine.</summary>
    public Task SetLiquidationPausedAsync(bool paused) => PostAsync("paper/v1/liquidation", new SetLiquidationRequest(paused));

    /// <summary>The most one market order fills on <paramref name="symbol"/> (a thin book; the rest expires); null lifts it.</summary>
    public Task SetDepthAsync(string symbol, decimal? quantity) => PostAsync("paper/v1/depth", new SetDepthRequest(symbol, quantity));

    /// <summary>The symbol's contract status as exchangeInfo lists it (TRADING, SETTLING, CLOSE, ...).</summary>
    public Task SetStatusAsync(string symbol, string status) => PostAsync("paper/v1/status", new SetStatusRequest(symbol, status));

    public Task SetFeesAsync(decimal makerRate, decimal takerRate) => PostAsync("paper/v1/fees", new SetFeesRequest(makerRate, takerRate));

    /// <summary>Scales the simulator's clock: 0 stops it (every request then lands in one millisecond until it moves), 1 is real time.</summary>
    public Task SetClockSpeedAsync(double speed) => PostAsync("paper/v1/clock/speed", new ClockSpeedRequest(speed));

    public Task AdvanceAsync(TimeSpan delta) => PostAsync("paper/v1/clock/advance", new AdvanceClockRequest(Milliseconds: (long)delta.TotalMilliseconds));

    public Task InjectFaultAsync(
        FaultKind kind, string? path = null, int count = 1, int retryAfterSeconds = 1, int latencyMs = 0,
        int? status = null, int? code = null, bool retryAfterAsDate = false) =>
        PostAsync("paper/v1/faults", new FaultRequest(kind.ToString(), path, count, retryAfterSeconds, latencyMs, status, code, RetryAfterAsDate: retryAfterAsDate));

    /// <summary>Drops every fault rule not yet spent (DELETE /paper/v1/faults).</summary>
    public async Task ClearFaultsAsync()
    {
        using var response = await Http.DeleteAsync("paper/v1/faults").ConfigureAwait(false);
        response.EnsureSuccessStatusCode();
    }

    /// <summary>
    /// A transfer into (positive) or out of (negative) the futures account (POST /paper/v1/transfer): an income row of
    /// <paramref name="type"/> (a capital-flow type; TRANSFER when null) with a fresh tranId. Throws when the simulator
    /// refuses it.
    /// </summary>
    public async Task<TransferResult> TransferAsync(decimal amount, string? asset = null, string? type = null)
    {
        using var response = await Http.PostAsJsonAsync("paper/v1/transfer", new TransferRequest(amount, asset, type)).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"paper/v1/transfer answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync().ConfigureAwait(false)}");
        }

        return await response.Content.ReadFromJsonAsync<TransferResult>().ConfigureAwait(false)
            ?? throw new InvalidOperationException("paper/v1/transfer answered nothing");
    }

    public Task ResetAsync(decimal? balance = null) => PostAsync("paper/v1/reset", new ResetRequest(balance));

    /// <summary>The control API's view of the simulator (GET /paper/v1/state).</summary>
    public async Task<EngineSummary> StateAsync() =>
        await Http.GetFromJsonAsync<EngineSummary>("paper/v1/state").ConfigureAwait(false)
        ?? throw new InvalidOperationException("paper/v1/state answered nothing");

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

    /// <summary>Starts the host; a refused start throws what the service threw (<see cref="TradeEngine.Testing.Hosting.FactoryHostStart"/>).</summary>
    protected override Microsoft.Extensions.Hosting.IHost CreateHost(Microsoft.Extensions.Hosting.IHostBuilder builder) =>
        TradeEngine.Testing.Hosting.FactoryHostStart.Run(builder);

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.UseEnvironment("Testing");
        foreach (var (key, value) in _settings)
        {
            builder.UseSetting(key, value);
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

    private async Task PostAsync<T>(string path, T body)
    {
        using var response = await Http.PostAsJsonAsync(path, body).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"{path} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync().ConfigureAwait(false)}");
        }
    }
}
