using TradeEngine.Ledger.Mapping;
using Microsoft.Extensions.Options;
using Npgsql;
using TradeEngine.Ledger.Data;
using TradeEngine.Ledger.Idempotency;
using TradeEngine.Ledger.Transfers;
using TradeEngine.Ledger.V1;
using TradeEngine.ServiceDefaults.Grpc;
using static TradeEngine.Ledger.Mapping.LedgerWire;

namespace TradeEngine.Ledger.Pnl;

/// <summary>
/// PnL snapshots and what is read from them (peak equity, the equity curve), and the daily PnL summed from the
/// position journal (realized, fees) and funding events. Trades are the fill log and are not summed again.
/// </summary>
public sealed class PnlStore(
    NpgsqlDataSource dataSource, IdempotentWriter writer, TimeProvider time, RecordedTimes times, IOptions<TransferOptions> transfers)
{
    /// <summary>
    /// A snapshot that is not guarded: no transfer less than $1 from it (<see cref="TransferOptions.SnapshotGuardSeconds"/>;
    /// a zero interval is empty, so 0 guards nothing). For day starts and peaks, chosen from snapshots aliased <c>s</c>.
    /// </summary>
    private const string Unguarded =
        "NOT EXISTS (SELECT 1 FROM transfers t WHERE t.transferred_at > s.taken_at - $1 AND t.transferred_at < s.taken_at + $1)";

    private readonly TimeSpan _guard = TimeSpan.FromSeconds(transfers.Value.SnapshotGuardSeconds);

    public const int DefaultCurvePoints = 500;
    public const int MaxCurvePoints = 5000;

    /// <summary>
    /// The longest range a curve covers: a year (a leap year's 366 days). The curve ranks every snapshot of its range, and
    /// Risk's margin monitor writes one every 5 s by default (about 17,000 a day), so an unbounded range (2000 to 2200)
    /// sorted the whole table in one call. No caller asks for more than a year; longer is asked for a year at a time.
    /// </summary>
    public static readonly TimeSpan MaxCurveRange = TimeSpan.FromDays(366);

    public Task<LogPnlSnapshotResponse> LogSnapshotAsync(LogPnlSnapshotRequest r, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(r);
        var key = Key(r.IdempotencyKey, "idempotency_key");
        var balance = Money(r.Balance, "balance");
        var unrealized = Money(r.UnrealizedPnl, "unrealized_pnl");
        var realized = Money(r.RealizedPnl, "realized_pnl");
        var total = Money(r.TotalPnl, "total_pnl");
        var equity = Money(r.Equity, "equity");
        var marginRatio = string.IsNullOrEmpty(r.MarginRatio) ? (decimal?)null : NonNegative(r.MarginRatio, "margin_ratio");
        if (r.OpenPositions < 0)
        {
            throw new RequestValidationException("open_positions", "must not be negative");
        }

        var takenAt = times.OrNow(r.TakenAt, "taken_at");
        var snapshotId = Guid.CreateVersion7(takenAt);
        var call = new IdempotencyContext<LogPnlSnapshotResponse>(
            "LogPnlSnapshot", key, "idempotency_key", r, LogPnlSnapshotResponse.Parser, x => x.Replayed = true);
        return writer.ExecuteBatchAsync(call, new LogPnlSnapshotResponse { SnapshotId = snapshotId.ToString() },
        [
            // Shared: snapshots do not wait for each other, but a transfer being booked (exclusive, TransferStore.LockKey)
            // has committed before the sum below is read, or waits until this snapshot has (and then moves it itself).
            // The batch is one implicit transaction, so the lock is held until it commits; each statement of it reads
            // the data committed when it starts (READ COMMITTED), so the INSERT, after the lock, sees every transfer.
            Sql.Batch("SELECT pg_advisory_xact_lock_shared($1)", TransferStore.LockKey),
            Sql.Batch(
                "INSERT INTO pnl_snapshots (snapshot_id, balance, unrealized_pnl, realized_pnl, total_pnl, equity, margin_ratio, " +
                "open_positions, taken_at, transfers_before) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, " +
                "(SELECT COALESCE(SUM(amount), 0) FROM transfers WHERE transferred_at <= $9))",
                snapshotId, balance, unrealized, realized, total, equity, marginRatio, r.OpenPositions, takenAt),
        ], cancellationToken);
    }

    public async Task<GetDailyPnlResponse> DailyAsync(GetDailyPnlRequest r, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(r);
        var instant = (Wire.OptionalInstant(r.Day, "day") ?? time.GetUtcNow()).UtcDateTime;
        var dayStart = new DateTimeOffset(instant.Date, TimeSpan.Zero);
        var dayEnd = dayStart.AddDays(1);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = Sql.Command(
            $"""
            SELECT
                day.realized_pnl,
                day.fees,
                (SELECT COALESCE(SUM(payment), 0) FROM funding_events WHERE funding_time >= $2 AND funding_time < $3),
                start.equity,
                start.taken_at,
                -- Transfers are not PnL: the net of those booked after the day-start snapshot (to now, not only the
                -- day's) puts its equity in today's money. NULL (empty) when there is no such snapshot.
                CASE WHEN start.taken_at IS NOT NULL
                     THEN (SELECT COALESCE(SUM(amount), 0) FROM transfers WHERE transferred_at > start.taken_at) END
            -- The day's journal is read once for both sums (one row: an aggregate without GROUP BY). Each read is every
            -- change of the day, so its cost grows through the day; Risk asks every few seconds.
            FROM (SELECT COALESCE(SUM(realized_pnl), 0) AS realized_pnl, COALESCE(SUM(fee), 0) AS fees
                  FROM position_changes WHERE occurred_at >= $2 AND occurred_at < $3) AS day
            LEFT JOIN LATERAL (
                -- The last snapshot at or before midnight, unless it is more than a day old: then the day's first.
                -- '24 hours', not '1 day': on a timestamptz a day follows the session's time zone (23 or 25 hours
                -- across a daylight-saving change); 24 hours does not. A snapshot near a transfer may sit on the wrong
                -- side of it (the guard, $1): it is passed over, and the next by the same rule taken.
                SELECT equity, taken_at FROM (
                    (SELECT equity, taken_at, 0 AS preference FROM pnl_snapshots s
                     WHERE taken_at <= $2 AND taken_at >= $2 - interval '24 hours' AND {Unguarded}
                     ORDER BY taken_at DESC LIMIT 1)
                    UNION ALL
                    (SELECT equity, taken_at, 1 AS preference FROM pnl_snapshots s
                     WHERE taken_at > $2 AND taken_at < $3 AND {Unguarded} ORDER BY taken_at LIMIT 1)
                    UNION ALL
                    -- Only when every candidate is near a transfer, the same rule without the guard (as for the peak).
                    (SELECT equity, taken_at, 2 AS preference FROM pnl_snapshots s
                     WHERE taken_at <= $2 AND taken_at >= $2 - interval '24 hours' ORDER BY taken_at DESC LIMIT 1)
                    UNION ALL
                    (SELECT equity, taken_at, 3 AS preference FROM pnl_snapshots s
                     WHERE taken_at > $2 AND taken_at < $3 ORDER BY taken_at LIMIT 1)
                ) AS candidates
                ORDER BY preference LIMIT 1
            ) AS start ON true
            """, connection, null, _guard, dayStart, dayEnd);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var realized = reader.GetDecimal(0);
            var fees = reader.GetDecimal(1);
            var funding = reader.GetDecimal(2);
            return new GetDailyPnlResponse
            {
                DayStart = Timestamp(dayStart),
                RealizedPnl = Format(realized),
                Fees = Format(fees),
                Funding = Format(funding),
                NetPnl = Format(realized - funding - fees),
                DayStartEquity = Format(reader.NullableDecimal(3)),
                DayStartEquityAt = reader.IsDBNull(4) ? null : Timestamp(reader.Instant(4)),
                TransfersSinceDayStart = Format(reader.NullableDecimal(5)),
            };
        }
        catch (Exception ex) when (ex is OverflowException or InvalidCastException)
        {
            // Sums of in-range amounts past what decimal holds: the day's totals, not the request, are out of range.
            throw TotalOutOfRange("net_pnl");
        }
    }

    /// <summary>
    /// The peak in today's money: the snapshot whose equity plus the net of the transfers booked after it is the highest
    /// (the earliest of equals). That net is the total of every transfer less the snapshot's transfers_before, so the
    /// order is that of equity - transfers_before, read from its index (pnl_snapshots_by_equity_less_transfers) in one
    /// step. A deposit then no longer makes a new peak, nor a withdrawal a drawdown. A snapshot near a transfer (the guard,
    /// <see cref="TransferOptions.SnapshotGuardSeconds"/>) may sit on the wrong side of it and rank the transfer's whole
    /// amount too high: it is passed over, the index read on in rank order to the first unguarded one (transfers are few,
    /// so that is a step or two). One statement: the total, the count and the peak are read from one snapshot of the data.
    /// </summary>
    public async Task<GetPeakEquityResponse> PeakAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = Sql.Command(
            $"""
            SELECT peak.equity, peak.taken_at, total.amount - peak.transfers_before, total.amount, total.booked
            FROM (SELECT COALESCE(SUM(amount), 0) AS amount, count(*) AS booked FROM transfers) AS total
            LEFT JOIN LATERAL (
                -- Only when every snapshot is near a transfer (a fresh account in the seconds after its first deposit)
                -- the guarded ones answer: no peak at all made Risk refuse every check until one was farther away.
                SELECT equity, taken_at, transfers_before FROM (
                    (SELECT equity, taken_at, transfers_before, 0 AS preference FROM pnl_snapshots s
                     WHERE {Unguarded} ORDER BY (equity - transfers_before) DESC, taken_at LIMIT 1)
                    UNION ALL
                    (SELECT equity, taken_at, transfers_before, 1 AS preference FROM pnl_snapshots s
                     ORDER BY (equity - transfers_before) DESC, taken_at LIMIT 1)
                ) AS candidates
                ORDER BY preference LIMIT 1
            ) AS peak ON true
            """, connection, null, _guard);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return new GetPeakEquityResponse
            {
                PeakEquity = Format(reader.NullableDecimal(0)),
                At = reader.IsDBNull(1) ? null : Timestamp(reader.Instant(1)),
                TransfersSincePeak = Format(reader.NullableDecimal(2)),
                TransfersTotal = Format(reader.GetDecimal(3)),
                TransfersBooked = reader.GetInt64(4),
            };
        }
        catch (Exception ex) when (ex is OverflowException or InvalidCastException)
        {
            // The net of in-range transfers past what decimal holds.
            throw TotalOutOfRange("transfers_total");
        }
    }

    /// <summary>
    /// Snapshots in the range: every one while they are at most <c>max_points</c>. Past that, the snapshots are cut in
    /// time order into max_points / 4 buckets of equal count, and each bucket keeps its first and last snapshot and its
    /// lowest and highest equity (the earliest of equal ones); with max_points 2 or 3, one bucket keeps its lowest and
    /// highest. So the curve always holds the range's peak and trough (a drawdown never vanishes from it, and its peak is
    /// the one <c>GetPeakEquity</c> reports when the range holds it), and snapshots bunched in part of the range are not
    /// folded into a few points.
    /// </summary>
    /// <remarks>
    /// Before: max_points equal time buckets, the last snapshot of each. A spike inside a bucket was dropped, and one
    /// snapshot over max_points bunched in a few minutes of a day's range came back as one or two points.
    /// </remarks>
    public async Task<GetEquityCurveResponse> CurveAsync(GetEquityCurveRequest r, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(r);
        var (start, end) = Range(r.Range);
        if (end - start > MaxCurveRange)
        {
            throw new RequestValidationException("range.end", $"must be at most {MaxCurveRange.TotalDays:0} days after range.start");
        }

        var maxPoints = r.MaxPoints == 0 ? DefaultCurvePoints : r.MaxPoints;
        if (maxPoints is < 2 or > MaxCurvePoints)
        {
            throw new RequestValidationException("max_points", $"must be between 2 and {MaxCurvePoints} (0 means {DefaultCurvePoints})");
        }

        var buckets = Math.Max(1, maxPoints / 4);
        var withEdges = maxPoints >= 4;
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = Sql.Command(
            """
            SELECT taken_at, equity, balance, unrealized_pnl FROM (
                SELECT *,
                       row_number() OVER (PARTITION BY bucket ORDER BY taken_at, snapshot_id) AS first_rank,
                       row_number() OVER (PARTITION BY bucket ORDER BY taken_at DESC, snapshot_id DESC) AS last_rank,
                       row_number() OVER (PARTITION BY bucket ORDER BY equity, taken_at, snapshot_id) AS low_rank,
                       row_number() OVER (PARTITION BY bucket ORDER BY equity DESC, taken_at, snapshot_id) AS high_rank
                FROM (
                    SELECT *, count(*) OVER () AS total, ntile($3) OVER (ORDER BY taken_at, snapshot_id) AS bucket
                    FROM pnl_snapshots WHERE taken_at >= $1 AND taken_at < $2) s) b
            WHERE total <= $4 OR low_rank = 1 OR high_rank = 1 OR ($5 AND (first_rank = 1 OR last_rank = 1))
            ORDER BY taken_at, snapshot_id
            """, connection, null, start, end, buckets, (long)maxPoints, withEdges);
        var response = new GetEquityCurveResponse();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            response.Points.Add(new EquityPoint
            {
                At = Timestamp(reader.Instant(0)),
                Equity = Format(reader.GetDecimal(1)),
                Balance = Format(reader.GetDecimal(2)),
                UnrealizedPnl = Format(reader.GetDecimal(3)),
            });
        }

        return response;
    }
}
