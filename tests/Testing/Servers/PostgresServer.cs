using System.Diagnostics;
using Npgsql;
using Testcontainers.PostgreSql;
using Xunit;

namespace TradeEngine.Testing.Servers;

/// <summary>
/// A throwaway PostgreSQL server for integration tests. In order of preference: the server named by
/// <c>TEST_POSTGRES</c> (a connection string), a Testcontainers container when Docker answers, or a local server
/// from the Debian package (<c>initdb</c> + <c>postgres</c> as user postgres, 127.0.0.1 on a free port, fsync off,
/// data under a temporary folder). If none can be started, <see cref="StartAsync"/> throws: the suite fails, never skips.
/// </summary>
/// <remarks>
/// Use it as an xunit collection fixture (<c>ICollectionFixture&lt;PostgresServer&gt;</c>) and give each test its own
/// database with <see cref="CreateDatabaseAsync"/>.
/// </remarks>
public sealed class PostgresServer : IAsyncLifetime, IAsyncDisposable
{
    public const string EnvironmentVariable = "TEST_POSTGRES";
    private const string PostgresUser = "postgres";
    private const string Password = "postgres";
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(30);
    private PostgreSqlContainer? _container;
    private LocalProcess? _process;

    /// <summary>
    /// The local server's process (the root of its process tree: the <c>runuser</c> that started it when run as another
    /// user), for tools that read its CPU; null for a container or an external server, or before it starts.
    /// </summary>
    public int? LocalProcessId => _process?.Id;
    private string? _root;
    private string? _connectionString;

    /// <summary>Connection string of the maintenance database (<c>postgres</c>) of the running server.</summary>
    public string ConnectionString => _connectionString ?? throw new InvalidOperationException("The server is not started.");

    public ServerSource Source { get; private set; }

    /// <summary>
    /// The port a local server tries first (for tests of this fixture); when another process holds it, a free one
    /// is chosen instead. Null (the default): a free port chosen by the kernel.
    /// </summary>
    public int? PreferredPort { get; init; }

    /// <summary>
    /// Always a local server from the Debian package, whatever TEST_POSTGRES or a Docker endpoint say: for the tests of the
    /// local server itself, which would otherwise have nothing of theirs to check where a container or an external
    /// server is used (they returned early, passing on a path that checked nothing).
    /// </summary>
    public bool LocalOnly { get; init; }

    /// <summary>The data directory of a local server (its unique name is also its <c>cluster_name</c>); null otherwise.</summary>
    public string? DataDirectory => _root is null || _connectionString is null ? null : Path.Combine(_root, "data");

    /// <summary>How long the last start took (initdb included for a local server).</summary>
    public TimeSpan StartupTime { get; private set; }

    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        if (_connectionString is not null)
        {
            return;
        }

        var started = Stopwatch.StartNew();
        var external = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (!LocalOnly && !string.IsNullOrWhiteSpace(external))
        {
            Source = ServerSource.External;
            _connectionString = external;
        }
        else if (!LocalOnly && await DockerProbe.IsAvailableAsync().ConfigureAwait(false))
        {
            Source = ServerSource.Container;
            try
            {
                _container = new PostgreSqlBuilder("postgres:17-alpine")
                    .WithCommand("-c", "fsync=off", "-c", "max_connections=300")
                    .Build();
                await _container.StartAsync(cancellationToken).ConfigureAwait(false);
                _connectionString = _container.GetConnectionString();
            }
            catch (Exception ex)
            {
                await StopAsync().ConfigureAwait(false);
                throw new InvalidOperationException("The PostgreSQL test container did not start: " + ex.Message, ex);
            }
        }
        else
        {
            Source = ServerSource.Local;
            try
            {
                _connectionString = await StartLocalAsync(cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                // Nothing may outlive a failed start: no postgres process, no temporary folder.
                CleanUp();
                throw;
            }
        }

        StartupTime = started.Elapsed;
    }

    /// <summary>Creates an empty database and returns its connection string (each test gets its own).</summary>
    public async Task<string> CreateDatabaseAsync(string? name = null, CancellationToken cancellationToken = default)
    {
        name ??= "t_" + Guid.NewGuid().ToString("N");
        if (!name.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '_'))
        {
            // CREATE DATABASE cannot take a parameter, so the name is restricted to characters that need no quoting.
            throw new ArgumentException("Database names are lower-case letters, digits and underscores.", nameof(name));
        }

        await using (var connection = new NpgsqlConnection(ConnectionString))
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            await using var command = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        return new NpgsqlConnectionStringBuilder(ConnectionString) { Database = name }.ConnectionString;
    }

    /// <summary>Stops the server and deletes its data (a container or local server; an external one is left alone).</summary>
    public async Task StopAsync()
    {
        NpgsqlConnection.ClearAllPools();
        if (_container is not null)
        {
            await _container.DisposeAsync().ConfigureAwait(false);
            _container = null;
        }

        CleanUp();
        _connectionString = null;
    }

    Task IAsyncLifetime.InitializeAsync() => StartAsync();

    Task IAsyncLifetime.DisposeAsync() => StopAsync();

    public async ValueTask DisposeAsync() => await StopAsync().ConfigureAwait(false);

    /// <summary>The newest installed PostgreSQL's bin directory (/usr/lib/postgresql/&lt;version&gt;/bin).</summary>
    public static string? FindLocalBinDirectory()
    {
        const string root = "/usr/lib/postgresql";
        if (!Directory.Exists(root))
        {
            return null;
        }

        return Directory.GetDirectories(root)
            .Select(d => (Dir: d, Version: int.TryParse(Path.GetFileName(d), out var v) ? v : -1))
            .Where(x => x.Version > 0 && File.Exists(Path.Combine(x.Dir, "bin", "initdb")))
            .OrderByDescending(x => x.Version)
            .Select(x => Path.Combine(x.Dir, "bin"))
            .FirstOrDefault();
    }

    private async Task<string> StartLocalAsync(CancellationToken cancellationToken)
    {
        var bin = FindLocalBinDirectory()
            ?? throw new InvalidOperationException(
                "No PostgreSQL for the tests: no Docker endpoint answered, TEST_POSTGRES is not set, and no local " +
                "server is installed under /usr/lib/postgresql (apt-get install postgresql).");

        var name = "te-pg-" + Guid.NewGuid().ToString("N")[..12];
        _root = Path.Combine(Path.GetTempPath(), name);
        var data = Path.Combine(_root, "data");
        Directory.CreateDirectory(_root);
        if (LocalProcess.IsRoot)
        {
            // PostgreSQL refuses to run as root: the folder belongs to postgres.
            await LocalProcess.RunAsync("chown", [$"{PostgresUser}:{PostgresUser}", _root]).ConfigureAwait(false);
        }

        await LocalProcess.RunAsync(
            Path.Combine(bin, "initdb"),
            ["-D", data, "-U", PostgresUser, "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions"],
            PostgresUser).ConfigureAwait(false);

        var failures = new List<Exception>();
        for (var attempt = 0; attempt < 5; attempt++)
        {
            var port = attempt == 0 && PreferredPort is { } preferred ? preferred : FreePort.Next();
            var portText = port.ToString(System.Globalization.CultureInfo.InvariantCulture);

            // cluster_name is this server's identity: it is checked over TCP (a foreign server on the port has another)
            // and appears in every backend's process title.
            _process = LocalProcess.Start(
                Path.Combine(bin, "postgres"),
                [
                    "-D", data, "-p", portText, "-k", data,
                    "-c", "listen_addresses=127.0.0.1", "-c", "cluster_name=" + name,
                    "-c", "fsync=off", "-c", "full_page_writes=off",
                    "-c", "max_connections=300", "-c", "shared_buffers=64MB",
                ],
                PostgresUser);
            var connectionString = new NpgsqlConnectionStringBuilder
            {
                Host = "127.0.0.1",
                Port = port,
                Username = PostgresUser,
                Password = Password,
                Database = "postgres",
                Timeout = 5,
            }.ConnectionString;
            try
            {
                await WaitUntilReadyAsync(data, port, cancellationToken).ConfigureAwait(false);
                await VerifyIdentityAsync(connectionString, name, cancellationToken).ConfigureAwait(false);
                return connectionString;
            }
            catch (PortTakenException ex)
            {
                // Another process took the port between choosing and binding it: try another one.
                failures.Add(ex);
                _process.Dispose();
                _process = null;
            }
        }

        throw new InvalidOperationException(
            "The local PostgreSQL server did not start: every port tried was taken by another process.",
            new AggregateException(failures));
    }

    /// <summary>
    /// Waits until OUR postmaster accepts connections on its own Unix socket (in our data directory, so no other
    /// server can answer there). The postmaster opens its TCP socket before its Unix socket and exits when it cannot
    /// bind the TCP port, so "exited" or "no Unix socket while something answers on the port" means the port was taken.
    /// </summary>
    private async Task WaitUntilReadyAsync(string socketDirectory, int port, CancellationToken cancellationToken)
    {
        var local = new NpgsqlConnectionStringBuilder
        {
            Host = socketDirectory,
            Port = port,
            Username = PostgresUser,
            Database = "postgres",
            Timeout = 5,
            Pooling = false,
        }.ConnectionString;
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            if (_process!.HasExited)
            {
                var tail = await _process.OutputTailAfterExitAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(false);
                if (tail.Contains("could not bind", StringComparison.Ordinal) ||
                    tail.Contains("could not create any TCP/IP sockets", StringComparison.Ordinal) ||
                    tail.Contains("already in use", StringComparison.Ordinal))
                {
                    throw new PortTakenException($"Port {port} is taken by another process: {tail}");
                }

                throw new InvalidOperationException("postgres exited before accepting connections: " + tail);
            }

            try
            {
                await using var connection = new NpgsqlConnection(local);
                await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (Exception ex) when (ex is NpgsqlException or System.Net.Sockets.SocketException)
            {
                if (deadline.Elapsed > ReadyTimeout)
                {
                    throw new InvalidOperationException(
                        $"The local PostgreSQL server did not accept connections within {ReadyTimeout.TotalSeconds:0} s. " +
                        _process.OutputTail, ex);
                }

                await Task.Delay(25, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>The server answering on 127.0.0.1:port must be the one we started (its cluster_name).</summary>
    private static async Task VerifyIdentityAsync(string connectionString, string name, CancellationToken cancellationToken)
    {
        string? actual;
        try
        {
            var probe = new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false }.ConnectionString;
            await using var connection = new NpgsqlConnection(probe);
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            await using var command = new NpgsqlCommand("SELECT current_setting('cluster_name')", connection);
            actual = (string?)await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is NpgsqlException or System.Net.Sockets.SocketException)
        {
            throw new PortTakenException($"Our server is up, but 127.0.0.1 does not answer as it: {ex.Message}", ex);
        }

        if (actual != name)
        {
            throw new PortTakenException($"A foreign PostgreSQL server (cluster_name '{actual}', expected '{name}') answers on our port.");
        }
    }

    private void CleanUp()
    {
        _process?.Dispose();
        _process = null;
        if (_root is not null && Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }

        _root = null;
    }

    private sealed class PortTakenException(string message, Exception? inner = null) : Exception(message, inner);
}
