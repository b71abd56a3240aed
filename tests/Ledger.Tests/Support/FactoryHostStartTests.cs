using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using TradeEngine.Testing.Hosting;

namespace TradeEngine.Ledger.Tests.Support;

/// <summary>
/// The tests' hosts report a refused start with what the service threw, even when WebApplicationFactory lost that
/// exception to its race with the service's Main (ObjectDisposedException). A start-up refusal's test failed once on it.
/// </summary>
public sealed class FactoryHostStartTests
{
    [Fact]
    public void Run_FactoryReportsTheDisposedHost_ThrowsTheStartsOwnException()
    {
        var refused = new InvalidOperationException("Risk:LiquidationBuffer is looser than the hard limit");
        var host = new RacedHost();
        host.Started.SetException(refused);

        var thrown = Assert.Throws<InvalidOperationException>(() => FactoryHostStart.Run(new Builder(host)));

        Assert.Same(refused, thrown);
    }

    [Fact]
    public void Run_NoStartExceptionKept_ThrowsTheFactorysOwn()
    {
        var host = new RacedHost();
        host.Started.SetResult();

        Assert.Throws<ObjectDisposedException>(() => FactoryHostStart.Run(new Builder(host)));
    }

    /// <summary>The factory's deferred host still keeps the start's completion where FactoryHostStart reads it.</summary>
    [Fact]
    public void WebApplicationFactorysDeferredHost_KeepsTheStartsCompletionInHostStartedTcs()
    {
        var deferred = typeof(WebApplicationFactory<>).Assembly.GetTypes().Single(t => t.Name == "DeferredHost");

        var field = deferred.GetField("_hostStartedTcs", System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.NonPublic);

        Assert.NotNull(field);
        Assert.Equal(typeof(TaskCompletionSource), field.FieldType);
    }

    /// <summary>A host whose start the factory reports as disposed, keeping the start's completion as DeferredHost does.</summary>
    private sealed class RacedHost : IHost
    {
#pragma warning disable IDE0044, IDE1006 // The name and shape the factory's DeferredHost has.
        private TaskCompletionSource _hostStartedTcs = new(TaskCreationOptions.RunContinuationsAsynchronously);
#pragma warning restore IDE0044, IDE1006

        public TaskCompletionSource Started => _hostStartedTcs;

        public IServiceProvider Services => throw new ObjectDisposedException("IServiceProvider");

        public Task StartAsync(CancellationToken cancellationToken = default) => throw new ObjectDisposedException("IServiceProvider");

        public Task StopAsync(CancellationToken cancellationToken = default) => Task.CompletedTask;

        public void Dispose()
        {
        }
    }

    private sealed class Builder(IHost host) : IHostBuilder
    {
        public IDictionary<object, object> Properties { get; } = new Dictionary<object, object>();

        public IHost Build() => host;

        public IHostBuilder ConfigureAppConfiguration(Action<HostBuilderContext, IConfigurationBuilder> configureDelegate) => this;

        public IHostBuilder ConfigureContainer<TContainerBuilder>(Action<HostBuilderContext, TContainerBuilder> configureDelegate) => this;

        public IHostBuilder ConfigureHostConfiguration(Action<IConfigurationBuilder> configureDelegate) => this;

        public IHostBuilder ConfigureServices(Action<HostBuilderContext, IServiceCollection> configureDelegate) => this;

        public IHostBuilder UseServiceProviderFactory<TContainerBuilder>(IServiceProviderFactory<TContainerBuilder> factory)
            where TContainerBuilder : notnull => this;

        public IHostBuilder UseServiceProviderFactory<TContainerBuilder>(Func<HostBuilderContext, IServiceProviderFactory<TContainerBuilder>> factory)
            where TContainerBuilder : notnull => this;
    }
}
