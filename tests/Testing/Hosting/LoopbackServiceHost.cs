using System.Net;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;

namespace TradeEngine.Testing.Hosting;

/// <summary>
/// Hosts a service (its real <c>Program</c>) on Kestrel at 127.0.0.1 on an ephemeral port, speaking HTTP/2 without
/// TLS, so tests make real gRPC calls over loopback. Configuration keys (for example <c>ConnectionStrings:ledgerdb</c>)
/// come from <paramref name="settings"/>; <paramref name="configureServices"/> may add test doubles or consumers.
/// </summary>
/// <example>
/// <code>
/// await using var host = new LoopbackServiceHost&lt;Program&gt;(new() { ["ConnectionStrings:ledgerdb"] = db });
/// await host.StartAsync();
/// var client = new LedgerService.LedgerServiceClient(host.Channel);
/// </code>
/// </example>
public class LoopbackServiceHost<TProgram> : WebApplicationFactory<TProgram>
    where TProgram : class
{
    private readonly IReadOnlyDictionary<string, string?> _settings;
    private readonly Action<IServiceCollection>? _configureServices;
    private GrpcChannel? _channel;

    /// <param name="port">0 (the default): an ephemeral port. Another: that port, e.g. a service started again where its
    /// clients already point.</param>
    public LoopbackServiceHost(
        IReadOnlyDictionary<string, string?>? settings = null,
        Action<IServiceCollection>? configureServices = null,
        int port = 0)
    {
        // The tests' service key unless the test names another (or none): the service refuses to start without one.
        // Likewise a venue: a service with no Binance:BaseUrl refuses to start (it never means the live venue), so a
        // test that names none gets a loopback port nothing listens on (the discard port); venue calls there fail.
        var withKey = TestServiceKey.With(settings ?? new Dictionary<string, string?>());
        _settings = withKey.ContainsKey(VenueSetting) ? withKey : new Dictionary<string, string?>(withKey) { [VenueSetting] = NoVenue };
        _configureServices = configureServices;
        UseKestrel(o => o.Listen(IPAddress.Loopback, port, listen => listen.Protocols = HttpProtocols.Http2));
    }

    /// <summary>The venue setting a host gets when its test names none.</summary>
    public const string VenueSetting = "Binance:BaseUrl";

    /// <summary>The venue a host whose test names none is given: loopback, port 9 (discard), where nothing answers.</summary>
    public const string NoVenue = "http://127.0.0.1:9";

    /// <summary>The address Kestrel bound, e.g. <c>http://127.0.0.1:41234</c>.</summary>
    public Uri Address { get; private set; } = null!;

    /// <summary>A gRPC channel to the service (created at start, disposed with the host).</summary>
    public GrpcChannel Channel => _channel ?? throw new InvalidOperationException("Call StartAsync first.");

    /// <summary>Builds and starts the host; throws what the service threw if it cannot start.</summary>
    public Task StartAsync()
    {
        // StartServer blocks while the host starts (migrations run here): keep it off the test's thread.
        return Task.Run(() =>
        {
            StartServer();
            var addresses = Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()
                ?? throw new InvalidOperationException("The server exposes no addresses.");
            Address = new Uri(addresses.Addresses.First());
            _channel = TestServiceKey.Channel(Address, ServiceKeyOrTests());
        });
    }

    /// <summary>The key this host's service was given (for its channel): the tests' unless the settings name another.</summary>
    private string ServiceKeyOrTests() =>
        _settings.TryGetValue(TestServiceKey.Setting, out var key) && !string.IsNullOrEmpty(key) ? key : TestServiceKey.Value;

    /// <summary>An HttpClient speaking HTTP/2 (prior knowledge) to the service, e.g. for <c>/health</c>.</summary>
    public HttpClient CreateHttp2Client() => new()
    {
        BaseAddress = Address,
        DefaultRequestVersion = HttpVersion.Version20,
        DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
    };

    /// <summary>Starts the host; a refused start throws what the service threw (<see cref="TradeEngine.Testing.Hosting.FactoryHostStart"/>).</summary>
    protected override Microsoft.Extensions.Hosting.IHost CreateHost(Microsoft.Extensions.Hosting.IHostBuilder builder) =>
        TradeEngine.Testing.Hosting.FactoryHostStart.Run(builder);

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        foreach (var (key, value) in _settings)
        {
            builder.UseSetting(key, value);
        }

        if (_configureServices is not null)
        {
            builder.ConfigureServices(_configureServices);
        }
    }

    public override async ValueTask DisposeAsync()
    {
        _channel?.Dispose();
        await base.DisposeAsync().ConfigureAwait(false);
        GC.SuppressFinalize(this);
    }
}
