using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Grpc.Net.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit.Abstractions;
using Xunit.Sdk;
using TradeEngine.EndToEnd.Tests.Telemetry;

namespace TradeEngine.EndToEnd.Tests;

/// <summary>
/// Starts the real AppHost once for the collection (PostgreSQL, RabbitMQ, PaperExchange and the four services as
/// separate processes) with its own state folder, and every service exporting traces to an in-test OTLP receiver.
/// </summary>
public sealed class AppHostFixture(IMessageSink diagnostics) : IAsyncLifetime
{
    private const int StartAttempts = 2;

    public static readonly string[] Services = ["ledger", "funding", "risk", "execution"];

    /// <summary>The resources the start waits to be healthy.</summary>
    private static readonly string[] AwaitedResources = [.. Services, "paper-exchange", "ledgerdb", "eventbus"];

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

        // One more start when the first fails (a local server exited at start, or the model was not healthy in time):
        // the AppHost is started afresh with new ports and a new state folder, and the first failure, with the failing
        // resources' last log lines, goes to the run's output. A second failure fails every test with both reasons.
        var failures = new List<string>();
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await StartAppHostAsync();
                return;
            }
            catch (AppHostStartException failed)
            {
                failures.Add($"Attempt {attempt}: {failed.Message}");
                await StopAppHostAsync();
                if (attempt == StartAttempts)
                {
                    throw new InvalidOperationException(
                        $"The AppHost did not start in {StartAttempts} attempts.{Environment.NewLine}{string.Join(Environment.NewLine, failures)}");
                }

                diagnostics.OnMessage(new DiagnosticMessage(
                    $"AppHost start attempt {attempt} failed; starting it again. {failed.Message}"));
            }
        }
    }

    private async Task StartAppHostAsync()
    {
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

        var logs = new ResourceLogTail();
        builder.Services.AddLogging(logging => logging.AddProvider(logs));
        ResourceNames = builder.Resources.Select(r => r.Name).ToList();
        App = await builder.BuildAsync();

        using var cts = new CancellationTokenSource(StartTimeout);
        var states = new System.Collections.Concurrent.ConcurrentDictionary<string, CustomResourceSnapshot>();
        var ended = WatchForAResourceEndingAsync(App, states, cts.Token);
        var healthy = StartAndWaitHealthyAsync(cts.Token);
        if (await Task.WhenAny(healthy, ended) == ended && await ended is { } name)
        {
            await cts.CancelAsync();
            await healthy.ContinueWith(_ => { }, TaskScheduler.Default);
            throw new AppHostStartException(
                $"{name} ended ({Describe(states[name])}) before the AppHost was healthy.{logs.Tail(name)}");
        }

        try
        {
            await healthy;
        }
        catch (OperationCanceledException) when (cts.IsCancellationRequested)
        {
            var waiting = AwaitedResources.Where(n => !states.TryGetValue(n, out var s)
                                                      || s.HealthStatus != Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Healthy).ToList();
            throw new AppHostStartException(
                $"not healthy after {StartTimeout.TotalMinutes} minutes: {string.Join(", ", waiting.Select(n => $"{n} ({(states.TryGetValue(n, out var s) ? Describe(s) : "no state")})"))}."
                + string.Concat(waiting.Select(logs.Tail)));
        }
        finally
        {
            await cts.CancelAsync();
            await ended.ContinueWith(_ => { }, TaskScheduler.Default);
        }
    }

    private async Task StartAndWaitHealthyAsync(CancellationToken cancellationToken)
    {
        await App.StartAsync(cancellationToken);
        foreach (var name in AwaitedResources)
        {
            await App.ResourceNotifications.WaitForResourceHealthyAsync(name, cancellationToken);
        }
    }

    /// <summary>
    /// The name of the first resource that ends (exits, fails to start) while the AppHost starts, or null when the
    /// start ends first; the demo, which ends by design, is not watched. Keeps every resource's latest snapshot.
    /// </summary>
    private static async Task<string?> WatchForAResourceEndingAsync(
        DistributedApplication app, System.Collections.Concurrent.ConcurrentDictionary<string, CustomResourceSnapshot> states, CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var change in app.ResourceNotifications.WatchAsync(cancellationToken))
            {
                states[change.Resource.Name] = change.Snapshot;
                if (change.Resource.Name != "demo" && KnownResourceStates.TerminalStates.Contains(change.Snapshot.State?.Text))
                {
                    return change.Resource.Name;
                }
            }
        }
        catch (OperationCanceledException)
        {
        }

        return null;
    }

    /// <summary>The value of one of the AppHost's parameters (a generated secret, e.g. <c>service-key</c>).</summary>
    public string ParameterValue(string name)
    {
        var parameter = App.Services.GetRequiredService<DistributedApplicationModel>().Resources.OfType<ParameterResource>().Single(p => p.Name == name);
        return parameter.GetValueAsync(CancellationToken.None).AsTask().GetAwaiter().GetResult()
               ?? throw new InvalidOperationException($"The AppHost's parameter {name} has no value.");
    }

    private static string Describe(CustomResourceSnapshot snapshot) =>
        $"state {snapshot.State?.Text ?? "none"}, health {snapshot.HealthStatus?.ToString() ?? "none"}"
        + (snapshot.ExitCode is { } code ? $", exit code {code}" : "");

    private async Task StopAppHostAsync()
    {
        if (App is not null)
        {
            await App.StopAsync();
            await App.DisposeAsync();
            App = null!;
        }

        try
        {
            stateDir?.Delete(recursive: true);
        }
        catch (IOException)
        {
            // A server may still be flushing its files; the folder is in /tmp.
        }
    }

    /// <summary>
    /// A gRPC channel to a service's "http" endpoint (h2c), as another service would reach it: with the run's generated
    /// service key (the AppHost's secret parameter <c>service-key</c>) on every call.
    /// </summary>
    public GrpcChannel Channel(string service)
    {
        lock (channels)
        {
            if (!channels.TryGetValue(service, out var channel))
            {
                channel = TradeEngine.Testing.Hosting.TestServiceKey.Channel(App.GetEndpoint(service, "http"), ParameterValue("service-key"));
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

        await StopAppHostAsync();
        await Traces.DisposeAsync();
    }

    private sealed class AppHostStartException(string message) : Exception(message);

    /// <summary>
    /// The last lines each resource wrote, as the testing host forwards them to its loggers (category
    /// <c>{AppHost}.Resources.{resource}</c>), for the message of a start that failed.
    /// </summary>
    private sealed class ResourceLogTail : ILoggerProvider
    {
        private const int Lines = 30;
        private const string Marker = ".Resources.";
        private readonly System.Collections.Concurrent.ConcurrentDictionary<string, Queue<string>> _lines = new(StringComparer.Ordinal);

        public ILogger CreateLogger(string categoryName)
        {
            var at = categoryName.IndexOf(Marker, StringComparison.Ordinal);
            return at < 0 ? NullLogger.Instance : new TailLogger(_lines.GetOrAdd(categoryName[(at + Marker.Length)..], _ => new Queue<string>()));
        }

        public string Tail(string resource)
        {
            var lines = _lines.Where(l => l.Key == resource || l.Key.StartsWith(resource + "-", StringComparison.Ordinal))
                .SelectMany(l => { lock (l.Value) { return l.Value.Select(line => $"{l.Key}| {line}").ToList(); } })
                .ToList();
            return lines.Count == 0
                ? $"{Environment.NewLine}({resource} wrote nothing.)"
                : $"{Environment.NewLine}Last lines of {resource}:{Environment.NewLine}{string.Join(Environment.NewLine, lines)}";
        }

        public void Dispose()
        {
        }

        private sealed class TailLogger(Queue<string> lines) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                lock (lines)
                {
                    lines.Enqueue(formatter(state, exception));
                    while (lines.Count > Lines)
                    {
                        lines.Dequeue();
                    }
                }
            }
        }
    }
}

[CollectionDefinition(Name)]
public sealed class AppHostCollection : ICollectionFixture<AppHostFixture>
{
    public const string Name = "AppHost";
}
