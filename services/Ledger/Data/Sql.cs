using Npgsql;
using NpgsqlTypes;

namespace TradeEngine.Ledger.Data;

/// <summary>
/// Parameterized SQL only: statements take their values as positional parameters ($1, $2, …). A value may be a ready
/// <see cref="NpgsqlParameter"/> (<see cref="Text"/>, <see cref="Numeric"/>, <see cref="Uuid"/>), which is passed as it is.
/// </summary>
public static class Sql
{
    public static NpgsqlBatchCommand Batch(string sql, params object?[] values)
    {
        var command = new NpgsqlBatchCommand(sql);
        foreach (var value in values)
        {
            command.Parameters.Add(Parameter(value));
        }

        return command;
    }

    public static NpgsqlCommand Command(string sql, NpgsqlConnection connection, NpgsqlTransaction? transaction, params object?[] values)
    {
        var command = new NpgsqlCommand(sql, connection, transaction);
        foreach (var value in values)
        {
            command.Parameters.Add(Parameter(value));
        }

        return command;
    }

    // A value that may be null, typed the same whether it is or not. Npgsql auto-prepares a statement with the parameter
    // types of the call that prepared it, and runs a later call whose types differ unprepared (parsed and planned again,
    // every time): an untyped null is not text. So a statement whose optional value was null on one call and set on the
    // next was prepared for one of the two and parsed anew for the other on every connection (the journal entry of an
    // open has no reason, a close's has: bench/TradeEngine.ExecutionLoad saw 46% of them parsed and planned on each call).
    public static NpgsqlParameter Text(string? value) => Typed(value, NpgsqlDbType.Text);

    public static NpgsqlParameter Numeric(decimal? value) => Typed(value, NpgsqlDbType.Numeric);

    public static NpgsqlParameter Uuid(Guid? value) => Typed(value, NpgsqlDbType.Uuid);

    public static decimal? NullableDecimal(this NpgsqlDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : reader.GetDecimal(ordinal);

    public static string? NullableString(this NpgsqlDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);

    public static DateTimeOffset Instant(this NpgsqlDataReader reader, int ordinal) =>
        new(DateTime.SpecifyKind(reader.GetDateTime(ordinal), DateTimeKind.Utc));

    public static DateTimeOffset? NullableInstant(this NpgsqlDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : reader.Instant(ordinal);

    private static NpgsqlParameter Typed(object? value, NpgsqlDbType type) =>
        new() { Value = value ?? DBNull.Value, NpgsqlDbType = type };

    private static NpgsqlParameter Parameter(object? value) =>
        value as NpgsqlParameter ?? new NpgsqlParameter { Value = Normalize(value) };

    // timestamptz takes UTC only; a null becomes SQL NULL.
    private static object Normalize(object? value) => value switch
    {
        null => DBNull.Value,
        DateTimeOffset instant => instant.UtcDateTime,
        _ => value,
    };
}
