using System.Globalization;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace TradeEngine.AppHost.Infrastructure;

/// <summary>A RabbitMQ node run from the locally installed Debian package, as an AMQP connection string.</summary>
public sealed class LocalRabbitMqResource(string name, string command, string workingDirectory, int port)
    : ExecutableResource(name, command, workingDirectory), IResourceWithConnectionString
{
    public int Port { get; } = port;

    // The default guest user may only connect from loopback, which is the only address the node listens on.
    public ReferenceExpression ConnectionStringExpression =>
        ReferenceExpression.Create($"amqp://guest:guest@127.0.0.1:{Port.ToString(CultureInfo.InvariantCulture)}/");
}

public static class LocalRabbitMqExtensions
{
    private const string ServerScript = "/usr/lib/rabbitmq/bin/rabbitmq-server";
    private static readonly string[] EpmdPaths = ["/usr/bin/epmd", "/usr/lib/erlang/bin/epmd"];

    /// <summary>
    /// Runs <c>rabbitmq-server</c> from the Debian package as user <c>rabbitmq</c>, with its own node name, AMQP and
    /// distribution ports and a data directory in the AppHost's state folder, no plugins, and an AMQP handshake health check.
    /// The node's Erlang port mapper runs as a resource of its own (<c>{name}-epmd</c>, in the foreground on a port of
    /// its own): left to itself, the node would start <c>epmd -daemon</c>, which outlives the AppHost.
    /// </summary>
    public static IResourceBuilder<LocalRabbitMqResource> AddLocalRabbitMq(this IDistributedApplicationBuilder builder, string name)
    {
        if (!File.Exists(ServerScript))
        {
            throw new InvalidOperationException(
                "No container runtime answers and RabbitMQ is not installed. Install the 'rabbitmq-server' package (./run.sh does) or start Docker.");
        }

        var asRabbit = Environment.UserName == "root";
        var stateDir = LocalProcess.StateDirectory(builder.AppHostDirectory, "rabbitmq", forOtherUser: asRabbit);
        // The rabbitmq user owns this folder: each file is written anew and renamed into place, so a link it put there is
        // replaced, never written through.
        const UnixFileMode Readable = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;
        LocalProcess.WriteNewFile(Path.Combine(stateDir, "enabled_plugins"), "[].\n", Readable);
        // Classic queues of version 2 (CQv2), as RabbitMQ 3.13 and later (the container image) use by default: Debian's 3.10
        // still declares version 1, whose queue index costs more broker CPU per persistent message.
        LocalProcess.WriteNewFile(Path.Combine(stateDir, "rabbitmq.conf"),
            "loopback_users.guest = true\nlog.console = true\nlog.file = false\nclassic_queue.default_version = 2\n", Readable);
        if (asRabbit)
        {
            LocalProcess.Run("chown", ["-R", "rabbitmq:rabbitmq", stateDir]);
        }

        var port = LocalProcess.FreePort();
        var distPort = LocalProcess.FreePort();
        // One node name per state folder, so a second AppHost (tests) with its own folder never clashes with this one, and
        // the same name on every start: the node's data (queued messages included) lives under RABBITMQ_MNESIA_BASE/<node>,
        // so a new name would start from an empty broker. (string.GetHashCode is randomized per process; a digest is not.)
        var folderHash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Path.GetFullPath(stateDir))))[..8];
        var nodeName = $"tradeengine-{folderHash}@localhost";
        // Erlang reads its cookie from $HOME: the rabbitmq user's home when run as that user, else the state folder (an
        // ordinary user cannot read /var/lib/rabbitmq/.erlang.cookie).
        var home = asRabbit ? "/var/lib/rabbitmq" : stateDir;

        var epmdPath = EpmdPaths.FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException("RabbitMQ is installed but epmd (package erlang-base) is not.");
        var epmdPort = LocalProcess.FreePort().ToString(CultureInfo.InvariantCulture);
        var epmd = builder.AddExecutable($"{name}-epmd", asRabbit ? "runuser" : epmdPath, stateDir)
            .WithArgs(asRabbit ? ["-u", "rabbitmq", "--", epmdPath, "-port", epmdPort, "-address", "127.0.0.1"] : ["-port", epmdPort, "-address", "127.0.0.1"])
            .WithEnvironment("HOME", home);
        var epmdHealthKey = $"{name}-epmd-listening";
        builder.Services.AddHealthChecks().Add(new HealthCheckRegistration(
            epmdHealthKey, _ => new ListeningHealthCheck(int.Parse(epmdPort, CultureInfo.InvariantCulture)), null, null));
        epmd.WithHealthCheck(epmdHealthKey);

        var resource = new LocalRabbitMqResource(name, asRabbit ? "runuser" : ServerScript, stateDir, port);
        var healthKey = $"{name}-amqp";
        builder.Services.AddHealthChecks().Add(new HealthCheckRegistration(healthKey, _ => new AmqpHandshakeHealthCheck(port), null, null));

        var rabbit = builder.AddResource(resource)
            .WithEnvironment("RABBITMQ_NODENAME", nodeName)
            .WithEnvironment("RABBITMQ_NODE_IP_ADDRESS", "127.0.0.1")
            .WithEnvironment("RABBITMQ_NODE_PORT", port.ToString(CultureInfo.InvariantCulture))
            .WithEnvironment("RABBITMQ_DIST_PORT", distPort.ToString(CultureInfo.InvariantCulture))
            .WithEnvironment("RABBITMQ_MNESIA_BASE", Path.Combine(stateDir, "mnesia"))
            .WithEnvironment("RABBITMQ_LOG_BASE", Path.Combine(stateDir, "log"))
            .WithEnvironment("RABBITMQ_CONFIG_FILE", Path.Combine(stateDir, "rabbitmq.conf"))
            .WithEnvironment("RABBITMQ_ENABLED_PLUGINS_FILE", Path.Combine(stateDir, "enabled_plugins"))
            .WithEnvironment("RABBITMQ_PID_FILE", Path.Combine(stateDir, "rabbitmq.pid"))
            .WithEnvironment("HOME", home)
            .WithEnvironment("ERL_EPMD_PORT", epmdPort)
            .WithEndpoint(name: "tcp", port: port, targetPort: port, scheme: "tcp", isProxied: false)
            .WithHealthCheck(healthKey)
            .WaitFor(epmd);
        if (asRabbit)
        {
            rabbit.WithArgs("-u", "rabbitmq", "--", ServerScript);
        }

        return rabbit;
    }

    /// <summary>Healthy once something listens on 127.0.0.1:<paramref name="port"/>.</summary>
    private sealed class ListeningHealthCheck(int port) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync("127.0.0.1", port, cancellationToken).ConfigureAwait(false);
                return HealthCheckResult.Healthy();
            }
            catch (SocketException ex)
            {
                return HealthCheckResult.Unhealthy("not listening", ex);
            }
        }
    }

    /// <summary>Healthy once the node answers the AMQP 0-9-1 protocol header with a Connection.Start method frame.</summary>
    private sealed class AmqpHandshakeHealthCheck(int port) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync("127.0.0.1", port, cancellationToken).ConfigureAwait(false);
                var stream = client.GetStream();
                await stream.WriteAsync("AMQP\0\0\u0009\u0001"u8.ToArray(), cancellationToken).ConfigureAwait(false);
                var frame = new byte[1];
                var read = await stream.ReadAsync(frame, cancellationToken).ConfigureAwait(false);
                return read == 1 && frame[0] == 1 ? HealthCheckResult.Healthy() : HealthCheckResult.Unhealthy("no AMQP Connection.Start");
            }
            catch (Exception ex) when (ex is SocketException or IOException)
            {
                return HealthCheckResult.Unhealthy("AMQP port not answering", ex);
            }
        }
    }
}
