using System.Globalization;
using System.Security.Cryptography;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace TradeEngine.AppHost.Infrastructure;

/// <summary>A PostgreSQL server run from the locally installed Debian binaries, as one database's connection string.</summary>
public sealed class LocalPostgresResource(string name, string command, string workingDirectory, int port, string database, string passwordFile)
    : ExecutableResource(name, command, workingDirectory), IResourceWithConnectionString
{
    public int Port { get; } = port;

    public string Database { get; } = database;

    // Read on demand so the password never sits in the app model's logs or manifest.
    public ReferenceExpression ConnectionStringExpression =>
        ReferenceExpression.Create(
            $"Host=127.0.0.1;Port={Port.ToString(CultureInfo.InvariantCulture)};Username=postgres;Password={File.ReadAllText(passwordFile).Trim()};Database={Database}");
}

public static class LocalPostgresExtensions
{
    /// <summary>
    /// Runs <c>postgres</c> from the Debian package (as user <c>postgres</c>; it refuses root) with a data directory in
    /// the AppHost's state folder, on a free loopback port, with a pg_isready health check. The cluster is created once
    /// (initdb with a random password, then the database) and kept between runs.
    /// </summary>
    public static IResourceBuilder<LocalPostgresResource> AddLocalPostgres(this IDistributedApplicationBuilder builder, string name)
    {
        var binDir = FindPostgresBin();
        var asPostgres = Environment.UserName == "root";
        var stateDir = LocalProcess.StateDirectory(builder.AppHostDirectory, "postgres", forOtherUser: asPostgres);
        var dataDir = Path.Combine(stateDir, "data");
        // The password stays with the AppHost's user, beside the server's folder rather than in it: the postgres user
        // owns that folder and could put a link where root would read or write.
        var passwordFile = Path.Combine(Path.GetDirectoryName(stateDir)!, "postgres.password");
        MoveEarlierPasswordFile(Path.Combine(stateDir, "password"), passwordFile);

        if (!File.Exists(Path.Combine(dataDir, "PG_VERSION")))
        {
            InitializeCluster(binDir, stateDir, dataDir, passwordFile, name, asPostgres);
        }

        var port = LocalProcess.FreePort();
        string[] serverArgs = [Path.Combine(binDir, "postgres"), "-D", dataDir, "-p", port.ToString(CultureInfo.InvariantCulture),
            "-k", stateDir, "-c", "listen_addresses=127.0.0.1"];
        var resource = asPostgres
            ? new LocalPostgresResource(name, "runuser", stateDir, port, name, passwordFile)
            : new LocalPostgresResource(name, serverArgs[0], stateDir, port, name, passwordFile);

        var healthKey = $"{name}-pg-isready";
        builder.Services.AddHealthChecks().Add(new HealthCheckRegistration(
            healthKey, _ => new PgIsReadyHealthCheck(Path.Combine(binDir, "pg_isready"), port, name), null, null));

        return builder.AddResource(resource)
            .WithArgs(asPostgres ? ["-u", "postgres", "--", .. serverArgs] : serverArgs[1..])
            .WithEndpoint(name: "tcp", port: port, targetPort: port, scheme: "tcp", isProxied: false)
            .WithHealthCheck(healthKey);
    }

    /// <summary>
    /// Creates the cluster and its database in a folder beside <paramref name="dataDir"/> and renames it into place only
    /// when both are done, so a first run cut short (Ctrl+C during initdb) leaves no half-made cluster that later runs
    /// would take as ready.
    /// </summary>
    private static void InitializeCluster(string binDir, string stateDir, string dataDir, string passwordFile, string database, bool asPostgres)
    {
        var building = dataDir + ".new";
        if (Directory.Exists(building))
        {
            Directory.Delete(building, recursive: true);
        }

        if (Directory.Exists(dataDir))
        {
            // A data folder without PG_VERSION is no cluster (initdb refuses a non-empty folder).
            Directory.Delete(dataDir, recursive: true);
        }

        CreateCluster(binDir, stateDir, building, passwordFile, database, asPostgres);
        Directory.Move(building, dataDir);
    }

    private static void CreateCluster(string binDir, string stateDir, string dataDir, string passwordFile, string database, bool asPostgres)
    {
        var password = Convert.ToHexString(RandomNumberGenerator.GetBytes(16));
        LocalProcess.WriteNewFile(passwordFile, password, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        if (asPostgres)
        {
            LocalProcess.Run("chown", ["-R", "postgres:postgres", stateDir]);
        }

        // initdb (as postgres) reads the password from a copy only it may read, made where only the AppHost's user writes.
        var initdbPassword = passwordFile + ".initdb";
        LocalProcess.WriteNewFile(initdbPassword, password, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        try
        {
            if (asPostgres)
            {
                LocalProcess.Run("chown", ["postgres:postgres", initdbPassword]);
            }

            Run(asPostgres, Path.Combine(binDir, "initdb"),
                ["-D", dataDir, "-U", "postgres", "--auth=scram-sha-256", $"--pwfile={initdbPassword}", "-E", "UTF8", "--no-locale"]);
        }
        finally
        {
            File.Delete(initdbPassword);
        }

        // Single-user mode creates the database without a running server or a network port.
        Run(asPostgres, Path.Combine(binDir, "postgres"), ["--single", "-D", dataDir, "postgres"], $"CREATE DATABASE {database};\n");
    }

    /// <summary>
    /// A cluster made before the password moved out of the server's folder: its password file is moved beside it, once.
    /// A link there is refused rather than followed.
    /// </summary>
    private static void MoveEarlierPasswordFile(string earlier, string passwordFile)
    {
        var old = new FileInfo(earlier);
        if (!old.Exists || File.Exists(passwordFile))
        {
            return;
        }

        if (old.LinkTarget is not null)
        {
            throw new InvalidOperationException($"{earlier} is a link; remove it (and the cluster beside it) to start afresh.");
        }

        LocalProcess.WriteNewFile(passwordFile, File.ReadAllText(earlier).Trim(), UnixFileMode.UserRead | UnixFileMode.UserWrite);
        old.Delete();
    }

    private static void Run(bool asPostgres, string command, string[] args, string? input = null)
    {
        if (asPostgres)
        {
            LocalProcess.Run("runuser", ["-u", "postgres", "--", command, .. args], input);
        }
        else
        {
            LocalProcess.Run(command, args, input);
        }
    }

    private static string FindPostgresBin()
    {
        const string root = "/usr/lib/postgresql";
        var bin = Directory.Exists(root)
            ? Directory.GetDirectories(root)
                .Select(d => Path.Combine(d, "bin"))
                .Where(d => File.Exists(Path.Combine(d, "postgres")))
                .OrderByDescending(d => int.TryParse(Path.GetFileName(Path.GetDirectoryName(d)), out var v) ? v : 0)
                .FirstOrDefault()
            : null;
        return bin ?? throw new InvalidOperationException(
            "No container runtime answers and PostgreSQL is not installed. Install the 'postgresql' package (./run.sh does) or start Docker.");
    }

    private sealed class PgIsReadyHealthCheck(string pgIsReady, int port, string database) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            try
            {
                using var process = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo(
                    pgIsReady, ["-h", "127.0.0.1", "-p", port.ToString(CultureInfo.InvariantCulture), "-d", database, "-t", "2"])
                {
                    RedirectStandardOutput = true,
                    UseShellExecute = false,
                });
                if (process is null)
                {
                    return HealthCheckResult.Unhealthy("pg_isready did not start");
                }

                await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
                return process.ExitCode == 0 ? HealthCheckResult.Healthy() : HealthCheckResult.Unhealthy($"pg_isready exit {process.ExitCode}");
            }
            catch (System.ComponentModel.Win32Exception ex)
            {
                return HealthCheckResult.Unhealthy("pg_isready failed", ex);
            }
        }
    }
}
