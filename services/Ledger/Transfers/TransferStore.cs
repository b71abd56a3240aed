using Grpc.Core;
using Npgsql;
using TradeEngine.Ledger.Data;
using TradeEngine.Ledger.Idempotency;
using TradeEngine.Ledger.Mapping;
using TradeEngine.Ledger.V1;
using TradeEngine.ServiceDefaults.Grpc;
using static TradeEngine.Ledger.Mapping.LedgerWire;

namespace TradeEngine.Ledger.Transfers;

/// <summary>
/// Transfers into and out of the futures account (deposits positive, withdrawals negative): equity that moved without
/// being trading PnL. One per venue and transfer id (a unique constraint), whatever key it arrives with. Booking one
/// adds its amount to the <c>transfers_before</c> of every snapshot taken at or after it, so a snapshot always carries
/// the net of the transfers booked at or before its time, and day-start and peak equity can be told in today's money
/// (<see cref="Pnl.PnlStore"/>).
/// </summary>
public sealed class TransferStore(NpgsqlDataSource dataSource, IdempotentWriter writer, RecordedTimes times)
{
    /// <summary>
    /// The advisory lock (transaction-scoped) that orders transfers against snapshots: LogTransfer takes it exclusive,
    /// LogPnlSnapshot shared, before they read the transfers. Under READ COMMITTED a snapshot that summed the transfers
    /// while a transfer was being booked would miss it (not committed yet), and the transfer's UPDATE would miss the
    /// snapshot (not committed yet either): the snapshot's transfers_before would stay short of it for good. Snapshots
    /// still run side by side; only a transfer waits for them, and they for it. Distinct from the migration runner's
    /// ("LedgerMi") and the outbox leader's ("LedgerOu") keys.
    /// </summary>
    public const long LockKey = 0x4C65646765725472; // "LedgerTr"

    public const int VenueLength = 32;
    public const int TranIdLength = 64;
    public const int AssetLength = 16;

    private const string Columns = "transfer_id, venue, tran_id, asset, amount, transferred_at, recorded_at";

    public async Task<LogTransferResponse> LogAsync(LogTransferRequest r, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(r);
        var key = Key(r.IdempotencyKey, "idempotency_key");
        var venue = Identifier(r.Venue, "venue", VenueLength);
        var tranId = TranId(r.TranId, "tran_id");
        var asset = Asset(r.Asset, "asset");
        var amount = Money(r.Amount, "amount");
        if (amount == 0)
        {
            throw new RequestValidationException("amount", "must not be zero (positive into the account, negative out of it)");
        }

        var transferredAt = times.Required(r.TransferredAt, "transferred_at");
        var transferId = Guid.CreateVersion7(transferredAt);
        var call = new IdempotencyContext<LogTransferResponse>(
            "LogTransfer", key, "idempotency_key", r, LogTransferResponse.Parser, x => x.Replayed = true) { TotalsField = "amount" };
        return await writer.ExecuteAsync(call, async (connection, transaction, ct) =>
        {
            await using (var find = new NpgsqlBatch(connection, transaction)
                         {
                             BatchCommands =
                             {
                                 // Before the read: a transfer of this tran_id booked under another key has committed
                                 // by the time the lock is ours, and no snapshot is being written meanwhile.
                                 Sql.Batch("SELECT pg_advisory_xact_lock($1)", LockKey),
                                 Sql.Batch("SELECT transfer_id, asset, amount, transferred_at FROM transfers WHERE venue = $1 AND tran_id = $2", venue, tranId),
                             },
                         })
            await using (var reader = await find.ExecuteReaderAsync(ct).ConfigureAwait(false))
            {
                await reader.NextResultAsync(ct).ConfigureAwait(false);
                if (await reader.ReadAsync(ct).ConfigureAwait(false))
                {
                    // Booked before under another key: the same transfer is answered with its id (replayed), and this
                    // key is kept with that answer, so it stands for that transfer from now on (before, it was rolled
                    // back: the key answered OK for transfer A, then booked transfer B under it, two answers for one
                    // key). Another transfer under its tran_id is refused, and nothing is written.
                    var same = reader.GetString(1) == asset && reader.GetDecimal(2) == amount && reader.Instant(3) == transferredAt;
                    return same
                        ? new LogTransferResponse { TransferId = reader.GetGuid(0).ToString(), Replayed = true }
                        : throw new RpcException(new Status(StatusCode.AlreadyExists,
                            "tran_id: a transfer with this tran_id is already booked for this venue with another asset, amount or transferred_at; nothing was changed."));
                }
            }

            await using var write = new NpgsqlBatch(connection, transaction)
            {
                BatchCommands =
                {
                    Sql.Batch(
                        "INSERT INTO transfers (transfer_id, venue, tran_id, asset, amount, transferred_at) VALUES ($1, $2, $3, $4, $5, $6)",
                        transferId, venue, tranId, asset, amount, transferredAt),
                    // Every snapshot taken at or after it now has it before it (LogPnlSnapshot's rule: transferred_at <= taken_at).
                    Sql.Batch("UPDATE pnl_snapshots SET transfers_before = transfers_before + $1 WHERE taken_at >= $2", amount, transferredAt),
                },
            };
            await write.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            return new LogTransferResponse { TransferId = transferId.ToString() };
        }, cancellationToken).ConfigureAwait(false);
    }

    public async Task<GetTransfersResponse> ListAsync(GetTransfersRequest r, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(r);
        var venue = OptionalIdentifier(r.Venue, "venue", VenueLength);
        var (start, end) = Range(r.Range);
        var filter = Filter(venue, start, end);
        var (size, after) = Page(r.Page, 't', filter);
        const string Where = "WHERE ($1::text IS NULL OR venue = $1) AND transferred_at >= $2 AND transferred_at < $3";

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        // One transaction (REPEATABLE READ: one snapshot), so the page and the total describe the same transfers.
        await using var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, cancellationToken).ConfigureAwait(false);
        var response = new GetTransfersResponse();
        await using (var page = Sql.Command(
            $"SELECT {Columns} FROM transfers {Where} " +
            "AND ($5::timestamptz IS NULL OR (transferred_at, transfer_id) > ($5, $6::uuid)) " +
            "ORDER BY transferred_at, transfer_id LIMIT $4",
            connection, transaction, venue, start, end, size + 1, after?.At, after?.Id))
        await using (var reader = await page.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                response.Transfers.Add(Read(reader));
            }
        }

        var hasMore = TrimToPage(response.Transfers, size);

        response.NextPageToken = response.Transfers.Count == 0 ? string.Empty : NextToken('t',
            PageCursor.Of(response.Transfers[^1].TransferredAt.ToDateTimeOffset(), Guid.Parse(response.Transfers[^1].TransferId)), hasMore, filter);

        await using var total = Sql.Command($"SELECT COALESCE(SUM(amount), 0) FROM transfers {Where}", connection, transaction, venue, start, end);
        try
        {
            response.TotalAmount = Format((decimal)(await total.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!);
        }
        catch (Exception ex) when (ex is OverflowException or InvalidCastException)
        {
            // A sum of in-range amounts past what decimal holds.
            throw TotalOutOfRange("total_amount");
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return response;
    }

    /// <summary>The venue's transfer id: required, at most 64 characters of printable ASCII without spaces.</summary>
    private static string TranId(string? text, string field)
    {
        var id = Identifier(text, field, TranIdLength);
        return id.All(c => c is > ' ' and <= '~') ? id : throw new RequestValidationException(field, "must be printable ASCII");
    }

    /// <summary>An asset as venues list it ("USDT", "BTC"): upper-case letters and digits, at most 16.</summary>
    private static string Asset(string? text, string field)
    {
        var asset = Identifier(text, field, AssetLength);
        return asset.All(c => char.IsAsciiLetterUpper(c) || char.IsAsciiDigit(c)) ? asset
            : throw new RequestValidationException(field, "must be upper-case letters and digits (e.g. USDT)");
    }

    private static TransferRecord Read(NpgsqlDataReader reader) => new()
    {
        TransferId = reader.GetGuid(0).ToString(),
        Venue = reader.GetString(1),
        TranId = reader.GetString(2),
        Asset = reader.GetString(3),
        Amount = Format(reader.GetDecimal(4)),
        TransferredAt = Timestamp(reader.Instant(5)),
        RecordedAt = Timestamp(reader.Instant(6)),
    };

}
