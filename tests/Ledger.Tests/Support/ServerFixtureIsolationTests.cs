using System.Net;
using System.Net.Sockets;
using Npgsql;
using TradeEngine.Testing.Servers;

namespace TradeEngine.Ledger.Tests.Support;

/// <summary>
/// The throwaway local servers (started here as local servers whatever the environment offers) are really OURS: a port held by a foreign server is never mistaken for ours, a restart never
/// silently adopts a foreign listener, and nothing of a local server (postgres, beam, epmd, watchdog, folder)
/// survives its dispose. The collection's shared servers play the foreign ones.
/// </summary>
[Collection(LedgerCollection.Name)]
public sealed class ServerFixtureIsolationTests(PostgresServer postgres, RabbitMqServer rabbit)
{
    [Fact]
    public async Task PostgresServer_PreferredPortHeldByForeignServer_StartsItsOwnServerOnAnotherPort()
    {
        var foreignPort = new NpgsqlConnectionStringBuilder(postgres.ConnectionString).Port;
        await using var ours = new PostgresServer { PreferredPort = foreignPort, LocalOnly = true };
        await ours.StartAsync();
        Assert.Equal(ServerSource.Local, ours.Source);

        var ourPort = new NpgsqlConnectionStringBuilder(ours.ConnectionString).Port;
        Assert.NotEqual(foreignPort, ourPort);
        Assert.NotNull(ours.DataDirectory);
        await using var connection = new NpgsqlConnection(ours.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT current_setting('data_directory'), current_setting('cluster_name'), inet_server_port(), inet_server_addr()::text, current_setting('fsync')",
            connection);
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        Assert.Equal(ours.DataDirectory, reader.GetString(0));
        Assert.Equal(Path.GetFileName(Path.GetDirectoryName(ours.DataDirectory)), reader.GetString(1));
        Assert.Equal(ourPort, reader.GetInt32(2));
        // Loopback only, and a throwaway cluster that does not sync to disk.
        Assert.Equal("127.0.0.1/32", reader.GetString(3));
        Assert.Equal("off", reader.GetString(4));
    }

    [Fact]
    public async Task PostgresServer_Disposed_LeavesNoProcessAndNoFolder()
    {
        var ours = new PostgresServer { LocalOnly = true };
        await ours.StartAsync();
        Assert.Equal(ServerSource.Local, ours.Source);

        var root = Path.GetDirectoryName(ours.DataDirectory)!;
        var marker = Path.GetFileName(root); // in the postmaster's -D and, as cluster_name, in every backend's title
        var processes = FixtureProcesses.Matching(marker);
        Assert.Contains(processes, p => p.Command == "postgres");

        await ours.DisposeAsync();

        FixtureProcesses.AssertAllGone(processes, marker);
        Assert.False(Directory.Exists(root), $"{root} was not deleted.");
    }

    [Fact]
    public async Task RabbitMqServer_PreferredPortHeldByForeignBroker_StartsItsOwnNodeOnAnotherPort()
    {
        var foreignPort = rabbit.AmqpUri.Port;
        await using var ours = new RabbitMqServer { PreferredPort = foreignPort, LocalOnly = true };
        await ours.StartAsync();
        Assert.Equal(ServerSource.Local, ours.Source);

        Assert.NotEqual(foreignPort, ours.AmqpUri.Port);
        await using var connection = await ours.ConnectAsync();
        Assert.Equal(ours.NodeName, ClusterName(connection));
    }

    [Fact]
    public async Task RabbitMqServer_PortTakenWhileStopped_RestartFailsLoudlyAndDisposeLeavesNothing()
    {
        var ours = new RabbitMqServer { LocalOnly = true };
        try
        {
            await ours.StartAsync();
            Assert.Equal(ServerSource.Local, ours.Source);

            // Everything the node started carries its folder: beam's arguments, and HOME in every environment
            // (the private epmd included).
            var root = ours.NodeDirectory!;
            var processes = FixtureProcesses.Matching(root);
            Assert.Contains(processes, p => p.Command == "beam.smp");
            Assert.Contains(processes, p => p.Command == "epmd");
            Assert.DoesNotContain(processes, p => p.Command == "epmd" && p.Arguments.Contains("-daemon"));

            var address = ours.AmqpUri;
            await ours.StopAsync();
            FixtureProcesses.AssertAllGone(processes, root);

            using (var foreign = new TcpListener(IPAddress.Loopback, address.Port))
            {
                foreign.Start();
                var error = await Assert.ThrowsAsync<InvalidOperationException>(() => ours.StartAsync());
                Assert.Contains($"127.0.0.1:{address.Port}", error.Message, StringComparison.Ordinal);
                Assert.Contains("another process", error.Message, StringComparison.Ordinal);
                Assert.False(ours.IsRunning);
                Assert.Empty(FixtureProcesses.Matching(root));
            }

            // Once the foreign listener is gone the broker comes back on its own address, as itself.
            await ours.StartAsync();
            Assert.Equal(address, ours.AmqpUri);
            await using (var connection = await ours.ConnectAsync())
            {
                Assert.Equal(ours.NodeName, ClusterName(connection));
            }

            processes = FixtureProcesses.Matching(root);
            Assert.Contains(processes, p => p.Command == "beam.smp");
            await ours.DisposeAsync();
            FixtureProcesses.AssertAllGone(processes, root);
            Assert.False(Directory.Exists(root), $"{root} was not deleted.");
        }
        finally
        {
            await ours.DisposeAsync();
        }
    }

    private static string? ClusterName(RabbitMQ.Client.IConnection connection) =>
        connection.ServerProperties is { } properties && properties.TryGetValue("cluster_name", out var value) && value is byte[] bytes
            ? System.Text.Encoding.UTF8.GetString(bytes)
            : null;

    /// <summary>Live processes found through /proc by a marker in their command line or environment.</summary>
    private static class FixtureProcesses
    {
        public sealed record Entry(int Pid, string Command, string Arguments);

        public static List<Entry> Matching(string marker)
        {
            var found = new List<Entry>();
            foreach (var directory in Directory.EnumerateDirectories("/proc"))
            {
                if (!int.TryParse(Path.GetFileName(directory), out var pid) || pid == Environment.ProcessId || !IsAlive(pid))
                {
                    continue;
                }

                var arguments = Read(Path.Combine(directory, "cmdline"));
                var environment = Read(Path.Combine(directory, "environ"));
                if (arguments.Contains(marker, StringComparison.Ordinal) || environment.Contains(marker, StringComparison.Ordinal))
                {
                    found.Add(new Entry(pid, Read(Path.Combine(directory, "comm")).Trim(), arguments));
                }
            }

            return found;
        }

        /// <summary>
        /// Every recorded PID is dead (a zombie counts as dead), nothing carries the marker any more, and no crash
        /// watchdog of those processes is left (its arguments end with the watched PID).
        /// </summary>
        public static void AssertAllGone(IReadOnlyList<Entry> processes, string marker)
        {
            var alive = processes.Where(p => IsAlive(p.Pid))
                .Concat(processes.SelectMany(p => Matching($"te-watchdog {p.Pid} ")))
                .ToList();
            Assert.True(alive.Count == 0, "Still running: " + string.Join("; ", alive.Select(p => $"{p.Pid} {p.Command} {p.Arguments}")));
            var left = Matching(marker);
            Assert.True(left.Count == 0, "Left behind: " + string.Join("; ", left.Select(p => $"{p.Pid} {p.Command} {p.Arguments}")));
        }

        private static bool IsAlive(int pid)
        {
            var stat = Read($"/proc/{pid}/stat");
            if (stat.Length == 0)
            {
                return false;
            }

            // pid (comm) S ...: the state follows the last ')'; Z and X are dead.
            var state = stat[(stat.LastIndexOf(')') + 2)..].FirstOrDefault();
            return state is not ('Z' or 'X');
        }

        private static string Read(string path)
        {
            try
            {
                return File.ReadAllText(path).Replace('\0', ' ');
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                return string.Empty;
            }
        }
    }
}
