using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using TradeEngine.Binance.DependencyInjection;

namespace TradeEngine.Binance.Tests.Client;

/// <summary>
/// The venue is never a default: a service started without <c>Binance:BaseUrl</c> must not reach the live venue, and an
/// address the API key should not travel to is refused before the first request.
/// </summary>
public class VenueAddressTests
{
    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    public async Task HostStart_NoBaseUrlAndNotTestnet_RefusedNamingTheSetting(string? baseUrl)
    {
        var e = await Assert.ThrowsAsync<OptionsValidationException>(() => StartAsync(baseUrl, testnet: false));

        Assert.Contains("Binance:BaseUrl is not set", e.Message, StringComparison.Ordinal);
        Assert.Contains(BinanceOptions.LiveBaseUrl, e.Message, StringComparison.Ordinal);
        var options = new BinanceOptions { BaseUrl = baseUrl };
        Assert.Throws<InvalidOperationException>(options.ResolveBaseUri);
    }

    [Fact]
    public async Task HostStart_NoBaseUrlButTestnet_GoesToTheTestnet()
    {
        using var host = await StartAsync(null, testnet: true);

        Assert.Equal(new Uri(BinanceOptions.TestnetBaseUrl + "/"), host.Services.GetRequiredService<IOptions<BinanceOptions>>().Value.ResolveBaseUri());
    }

    [Theory]
    [InlineData("http://127.0.0.1:5080", "http://127.0.0.1:5080/")]
    [InlineData("http://localhost:5080/", "http://localhost:5080/")]
    [InlineData("http://[::1]:5080", "http://[::1]:5080/")]
    [InlineData(" https://fapi.binance.com ", "https://fapi.binance.com/")]
    [InlineData("https://paper.internal.example:8443/venue/", "https://paper.internal.example:8443/venue/")]
    public async Task HostStart_UsableAddress_Resolved(string baseUrl, string expected)
    {
        using var host = await StartAsync(baseUrl, testnet: false);

        Assert.Equal(new Uri(expected), host.Services.GetRequiredService<IOptions<BinanceOptions>>().Value.ResolveBaseUri());
    }

    [Theory]
    [InlineData("fapi.binance.com", "absolute http or https")]
    [InlineData("/fapi", "absolute http or https")]
    [InlineData("ftp://127.0.0.1/", "absolute http or https")]
    [InlineData("http://paper.example.com:5080", "plain http for paper.example.com")]
    [InlineData("http://10.0.0.7:5080", "plain http for 10.0.0.7")]
    [InlineData("https://127.0.0.1/?x=1", "query")]
    [InlineData("https://trader:hunter2@127.0.0.1/", "user information")]
    public async Task HostStart_AddressTheKeyMustNotGoTo_RefusedWithoutEchoingIt(string baseUrl, string reason)
    {
        var e = await Assert.ThrowsAsync<OptionsValidationException>(() => StartAsync(baseUrl, testnet: true));

        Assert.Contains(reason, e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", e.Message, StringComparison.Ordinal);
        var options = new BinanceOptions { BaseUrl = baseUrl };
        Assert.DoesNotContain("hunter2", Assert.Throws<InvalidOperationException>(options.ResolveBaseUri).Message, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", options.ToString(), StringComparison.Ordinal);
    }

    private static async Task<IHost> StartAsync(string? baseUrl, bool testnet)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Binance:BaseUrl"] = baseUrl,
            ["Binance:Testnet"] = testnet ? "true" : "false",
        });
        builder.Services.AddBinanceClient(builder.Configuration);
        var host = builder.Build();
        try
        {
            await host.StartAsync();
            return host;
        }
        catch
        {
            host.Dispose();
            throw;
        }
    }
}
