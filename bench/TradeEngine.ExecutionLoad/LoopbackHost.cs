using System.Net;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using TradeEngine.Binance;

namespace TradeEngine.ExecutionLoad;

/// <summary>A service's real Program on 127.0.0.1:<see cref="Port"/> (never another interface).</summary>
public sealed class LoopbackHost<TEntryPoint> : WebApplicationFactory<TEntryPoint>
    where TEntryPoint : class
{
    private readonly IReadOnlyDictionary<string, string?> _settings;
    private readonly Action<IServiceCollection>? _services;

    public LoopbackHost(int port, HttpProtocols protocols, IReadOnlyDictionary<string, string?> settings, Action<IServiceCollection>? services = null)
    {
        Port = port;
        _settings = settings;
        _services = services;
        UseKestrel(o => o.Listen(IPAddress.Loopback, port, l => l.Protocols = protocols));
    }

    public int Port { get; }

    /// <summary>The service key every host of the benchmark is given.</summary>
    public const string ServiceKey = "execution-load-service-key-0f3a9c";

    public Uri Address => new($"http://127.0.0.1:{Port}/");

    public Task StartAsync() => Task.Run(StartServer);

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        // As Production for everything that reads the environment (IsDevelopment), except Risk's refusal of its margin
        // monitor off, which Production enforces: the load keeps the monitor's polling out of its figures.
        builder.UseEnvironment("Benchmark");
        // The services' shared key (every call between them carries it); the load's own channel sends it too.
        builder.UseSetting(TradeEngine.ServiceDefaults.Grpc.ServiceKey.Setting, ServiceKey);
        foreach (var (key, value) in _settings)
        {
            builder.UseSetting(key, value);
        }

        if (_services is not null)
        {
            builder.ConfigureTestServices(_services);
        }
    }
}
