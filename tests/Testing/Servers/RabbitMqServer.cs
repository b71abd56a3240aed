using System.Diagnostics;
using System.Globalization;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;
using Testcontainers.RabbitMq;
using Xunit;

namespace TradeEngine.Testing.Servers;

/// <summary>
/// A throwaway RabbitMQ broker for integration tests. In order of preference: the broker named by
/// <c>TEST_RABBITMQ</c> (an amqp URI), a Testcontainers container when Docker answers, or a local
/// <c>rabbitmq-server</c> from the Debian package run as user rabbitmq with its own node name, ports, config
/// (no plugins, so no management listener) and data directory. If none can be started, <see cref="StartAsync"/>
/// throws: the suite fails, never skips.
/// </summary>
/// <remarks>
/// <see cref="StopAsync"/> followed by <see cref="StartAsync"/> simulates an outage: the broker comes back on the
/// same URI with its durable queues. <see cref="DisposeAsync"/> removes it for good.
/// </remarks>
public sealed class RabbitMqServer : IAsyncLifetime, IAsyncDisposable
{
    public const string EnvironmentVariable = "TEST_RABBITMQ";
    private const string RabbitUser = "rabbitmq";
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(60);
    private RabbitMqContainer? _container;
    private LocalProcess? _process;
    private LocalNode? _node;
    private Uri? _amqpUri;

    /// <summary>The broker's address, e.g. <c>amqp://guest:guest@127.0.0.1:5672/</c>; unchanged across stop and start.</summary>
    public Uri AmqpUri => _amqpUri ?? throw new InvalidOperationException("The broker is not started.");

    /// <summary>The amqp URI as the <c>ConnectionStrings:eventbus</c> value.</summary>
    public string ConnectionString => AmqpUri.ToString();

    public ServerSource Source { get; private set; }

    public bool IsRunning { get; private set; }

    /// <summary>How long the last (re)start took until the broker accepted an AMQP connection.</summary>
    public TimeSpan StartupTime { get; private set; }

    /// <summary>Starts the broker, or restarts it after <see cref="StopAsync"/>, and waits until it accepts AMQP connections.</summary>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        if (IsRunning)
        {
            return;
        }

        var started = Stopwatch.StartNew();
        if (_amqpUri is null)
        {
            await StartFirstTimeAsync(cancellationToken).ConfigureAwait(false);
        }
        else if (_container is not null)
        {
            await _container.ExecAsync(["rabbitmqctl", "start_app"], cancellationToken).ConfigureAwait(false);
            await WaitUntilReadyAsync(cancellationToken).ConfigureAwait(false);
        }
        else if (_node is not null)
        {
            await StartLocalNodeAsync(cancellationToken).ConfigureAwait(false);
        }

        IsRunning = true;
        StartupTime = started.Elapsed;
    }

    /// <summary>
    /// Takes the broker down (a local node is killed outright, as a crash would; a container's app is stopped),
    /// keeping its address and data so <see cref="StartAsync"/> brings it back. An external broker cannot be stopped.
    /// </summary>
    public async Task StopAsync()
    {
        if (!IsRunning)
        {
            return;
        }

        switch (Source)
        {
            case ServerSource.External:
                throw new NotSupportedException("An external broker (TEST_RABBITMQ) cannot be stopped by the tests.");
            case ServerSource.Container:
                await _container!.ExecAsync(["rabbitmqctl", "stop_app"]).ConfigureAwait(false);
                break;
            default:
                Kill();
                break;
        }

        IsRunning = false;
    }

    /// <summary>Kills the local broker's whole process tree at once (SIGKILL).</summary>
    public void Kill()
    {
        _process?.Dispose();
        _process = null;
        IsRunning = false;
    }

    Task IAsyncLifetime.InitializeAsync() => StartAsync();

    Task IAsyncLifetime.DisposeAsync() => DisposeAsync().AsTask();

    public async ValueTask DisposeAsync()
    {
        Kill();
        if (_container is not null)
        {
            await _container.DisposeAsync().ConfigureAwait(false);
            _container = null;
        }

        if (_node is not null && Directory.Exists(_node.Root))
        {
            Directory.Delete(_node.Root, recursive: true);
        }

        _node = null;
        _amqpUri = null;
    }

    /// <summary>Opens a raw AMQP connection to the broker (for tests that inspect queues).</summary>
    public Task<IConnection> ConnectAsync(CancellationToken cancellationToken = default) =>
        new ConnectionFactory { Uri = AmqpUri, RequestedConnectionTimeout = TimeSpan.FromSeconds(2) }
            .CreateConnectionAsync(cancellationToken);

    private async Task StartFirstTimeAsync(CancellationToken cancellationToken)
    {
        var external = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (!string.IsNullOrWhiteSpace(external))
        {
            Source = ServerSource.External;
            _amqpUri = new Uri(external);
            await WaitUntilReadyAsync(cancellationToken).ConfigureAwait(false);
        }
        else if (await DockerProbe.IsAvailableAsync().ConfigureAwait(false))
        {
            Source = ServerSource.Container;
            _container = new RabbitMqBuilder("rabbitmq:3.13-alpine").Build();
            await _container.StartAsync(cancellationToken).ConfigureAwait(false);
            _amqpUri = new Uri(_container.GetConnectionString());
            await WaitUntilReadyAsync(cancellationToken).ConfigureAwait(false);
        }
        else
        {
            Source = ServerSource.Local;
            _node = await LocalNode.CreateAsync().ConfigureAwait(false);
            _amqpUri = new Uri($"amqp://guest:guest@127.0.0.1:{_node.AmqpPort.ToString(CultureInfo.InvariantCulture)}/");
            await StartLocalNodeAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task StartLocalNodeAsync(CancellationToken cancellationToken)
    {
        var node = _node!;
        _process = LocalProcess.Start(node.ServerPath, [], RabbitUser, node.Environment, node.Root);
        try
        {
            await WaitUntilReadyAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            Kill();
            throw;
        }
    }

    private async Task WaitUntilReadyAsync(CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            if (_process is { HasExited: true })
            {
                throw new InvalidOperationException("rabbitmq-server exited: " + _process.OutputTail);
            }

            try
            {
                await using var connection = await ConnectAsync(cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (BrokerUnreachableException) when (deadline.Elapsed < ReadyTimeout)
            {
                await Task.Delay(100, cancellationToken).ConfigureAwait(false);
            }
            catch (BrokerUnreachableException ex)
            {
                throw new InvalidOperationException(
                    "RabbitMQ did not accept AMQP connections in time. " + _process?.OutputTail, ex);
            }
        }
    }

    /// <summary>The files, ports and environment of one local node; kept across restarts.</summary>
    private sealed record LocalNode(string Root, string ServerPath, int AmqpPort, IReadOnlyDictionary<string, string> Environment)
    {
        public static async Task<LocalNode> CreateAsync()
        {
            var server = new[] { "/usr/lib/rabbitmq/bin/rabbitmq-server", "/usr/sbin/rabbitmq-server" }.FirstOrDefault(File.Exists)
                ?? throw new InvalidOperationException(
                    "No RabbitMQ for the tests: no Docker endpoint answered, TEST_RABBITMQ is not set, and rabbitmq-server " +
                    "is not installed (apt-get install rabbitmq-server).");

            var id = Guid.NewGuid().ToString("N")[..12];
            var root = Path.Combine(Path.GetTempPath(), "te-rmq-" + id);
            Directory.CreateDirectory(root);
            var amqpPort = FreePort.Next();
            var distPort = FreePort.Next();
            var config = Path.Combine(root, "rabbitmq.conf");
            await File.WriteAllLinesAsync(config,
            [
                $"listeners.tcp.default = 127.0.0.1:{amqpPort.ToString(CultureInfo.InvariantCulture)}",
                "loopback_users.guest = true",
                "disk_free_limit.absolute = 10MB",
                "log.console = true",
                "log.console.level = warning",
                "log.file = false",
            ]).ConfigureAwait(false);

            // No plugins at all: the management listener (and its fixed port 15672) stays off.
            var plugins = Path.Combine(root, "enabled_plugins");
            await File.WriteAllTextAsync(plugins, "[].\n").ConfigureAwait(false);
            if (LocalProcess.IsRoot)
            {
                await LocalProcess.RunAsync("chown", ["-R", $"{RabbitUser}:{RabbitUser}", root]).ConfigureAwait(false);
            }

            var environment = new Dictionary<string, string>
            {
                // HOME holds this node's Erlang cookie, so it never touches /var/lib/rabbitmq.
                ["HOME"] = root,
                ["RABBITMQ_NODENAME"] = $"test-{id}@localhost",
                ["RABBITMQ_NODE_IP_ADDRESS"] = "127.0.0.1",
                ["RABBITMQ_NODE_PORT"] = amqpPort.ToString(CultureInfo.InvariantCulture),
                ["RABBITMQ_DIST_PORT"] = distPort.ToString(CultureInfo.InvariantCulture),
                ["RABBITMQ_CONFIG_FILE"] = config,
                ["RABBITMQ_ENABLED_PLUGINS_FILE"] = plugins,
                ["RABBITMQ_MNESIA_BASE"] = Path.Combine(root, "mnesia"),
                ["RABBITMQ_LOG_BASE"] = Path.Combine(root, "log"),
                ["RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS"] = "-kernel inet_dist_use_interface {127,0,0,1}",
            };
            return new LocalNode(root, server, amqpPort, environment);
        }
    }
}
