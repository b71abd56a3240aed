using Npgsql;

namespace TradeEngine.Ledger.Data;

/// <summary>
/// Applies the embedded migrations at start-up, each in its own transaction, under a PostgreSQL advisory lock so
/// Ledger instances starting together apply each migration once. A migration already applied whose text changed
/// stops the start: released migrations are never edited.
/// </summary>
public sealed partial class MigrationRunner(NpgsqlDataSource dataSource, ILogger<MigrationRunner> logger)
{
    // Any constant unique to this purpose; pg_advisory_lock takes a bigint.
    private const long LockKey = 0x4C65646765724D69; // "LedgerMi"

    /// <summary>Versions this runner applied (empty when the database was already current).</summary>
    public IReadOnlyList<int> Applied { get; private set; } = [];

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var migrations = Migration.LoadEmbedded();
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await ExecuteAsync(connection, "SELECT pg_advisory_lock(@key)", cancellationToken, ("key", LockKey)).ConfigureAwait(false);
            try
            {
                await ExecuteAsync(connection, """
                    CREATE TABLE IF NOT EXISTS schema_migrations (
                        version     integer      PRIMARY KEY,
                        name        varchar(128) NOT NULL,
                        checksum    char(64)     NOT NULL,
                        applied_at  timestamptz  NOT NULL DEFAULT now()
                    )
                    """, cancellationToken).ConfigureAwait(false);

                var applied = await ReadAppliedAsync(connection, cancellationToken).ConfigureAwait(false);
                var appliedNow = new List<int>();
                foreach (var migration in migrations)
                {
                    if (applied.TryGetValue(migration.Version, out var checksum))
                    {
                        if (checksum != migration.Checksum)
                        {
                            throw new InvalidOperationException(
                                $"Migration V{migration.Version} ({migration.Name}) changed after it was applied; add a new migration instead.");
                        }

                        continue;
                    }

                    await ApplyAsync(connection, migration, cancellationToken).ConfigureAwait(false);
                    appliedNow.Add(migration.Version);
                    LogApplied(logger, migration.Version, migration.Name);
                }

                Applied = appliedNow;
                LogCurrent(logger, migrations.Count == 0 ? 0 : migrations[^1].Version, appliedNow.Count);
            }
            finally
            {
                await ExecuteAsync(connection, "SELECT pg_advisory_unlock(@key)", CancellationToken.None, ("key", LockKey)).ConfigureAwait(false);
            }
        }
        finally
        {
            // Pooled connections go back without a session reset (LedgerServiceCollectionExtensions): whatever happened
            // (a failed unlock, a cancellation just as the lock was granted), this session must end rather than keep
            // the lock in the pool. Clearing the pool closes it when it is returned.
            dataSource.Clear();
        }
    }

    private static async Task ApplyAsync(NpgsqlConnection connection, Migration migration, CancellationToken cancellationToken)
    {
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using (var command = new NpgsqlCommand(migration.Sql, connection, transaction))
        {
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await using (var record = new NpgsqlCommand(
            "INSERT INTO schema_migrations (version, name, checksum) VALUES (@version, @name, @checksum)", connection, transaction))
        {
            record.Parameters.AddWithValue("version", migration.Version);
            record.Parameters.AddWithValue("name", migration.Name);
            record.Parameters.AddWithValue("checksum", migration.Checksum);
            await record.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    private static async Task<Dictionary<int, string>> ReadAppliedAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        var applied = new Dictionary<int, string>();
        await using var command = new NpgsqlCommand("SELECT version, checksum FROM schema_migrations", connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            applied[reader.GetInt32(0)] = reader.GetString(1);
        }

        return applied;
    }

    private static async Task ExecuteAsync(
        NpgsqlConnection connection, string sql, CancellationToken cancellationToken, params (string Name, object Value)[] parameters)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Applied migration V{Version} {Name}")]
    private static partial void LogApplied(ILogger logger, int version, string name);

    [LoggerMessage(Level = LogLevel.Information, Message = "Ledger schema at V{Version} ({AppliedCount} applied at this start)")]
    private static partial void LogCurrent(ILogger logger, int version, int appliedCount);
}
