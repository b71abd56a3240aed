using Grpc.Core;
using Npgsql;
using TradeEngine.Ledger.Data;
using TradeEngine.Ledger.V1;
using TradeEngine.ServiceDefaults.Grpc;
using TradeEngine.Ledger.Mapping;
using static TradeEngine.Ledger.Mapping.LedgerWire;

namespace TradeEngine.Ledger.Positions;

/// <summary>Reads of position records: one by id or by its open key, a filtered page, or every open one.</summary>
public sealed class PositionQueries(NpgsqlDataSource dataSource)
{
    // For the transaction only (set_config(..., true)): nothing outlives it on the pooled connection.
    private const string CustomPlanSql = "SELECT set_config('plan_cache_mode', 'force_custom_plan', true)";

    public async Task<PositionRecord> GetAsync(GetPositionRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        switch (request.KeyCase)
        {
            case GetPositionRequest.KeyOneofCase.PositionId:
                var id = Id(request.PositionId, "position_id");
                await using (var command = Sql.Command($"SELECT {PositionRow.Columns} FROM positions WHERE position_id = $1", connection, null, id))
                {
                    var rows = await ReadAsync(command, cancellationToken).ConfigureAwait(false);
                    return rows.Count > 0 ? rows[0].ToProto() : throw new RpcException(new Status(StatusCode.NotFound, $"Position {id} does not exist."));
                }

            case GetPositionRequest.KeyOneofCase.Open:
                var venue = Identifier(request.Open.Venue, "open.venue", 32);
                var symbol = Symbol(request.Open.Symbol, "open.symbol");
                var account = OptionalIdentifier(request.Open.Account, "open.account", 64);
                // Execution asks this before every close. Read through positions_open_by_market (V0011), planned without
                // sequential scans, with its generic plan (PlannedBatch.GenericIndexOnly): the generic plan a
                // connection caches while the table is a page or two is a sequential scan, and it was kept as the table
                // grew, reading every position on each call. Without a sequential scan and without that index, the plan
                // could walk positions_by_opened through every position ever opened instead. The account is typed text
                // even when null (see Sql.Text).
                await using (var batch = PlannedBatch.GenericIndexOnly(connection, Sql.Batch(
                                 $"SELECT {PositionRow.Columns} FROM positions WHERE venue = $1 AND symbol = $2 AND status = 'open' " +
                                 "AND ($3::text IS NULL OR account = $3) ORDER BY opened_at LIMIT 1", venue, symbol, Sql.Text(account))))
                {
                    await using var reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                    await reader.NextResultAsync(cancellationToken).ConfigureAwait(false); // past set_config's row
                    var rows = await ReadAsync(reader, cancellationToken).ConfigureAwait(false);
                    return rows.Count > 0 ? rows[0].ToProto() : throw new RpcException(new Status(StatusCode.NotFound, $"No open position on {venue} {symbol}."));
                }

            default:
                throw new RequestValidationException("key", "set position_id or open");
        }
    }

    /// <summary>
    /// The position's size at an instant: the sum over its journal (position_changes) of opens and adds less reduces,
    /// closes and liquidations that occurred before it. A change at the instant itself comes after it: the Domain's
    /// funding rule (FundingSchedule: a position held over (from, to] pays at every settlement t with from &lt; t ≤ to), so a
    /// settlement at the instant of a close pays on the size closed, and one at the instant of an open or add does not
    /// pay on what it added.
    /// </summary>
    public async Task<GetPositionSizeAtResponse> SizeAtAsync(GetPositionSizeAtRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var id = Id(request.PositionId, "position_id");
        var at = Wire.Instant(request.At, "at");
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = Sql.Command(
            "SELECT p.side, COALESCE(SUM(CASE WHEN c.kind IN ('open', 'add') THEN c.quantity ELSE -c.quantity END), 0) " +
            "FROM positions p LEFT JOIN position_changes c ON c.position_id = p.position_id AND c.occurred_at < $2 " +
            "WHERE p.position_id = $1 GROUP BY p.side",
            connection, null, id, at);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            throw new RpcException(new Status(StatusCode.NotFound, $"Position {id} does not exist."));
        }

        return new GetPositionSizeAtResponse
        {
            PositionId = id.ToString(),
            Side = reader.GetString(0) == "long" ? Common.V1.Side.Long : Common.V1.Side.Short,
            Quantity = Wire.Format(reader.GetDecimal(1)),
        };
    }

    public async Task<GetPositionsResponse> ListAsync(GetPositionsRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        // Filters take what the rows were written with (identifiers, upper-case symbols), as GetFundingHistory's do:
        // "btcusdt" or "binance " matched nothing and answered an empty list, as if no such position existed.
        var venue = OptionalIdentifier(request.Venue, "venue", 32);
        var symbol = OptionalSymbol(request.Symbol, "symbol");
        var status = request.Status == Common.V1.PositionStatus.Unspecified ? null
            : PositionRow.StatusFromProto(request.Status) ?? throw new RequestValidationException("status", "is not a known value");
        var closedSince = Wire.OptionalInstant(request.ClosedSince, "closed_since");
        var filter = Filter(venue, status, symbol, closedSince);
        var (size, after) = Page(request.Page, 'p', filter);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        // Planned for each call's values (CustomPlanSql): which filters are set, and how far back closed_since reaches,
        // decide whether positions_by_closed_at (V0007) or the walk down positions_by_opened is the way in. A generic
        // plan, which the statement gets once prepared, knows neither: "$6 IS NULL OR closed_at >= $6" cannot use an
        // index, so it read every position ever closed to find the few closed lately.
        await using var batch = new NpgsqlBatch(connection)
        {
            BatchCommands =
            {
                Sql.Batch(CustomPlanSql),
                Sql.Batch(
                    $"SELECT {PositionRow.Columns} FROM positions " +
                    "WHERE ($1::text IS NULL OR venue = $1) AND ($2::text IS NULL OR status = $2) AND ($3::text IS NULL OR symbol = $3) " +
                    "AND ($6::timestamptz IS NULL OR closed_at >= $6) " +
                    "AND ($5::timestamptz IS NULL OR (opened_at, position_id) < ($5, $7::uuid)) " +
                    "ORDER BY opened_at DESC, position_id DESC LIMIT $4",
                    venue, status, symbol, size + 1, after?.At, closedSince, after?.Id),
            },
        };
        await using var reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await reader.NextResultAsync(cancellationToken).ConfigureAwait(false); // past set_config's row
        var rows = await ReadAsync(reader, cancellationToken).ConfigureAwait(false);
        // A page of long texts ends early (Fit), and its token leads on from its last row.
        var records = rows.Select(r => r.ToProto()).ToList();
        var count = Fit(records, size);
        var response = new GetPositionsResponse
        {
            NextPageToken = count == 0 ? string.Empty : NextToken('p', PageCursor.Of(rows[count - 1].OpenedAt, rows[count - 1].PositionId), rows.Count > count, filter),
        };
        response.Positions.AddRange(records.Take(count));
        return response;
    }

    public async Task<GetPositionsResponse> ListOpenAsync(GetOpenPositionsRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var venue = OptionalIdentifier(request.Venue, "venue", 32);
        var account = OptionalIdentifier(request.Account, "account", 64);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = Sql.Command(
            $"SELECT {PositionRow.Columns} FROM positions WHERE status = 'open' AND ($1::text IS NULL OR venue = $1) " +
            "AND ($2::text IS NULL OR account = $2) ORDER BY opened_at, position_id", connection, null, venue, account);
        var response = new GetPositionsResponse();
        response.Positions.AddRange((await ReadAsync(command, cancellationToken).ConfigureAwait(false)).Select(r => r.ToProto()));
        return response;
    }

    private static async Task<List<PositionRow>> ReadAsync(NpgsqlCommand command, CancellationToken cancellationToken)
    {
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        return await ReadAsync(reader, cancellationToken).ConfigureAwait(false);
    }

    private static async Task<List<PositionRow>> ReadAsync(NpgsqlDataReader reader, CancellationToken cancellationToken)
    {
        var rows = new List<PositionRow>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            rows.Add(PositionRow.Read(reader));
        }

        return rows;
    }
}
