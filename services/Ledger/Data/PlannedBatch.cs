using Npgsql;

namespace TradeEngine.Ledger.Data;

/// <summary>
/// Statements run as one batch (one implicit transaction) behind a <c>set_config</c> that steers their plans, for the
/// transaction only (<c>set_config(..., true)</c>: nothing outlives it on the pooled connection). The batch's first
/// result set is set_config's row.
/// </summary>
public static class PlannedBatch
{
    // The outbox relay's statements are prepared (auto-prepare), and PostgreSQL caches a generic plan for each after five
    // runs. The outbox starts empty and grows by every write while autovacuum has not yet analyzed it (a minute or more on
    // a new database), so the plan cached then can be a sequential scan, and it stays cached as the table grows: each
    // read and mark then scanned every row ever written (bench/TradeEngine.ExecutionLoad saw 30 such scans a second
    // over 60,000 rows, a quarter of PostgreSQL's CPU). Planning each run anew does not help: without statistics a
    // mark of a few hundred ids is planned as a sequential scan too. Both statements have an index made for them
    // (outbox_pkey for the ids, outbox_unsent for the unsent rows in id order), so they plan without sequential scans.
    private const string IndexOnlySql = "SELECT set_config('enable_seqscan', 'off', true)";

    // As IndexOnlySql, and the statement's generic plan every time, for a read with one way in (an index made for it).
    // PostgreSQL otherwise plans a prepared statement anew on each call (a custom plan) while its generic plan looks
    // dearer than the custom ones so far: on a new database, before the table's first ANALYZE, a generic plan guesses
    // 0.5% of the rows for "client_order_id = $1" and grows with the table, and the custom plans made while it was empty
    // were cheap (bench/TradeEngine.ExecutionLoad: in 4 runs of 9, GetOrderTrades was planned on up to 57% of its calls).
    private const string GenericIndexOnlySql =
        "SELECT set_config('enable_seqscan', 'off', true), set_config('plan_cache_mode', 'force_generic_plan', true)";

    /// <summary>
    /// Statements planned without sequential scans (<see cref="IndexOnlySql"/>): the outbox relay's, and the retention
    /// cleanup's (OutboxBacklogMonitor).
    /// </summary>
    public static NpgsqlBatch IndexOnly(NpgsqlConnection connection, params NpgsqlBatchCommand[] commands) =>
        Planned(IndexOnlySql, connection, commands);

    /// <summary>
    /// A read with an index made for it, planned without sequential scans and with its generic plan every time
    /// (<see cref="GenericIndexOnlySql"/>): GetOrderTrades and GetPosition by its open key.
    /// </summary>
    public static NpgsqlBatch GenericIndexOnly(NpgsqlConnection connection, params NpgsqlBatchCommand[] commands) =>
        Planned(GenericIndexOnlySql, connection, commands);

    private static NpgsqlBatch Planned(string settings, NpgsqlConnection connection, NpgsqlBatchCommand[] commands)
    {
        var batch = new NpgsqlBatch(connection) { BatchCommands = { Sql.Batch(settings) } };
        foreach (var command in commands)
        {
            batch.BatchCommands.Add(command);
        }

        return batch;
    }
}
