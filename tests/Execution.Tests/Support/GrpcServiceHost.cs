using System.Net;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

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
    private volatile bool _started;

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

    /// <summary>
    /// Starts the service apart from the test's execution context, as a process of its own would: nothing ambient of
    /// the test flows into its Main (MassTransit's log context, an AsyncLocal that a test's use of another service's bus
    /// sets, pointed the new service's bus at that service's logger factory, disposed once it stopped; Activity.Current).
    /// </summary>
    public Task StartAsync()
    {
        using (ExecutionContext.SuppressFlow())
        {
            return Task.Run(() =>
            {
                StartServer();
                _started = true;
            });
        }
    }

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

        // The start returns once the service's event bus has started (connected, its consumers attached). Otherwise a
        // test that ended while the bus was still connecting (seconds, under load) stopped the host with the bus "not
        // started": MassTransit skipped its stop, the start went on, and the disposed service's consumers stayed on
        // the broker for the rest of the run, taking a share of every later test's events and failing them.
        builder.ConfigureServices(services => services.Configure<MassTransit.MassTransitHostOptions>(o => o.WaitUntilStarted = true));
        if (_configureServices is not null)
        {
            builder.ConfigureServices(_configureServices);
        }
    }

    /// <summary>
    /// Stops the service's event bus as its host's stop does in production, before the factory stops the host. The
    /// factory's dispose stops the host while the service's Main, woken by the same signal, stops it too: the second stop
    /// returned at once and Main disposed the services while the first was still stopping the bus, waiting for a
    /// consumer at work, which then failed on disposed services (unlike in production, where Main's is the only stop).
    /// </summary>
    private async Task StopEventBusAsync()
    {
        if (!_started)
        {
            return; // the factory would start a host that never started (or whose start failed) to find its services
        }

        IHostedService[] buses;
        try
        {
            buses = [.. Services.GetServices<IHostedService>().Where(s => s.GetType().Name == "MassTransitHostedService")];
        }
        catch (ObjectDisposedException)
        {
            return; // never started, or already stopped
        }

        // The host's own stop gives every hosted service its 30 s (HostOptions.ShutdownTimeout) at most.
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        foreach (var bus in buses)
        {
            await bus.StopAsync(timeout.Token);
        }
    }

    public override async ValueTask DisposeAsync()
    {
        _channel?.Dispose();
        await StopEventBusAsync();
        await base.DisposeAsync();
        GC.SuppressFinalize(this);
    }
}
