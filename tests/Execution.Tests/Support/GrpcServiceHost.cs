using System.Net;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;

namespace TradeEngine.Execution.Tests.Support;

/// <summary>
/// A service's real Program (found through <typeparamref name="TEntryPoint"/>, any type of its assembly) on Kestrel at
/// 127.0.0.1:<see cref="Port"/>, HTTP/2 without TLS. The port is fixed at construction so services that call each
/// other in a cycle (Risk's margin monitor reads Execution) can be configured before either starts, and a restarted
/// service comes back at the same address.
/// </summary>
public sealed class GrpcServiceHost<TEntryPoint> : WebApplicationFactory<TEntryPoint>
    where TEntryPoint : class
{
    private readonly IReadOnlyDictionary<string, string?> _settings;
    private readonly Action<IServiceCollection>? _configureServices;
    private GrpcChannel? _channel;

    public GrpcServiceHost(int port, IReadOnlyDictionary<string, string?> settings, Action<IServiceCollection>? configureServices = null)
    {
        Port = port;
        _settings = TradeEngine.Testing.Hosting.TestServiceKey.With(settings);
        _configureServices = configureServices;
        UseKestrel(o => o.Listen(IPAddress.Loopback, port, l => l.Protocols = HttpProtocols.Http2));
    }

    public int Port { get; }

    public Uri Address => new($"http://127.0.0.1:{Port}");

    public GrpcChannel Channel => _channel ??= TradeEngine.Testing.Hosting.TestServiceKey.Channel(Address);

    public Task StartAsync() => Task.Run(StartServer);

    /// <summary>Starts the host; a refused start throws what the service threw (<see cref="TradeEngine.Testing.Hosting.FactoryHostStart"/>).</summary>
    protected override Microsoft.Extensions.Hosting.IHost CreateHost(Microsoft.Extensions.Hosting.IHostBuilder builder) =>
        TradeEngine.Testing.Hosting.FactoryHostStart.Run(builder);

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
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
        await base.DisposeAsync();
        GC.SuppressFinalize(this);
    }
}
