using Npgsql;
using TradeEngine.Testing.Servers;

namespace TradeEngine.Ledger.Tests.Support;

/// <summary>
/// PostgreSQL caches a generic plan for a prepared statement once it judges it no worse than the custom ones. On a new
/// database under load that happens while the outbox is small and has no statistics, where a sequential scan is
/// cheapest, and the plan is kept however the table grows. A database made here uses generic plans from the first run,
/// so a statement that would keep such a plan shows it at once.
/// </summary>
public static class GenericPlans
{
    public static async Task<string> DatabaseAsync(PostgresServer postgres)
    {
        ArgumentNullException.ThrowIfNull(postgres);
        var database = await postgres.CreateDatabaseAsync();
        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET plan_cache_mode = force_generic_plan', current_database()); END $$", connection);
        await command.ExecuteNonQueryAsync();
        return database;
    }

    /// <summary>Scans of <paramref name="index"/> so far; 0 for an index that does not exist.</summary>
    public static Task<long> IndexScansAsync(LedgerHost ledger, string index)
    {
        ArgumentNullException.ThrowIfNull(ledger);
        return ledger.ScalarAsync<long>("SELECT COALESCE((SELECT idx_scan FROM pg_stat_user_indexes WHERE indexrelname = $1), 0)", index);
    }

    /// <summary>
    /// Waits until PostgreSQL has published at least <paramref name="atLeast"/> scans of <paramref name="index"/> (a backend
    /// publishes its statistics at most once a second, and holds them up to ten seconds while it keeps working) and
    /// returns the count; fails after 25 s naming <paramref name="what"/>. A count taken before the calls it should
    /// precede are all published would let them land in the window measured next.
    /// </summary>
    public static async Task<long> WaitForIndexScansAsync(LedgerHost ledger, string index, long atLeast, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(25);
        while (true)
        {
            var scans = await IndexScansAsync(ledger, index);
            if (scans >= atLeast)
            {
                return scans;
            }

            Xunit.Assert.True(DateTime.UtcNow < deadline, $"{what}: {scans} scans of {index} published, {atLeast} expected.");
            await Task.Delay(250);
        }
    }

    /// <summary>Rows of <paramref name="table"/> read so far, by sequential scans and through indexes.</summary>
    public static Task<long> RowsReadAsync(LedgerHost ledger, string table)
    {
        ArgumentNullException.ThrowIfNull(ledger);
        return ledger.ScalarAsync<long>(
            "SELECT COALESCE(seq_tup_read, 0) + COALESCE(idx_tup_fetch, 0) FROM pg_stat_user_tables WHERE relname = $1", table);
    }

    /// <summary>Scans of outbox_pkey so far (PostgreSQL publishes a backend's statistics within about ten seconds of its work).</summary>
    public static Task<long> OutboxPrimaryKeyScansAsync(LedgerHost ledger)
    {
        ArgumentNullException.ThrowIfNull(ledger);
        return ledger.ScalarAsync<long>("SELECT idx_scan FROM pg_stat_user_indexes WHERE indexrelname = 'outbox_pkey'");
    }
}
