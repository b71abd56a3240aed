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
    private PostgreSqlContainer? _container;
    private LocalProcess? _process;
    private string? _root;
    private string? _connectionString;

    /// <summary>Connection string of the maintenance database (<c>postgres</c>) of the running server.</summary>
    public string ConnectionString => _connectionString ?? throw new InvalidOperationException("The server is not started.");

    public ServerSource Source { get; private set; }

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
        if (!string.IsNullOrWhiteSpace(external))
        {
            Source = ServerSource.External;
            _connectionString = external;
        }
        else if (await DockerProbe.IsAvailableAsync().ConfigureAwait(false))
        {
            Source = ServerSource.Container;
            _container = new PostgreSqlBuilder("postgres:17-alpine")
                .WithCommand("-c", "fsync=off", "-c", "max_connections=300")
                .Build();
            await _container.StartAsync(cancellationToken).ConfigureAwait(false);
            _connectionString = _container.GetConnectionString();
        }
        else
        {
            Source = ServerSource.Local;
            _connectionString = await StartLocalAsync(cancellationToken).ConfigureAwait(false);
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

        _process?.Dispose();
        _process = null;
        if (_root is not null && Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }

        _root = null;
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

        _root = Path.Combine(Path.GetTempPath(), "te-pg-" + Guid.NewGuid().ToString("N")[..12]);
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

        Exception? last = null;
        for (var attempt = 0; attempt < 3; attempt++)
        {
            var port = FreePort.Next();
            _process = LocalProcess.Start(
                Path.Combine(bin, "postgres"),
                [
                    "-D", data, "-p", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-k", data,
                    "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "full_page_writes=off",
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
                await WaitUntilReadyAsync(connectionString, cancellationToken).ConfigureAwait(false);
                return connectionString;
            }
            catch (InvalidOperationException ex)
            {
                // Most likely another process took the port between choosing and binding it.
                last = ex;
                _process.Dispose();
                _process = null;
            }
        }

        throw new InvalidOperationException("The local PostgreSQL server did not start.", last);
    }

    private async Task WaitUntilReadyAsync(string connectionString, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            if (_process!.HasExited)
            {
                throw new InvalidOperationException("postgres exited: " + _process.OutputTail);
            }

            try
            {
                await using var connection = new NpgsqlConnection(connectionString);
                await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (NpgsqlException) when (deadline.Elapsed < TimeSpan.FromSeconds(30))
            {
                await Task.Delay(50, cancellationToken).ConfigureAwait(false);
            }
        }
    }
}
