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
/// A local node is only reported ready when the broker answering on its port is itself (its <c>cluster_name</c> is
/// the node name): a first start moves to another port when a foreign process holds one, a restart throws when a
/// foreign listener took the port while the broker was down. Each node runs its own epmd (ERL_EPMD_PORT), killed with it.
/// </remarks>
public sealed class RabbitMqServer : IAsyncLifetime, IAsyncDisposable
{
    public const string EnvironmentVariable = "TEST_RABBITMQ";
    private const string RabbitUser = "rabbitmq";
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(60);
    private RabbitMqContainer? _container;
    private LocalProcess? _process;

    /// <summary>
    /// The local broker's process (the root of its process tree: the <c>runuser</c> that started it when run as another
    /// user), for tools that read its CPU; null for a container or an external broker, or before it starts.
    /// </summary>
    public int? LocalProcessId => _process?.Id;
    private LocalProcess? _epmd;
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

    /// <summary>
    /// The AMQP port a local broker tries first (for tests of this fixture); when another process holds it, a free
    /// one is chosen instead. Null (the default): a free port chosen by the kernel.
    /// </summary>
    public int? PreferredPort { get; init; }

    /// <summary>
    /// Always a local server from the Debian package, whatever TEST_RABBITMQ or a Docker endpoint say: for the tests of the
    /// local server itself, which would otherwise have nothing of theirs to check where a container or an external
    /// server is used (they returned early, passing on a path that checked nothing).
    /// </summary>
    public bool LocalOnly { get; init; }

    /// <summary>
    /// The Erlang node name of a local broker (also its <c>cluster_name</c>, which the fixture checks on every
    /// connection it makes while starting); null for a container or an external broker.
    /// </summary>
    public string? NodeName => _node?.NodeName;

    /// <summary>The temporary folder (config, data, logs, Erlang cookie) of a local broker; null otherwise.</summary>
    public string? NodeDirectory => _node?.Root;

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
            await WaitUntilReadyAsync(expectedClusterName: null, cancellationToken).ConfigureAwait(false);
        }
        else if (_node is not null)
        {
            await StartLocalNodeAsync(firstStart: false, cancellationToken).ConfigureAwait(false);
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

        // The node's own epmd (on a port of its own) goes with it, so nothing of this broker outlives it.
        _epmd?.Dispose();
        _epmd = null;
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

    /// <summary>
    /// Empties the named queues where they exist. Tests share one broker and services keep their queue names, so a
    /// message a stopped service had not acknowledged (it goes back to its queue) would reach the next test's service.
    /// </summary>
    public async Task PurgeQueuesAsync(params string[] queues) =>
        await ForEachQueueAsync(queues, async (channel, queue) =>
        {
            await channel.QueuePurgeAsync(queue).ConfigureAwait(false);
            return true;
        }).ConfigureAwait(false);

    /// <summary>
    /// Each named queue as the broker reports it now: its ready messages and its consumers, or null when it is not
    /// declared. For tests that must know who listens on a queue their services share with earlier tests' services.
    /// </summary>
    public async Task<IReadOnlyList<(string Queue, uint Ready, uint Consumers)?>> QueueStatesAsync(params string[] queues) =>
        await ForEachQueueAsync<(string Queue, uint Ready, uint Consumers)?>(queues, async (channel, queue) =>
        {
            var ok = await channel.QueueDeclarePassiveAsync(queue).ConfigureAwait(false);
            return (queue, ok.MessageCount, ok.ConsumerCount);
        }).ConfigureAwait(false);

    /// <summary>
    /// Runs <paramref name="action"/> on each named queue over one connection, each on a channel of its own (the broker
    /// closes the channel of an operation on a queue not declared); a queue not declared yields default.
    /// </summary>
    private async Task<IReadOnlyList<T?>> ForEachQueueAsync<T>(string[] queues, Func<IChannel, string, Task<T>> action)
    {
        ArgumentNullException.ThrowIfNull(queues);
        var results = new List<T?>();
        var connection = await ConnectAsync().ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            foreach (var queue in queues)
            {
                var channel = await connection.CreateChannelAsync().ConfigureAwait(false);
                await using (channel.ConfigureAwait(false))
                {
                    try
                    {
                        results.Add(await action(channel, queue).ConfigureAwait(false));
                    }
                    catch (OperationInterruptedException ex) when (ex.ShutdownReason?.ReplyCode == 404)
                    {
                        results.Add(default);
                    }
                }
            }
        }

        return results;
    }

    /// <summary>The last lines a local broker wrote (warnings and worse: alarms, refused connections); empty otherwise.</summary>
    public string OutputTail => _process?.OutputTail ?? "";

    private async Task StartFirstTimeAsync(CancellationToken cancellationToken)
    {
        var external = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (!LocalOnly && !string.IsNullOrWhiteSpace(external))
        {
            Source = ServerSource.External;
            _amqpUri = new Uri(external);
            try
            {
                await WaitUntilReadyAsync(expectedClusterName: null, cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                _amqpUri = null;
                throw;
            }
        }
        else if (!LocalOnly && await DockerProbe.IsAvailableAsync().ConfigureAwait(false))
        {
            Source = ServerSource.Container;
            try
            {
                _container = new RabbitMqBuilder("rabbitmq:3.13-alpine").Build();
                await _container.StartAsync(cancellationToken).ConfigureAwait(false);
                _amqpUri = new Uri(_container.GetConnectionString());
                await WaitUntilReadyAsync(expectedClusterName: null, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                await DisposeAsync().ConfigureAwait(false);
                throw new InvalidOperationException("The RabbitMQ test container did not start: " + ex.Message, ex);
            }
        }
        else
        {
            Source = ServerSource.Local;
            _node = await LocalNode.CreateAsync().ConfigureAwait(false);
            try
            {
                await StartLocalNodeAsync(firstStart: true, cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                // Nothing may outlive a failed start: no beam, no epmd, no temporary folder.
                await DisposeAsync().ConfigureAwait(false);
                throw;
            }
        }
    }

    /// <summary>
    /// Starts the local node: its own epmd on a fresh port, then rabbitmq-server. The first start retries on new ports
    /// when another process took one; a restart must come back on the same AMQP port and fails loudly when a foreign
    /// listener holds it.
    /// </summary>
    private async Task StartLocalNodeAsync(bool firstStart, CancellationToken cancellationToken)
    {
        var node = _node!;
        var failures = new List<Exception>();
        for (var attempt = 0; attempt < 5; attempt++)
        {
            var amqpPort = firstStart
                ? attempt == 0 && PreferredPort is { } preferred ? preferred : FreePort.Next()
                : node.AmqpPort;
            if (FreePort.IsListening(amqpPort))
            {
                var taken = new PortTakenException($"127.0.0.1:{amqpPort} is already taken by another process.");
                if (!firstStart)
                {
                    throw ForeignListener(amqpPort, taken);
                }

                failures.Add(taken);
                continue;
            }

            var environment = await node.ConfigureAsync(amqpPort).ConfigureAwait(false);
            try
            {
                _epmd = await StartEpmdAsync(node, environment).ConfigureAwait(false);
                _amqpUri = new Uri($"amqp://guest:guest@127.0.0.1:{amqpPort.ToString(CultureInfo.InvariantCulture)}/");
                _process = LocalProcess.Start(node.ServerPath, [], RabbitUser, environment, node.Root);
                await WaitUntilReadyAsync(node.NodeName, cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (PortTakenException ex)
            {
                Kill();
                if (!firstStart && ex.AmqpPort)
                {
                    throw ForeignListener(amqpPort, ex);
                }

                failures.Add(ex);
            }
            catch
            {
                Kill();
                throw;
            }
        }

        throw new InvalidOperationException(
            "The local RabbitMQ node did not start: every port tried was taken by another process.",
            new AggregateException(failures));
    }

    private static InvalidOperationException ForeignListener(int port, Exception inner) => new(
        $"RabbitMQ cannot restart on 127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}: while it was stopped another " +
        "process took the port. The fixture refuses to use a foreign listener as this broker. " + inner.Message,
        inner);

    /// <summary>
    /// Starts the node's private epmd in the foreground (a child we can kill), on the port the node's ERL_EPMD_PORT
    /// names, so the <c>epmd -daemon</c> that erl would start finds it taken and exits instead of staying behind.
    /// </summary>
    private static async Task<LocalProcess> StartEpmdAsync(LocalNode node, IReadOnlyDictionary<string, string> environment)
    {
        var port = int.Parse(environment["ERL_EPMD_PORT"], CultureInfo.InvariantCulture);
        var epmd = LocalProcess.Start(node.EpmdPath, ["-port", environment["ERL_EPMD_PORT"], "-address", "127.0.0.1"], RabbitUser, environment);
        var deadline = Stopwatch.StartNew();
        while (!FreePort.IsListening(port))
        {
            if (epmd.HasExited || deadline.Elapsed > TimeSpan.FromSeconds(5))
            {
                var tail = epmd.HasExited ? await epmd.OutputTailAfterExitAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(false) : epmd.OutputTail;
                epmd.Dispose();
                throw new PortTakenException($"epmd could not listen on 127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}: {tail}");
            }

            await Task.Delay(10).ConfigureAwait(false);
        }

        if (epmd.HasExited)
        {
            // Something else answered on the port and ours gave up.
            throw new PortTakenException($"epmd port {port.ToString(CultureInfo.InvariantCulture)} is taken: {epmd.OutputTail}");
        }

        return epmd;
    }

    /// <summary>
    /// Waits until the broker accepts an AMQP connection. For a local node the broker that answers must be OURS
    /// (its cluster_name is our node name); our node exiting on eaddrinuse, or another broker answering, means the
    /// port was taken.
    /// </summary>
    private async Task WaitUntilReadyAsync(string? expectedClusterName, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            if (_process is { HasExited: true })
            {
                var tail = await _process.OutputTailAfterExitAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(false);
                if (tail.Contains("eaddrinuse", StringComparison.OrdinalIgnoreCase))
                {
                    throw new PortTakenException(
                        "rabbitmq-server could not bind a port (eaddrinuse): " + tail,
                        amqpPort: tail.Contains(AmqpUri.Port.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal));
                }

                throw new InvalidOperationException("rabbitmq-server exited: " + tail);
            }

            string? clusterName;
            try
            {
                await using var connection = await ConnectAsync(cancellationToken).ConfigureAwait(false);
                clusterName = connection.ServerProperties is { } properties && properties.TryGetValue("cluster_name", out var value)
                    ? value switch
                    {
                        byte[] bytes => System.Text.Encoding.UTF8.GetString(bytes),
                        string text => text,
                        _ => null,
                    }
                    : null;
            }
            catch (BrokerUnreachableException) when (deadline.Elapsed < ReadyTimeout)
            {
                await Task.Delay(100, cancellationToken).ConfigureAwait(false);
                continue;
            }
            catch (BrokerUnreachableException ex)
            {
                throw new InvalidOperationException(
                    $"RabbitMQ did not accept AMQP connections on {AmqpUri.Authority} within {ReadyTimeout.TotalSeconds:0} s. " +
                    _process?.OutputTail, ex);
            }

            if (expectedClusterName is null || clusterName == expectedClusterName)
            {
                return;
            }

            throw new PortTakenException(
                $"A foreign RabbitMQ broker (cluster_name '{clusterName}', expected '{expectedClusterName}') answers on {AmqpUri.Authority}.",
                amqpPort: true);
        }
    }

    private sealed class PortTakenException(string message, bool amqpPort = false) : Exception(message)
    {
        /// <summary>True when the AMQP port (the broker's address) is the one taken, not an internal port.</summary>
        public bool AmqpPort { get; } = amqpPort;
    }

    /// <summary>The files, name and ports of one local node; the AMQP port is kept across restarts.</summary>
    private sealed class LocalNode(string root, string serverPath, string epmdPath, string nodeName)
    {
        public string Root { get; } = root;

        public string ServerPath { get; } = serverPath;

        public string EpmdPath { get; } = epmdPath;

        public string NodeName { get; } = nodeName;

        public int AmqpPort { get; private set; }

        public static async Task<LocalNode> CreateAsync()
        {
            var server = new[] { "/usr/lib/rabbitmq/bin/rabbitmq-server", "/usr/sbin/rabbitmq-server" }.FirstOrDefault(File.Exists)
                ?? throw new InvalidOperationException(
                    "No RabbitMQ for the tests: no Docker endpoint answered, TEST_RABBITMQ is not set, and rabbitmq-server " +
                    "is not installed (apt-get install rabbitmq-server).");
            var epmd = new[] { "/usr/bin/epmd", "/usr/lib/erlang/bin/epmd" }.FirstOrDefault(File.Exists)
                ?? throw new InvalidOperationException("rabbitmq-server is installed but epmd (erlang-base) is not.");

            var id = Guid.NewGuid().ToString("N")[..12];
            var root = Path.Combine(Path.GetTempPath(), "te-rmq-" + id);
            Directory.CreateDirectory(root);

            // No plugins at all: the management listener (and its fixed port 15672) stays off.
            await File.WriteAllTextAsync(Path.Combine(root, "enabled_plugins"), "[].\n").ConfigureAwait(false);
            if (LocalProcess.IsRoot)
            {
                await LocalProcess.RunAsync("chown", [$"{RabbitUser}:{RabbitUser}", root]).ConfigureAwait(false);
            }

            return new LocalNode(root, server, epmd, $"test-{id}@localhost");
        }

        /// <summary>Writes the config for <paramref name="amqpPort"/> and returns the environment, with fresh epmd and dist ports.</summary>
        public async Task<IReadOnlyDictionary<string, string>> ConfigureAsync(int amqpPort)
        {
            AmqpPort = amqpPort;
            var config = Path.Combine(Root, "rabbitmq.conf");
            await File.WriteAllLinesAsync(config,
            [
                $"listeners.tcp.default = 127.0.0.1:{amqpPort.ToString(CultureInfo.InvariantCulture)}",
                // The identity the fixture checks: a foreign broker on our port has another cluster_name.
                $"cluster_name = {NodeName}",
                "loopback_users.guest = true",
                "disk_free_limit.absolute = 10MB",
                // Classic queues of version 2, as RabbitMQ 3.13 and later (the container image) use by default; Debian's
                // 3.10 still declares version 1 (see AppHost's LocalRabbitMqExtensions).
                "classic_queue.default_version = 2",
                "log.console = true",
                "log.console.level = warning",
                "log.file = false",
            ]).ConfigureAwait(false);
            if (LocalProcess.IsRoot)
            {
                await LocalProcess.RunAsync("chown", [$"{RabbitUser}:{RabbitUser}", config]).ConfigureAwait(false);
            }

            return new Dictionary<string, string>
            {
                // HOME holds this node's Erlang cookie, so it never touches /var/lib/rabbitmq.
                ["HOME"] = Root,
                ["RABBITMQ_NODENAME"] = NodeName,
                ["RABBITMQ_NODE_IP_ADDRESS"] = "127.0.0.1",
                ["RABBITMQ_NODE_PORT"] = amqpPort.ToString(CultureInfo.InvariantCulture),
                ["RABBITMQ_DIST_PORT"] = FreePort.Next().ToString(CultureInfo.InvariantCulture),
                // A private epmd per node (started and killed by the fixture), never the shared one on 4369.
                ["ERL_EPMD_PORT"] = FreePort.Next().ToString(CultureInfo.InvariantCulture),
                ["RABBITMQ_CONFIG_FILE"] = config,
                ["RABBITMQ_ENABLED_PLUGINS_FILE"] = Path.Combine(Root, "enabled_plugins"),
                ["RABBITMQ_MNESIA_BASE"] = Path.Combine(Root, "mnesia"),
                ["RABBITMQ_LOG_BASE"] = Path.Combine(Root, "log"),
                ["RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS"] = "-kernel inet_dist_use_interface {127,0,0,1}",
            };
        }
    }
}
