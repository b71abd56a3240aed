using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Grpc.Net.Client;
using Microsoft.Extensions.DependencyInjection;
using TradeEngine.EndToEnd.Tests.Telemetry;

namespace TradeEngine.EndToEnd.Tests;

/// <summary>
/// Starts the real AppHost once for the collection (PostgreSQL, RabbitMQ, PaperExchange and the four services as
/// separate processes) with its own state folder, and every service exporting traces to an in-test OTLP receiver.
/// </summary>
public sealed class AppHostFixture : IAsyncLifetime
{
    public static readonly string[] Services = ["ledger", "funding", "risk", "execution"];
    private static readonly TimeSpan StartTimeout = TimeSpan.FromMinutes(4);
    private readonly Dictionary<string, GrpcChannel> channels = [];
    private DirectoryInfo? stateDir;

    public DistributedApplication App { get; private set; } = null!;

    public OtlpTraceReceiver Traces { get; private set; } = null!;

    /// <summary>The names of the AppHost model's resources, as it built them.</summary>
    public IReadOnlyList<string> ResourceNames { get; private set; } = [];

    public async Task InitializeAsync()
    {
        Traces = await OtlpTraceReceiver.StartAsync();

        // A state folder of its own, traversable by the postgres and rabbitmq users the local servers run as.
        stateDir = Directory.CreateTempSubdirectory("tradeengine-e2e-");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(stateDir.FullName, (UnixFileMode)0b111_101_101);
        }
        Environment.SetEnvironmentVariable("TRADEENGINE_STATE_DIR", stateDir.FullName);

        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.TradeEngine_AppHost>();
        foreach (var project in builder.Resources.OfType<ProjectResource>())
        {
            project.Annotations.Add(new EnvironmentCallbackAnnotation(env =>
            {
                env["OTEL_EXPORTER_OTLP_ENDPOINT"] = Traces.Endpoint.ToString();
                env["OTEL_EXPORTER_OTLP_PROTOCOL"] = "grpc";
                env["OTEL_BSP_SCHEDULE_DELAY"] = "200";
            }));
        }

        ResourceNames = builder.Resources.Select(r => r.Name).ToList();
        App = await builder.BuildAsync();
        using var cts = new CancellationTokenSource(StartTimeout);
        await App.StartAsync(cts.Token);
        foreach (var name in Services.Append("paper-exchange").Append("ledgerdb").Append("eventbus"))
        {
            await App.ResourceNotifications.WaitForResourceHealthyAsync(name, cts.Token);
        }
    }

    /// <summary>A gRPC channel to a service's "http" endpoint (h2c), as another service would reach it.</summary>
    public GrpcChannel Channel(string service)
    {
        lock (channels)
        {
            if (!channels.TryGetValue(service, out var channel))
            {
                channel = GrpcChannel.ForAddress(App.GetEndpoint(service, "http"));
                channels[service] = channel;
            }

            return channel;
        }
    }

    public async Task DisposeAsync()
    {
        foreach (var channel in channels.Values)
        {
            channel.Dispose();
        }

        if (App is not null)
        {
            await App.StopAsync();
            await App.DisposeAsync();
        }

        await Traces.DisposeAsync();
        try
        {
            stateDir?.Delete(recursive: true);
        }
        catch (IOException)
        {
            // A server may still be flushing its files; the folder is in /tmp.
        }
    }
}

[CollectionDefinition(Name)]
public sealed class AppHostCollection : ICollectionFixture<AppHostFixture>
{
    public const string Name = "AppHost";
}
