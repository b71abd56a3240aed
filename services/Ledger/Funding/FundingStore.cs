using Grpc.Core;
using MassTransit;
using Npgsql;
using TradeEngine.Contracts.Events;
using TradeEngine.Domain;
using TradeEngine.Domain.Funding;
using TradeEngine.Ledger.Data;
using TradeEngine.Ledger.Positions;
using TradeEngine.Ledger.Idempotency;
using TradeEngine.Ledger.Outbox;
using TradeEngine.Ledger.V1;
using TradeEngine.ServiceDefaults.Grpc;
using TradeEngine.Ledger.Mapping;
using static TradeEngine.Ledger.Mapping.LedgerWire;

namespace TradeEngine.Ledger.Funding;

/// <summary>
/// Funding settlements: one per position and funding time (a unique constraint, so a settlement is never counted
/// twice, whatever key it arrives with), within the position's life (opened_at &lt; funding_time ≤ closed_at, or the
/// position still open; FAILED_PRECONDITION otherwise), at the size the position's journal holds then (INVALID_ARGUMENT
/// otherwise: the poster reads the size again). Posting adds the payment to the position's funding and
/// publishes <see cref="FundingPaid"/> in the position's event order. Payment is positive when we paid.
/// </summary>
public sealed class FundingStore(NpgsqlDataSource dataSource, IdempotentWriter writer, RecordedTimes times)
{
    private const string Columns =
        "funding_event_id, position_id, symbol, venue, funding_rate, position_size, mark_price, notional, payment, funding_time";

    public Task<LogFundingEventResponse> LogAsync(LogFundingEventRequest r, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(r);
        var key = Key(r.IdempotencyKey, "idempotency_key");
        var positionId = Id(r.PositionId, "position_id");
        var symbol = Symbol(r.Symbol, "symbol");
        var venue = Identifier(r.Venue, "venue", 32);
        var rate = Money(r.FundingRate, "funding_rate");
        if (rate <= -FundingRate.SanityBound || rate >= FundingRate.SanityBound)
        {
            throw new RequestValidationException("funding_rate", "must be greater than -1 and less than 1");
        }

        var size = Money(r.PositionSize, "position_size");
        var mark = Positive(r.MarkPrice, "mark_price");
        Notional(size, mark, "position_size");
        var notional = Bounded(Money(r.Notional, "notional"), "notional");
        var payment = Bounded(Money(r.Payment, "payment"), "payment");
        var fundingTime = times.Required(r.FundingTime, "funding_time");

        var fundingEventId = NewId.NextGuid();
        var eventId = NewId.NextGuid();
        var paid = new FundingPaid(eventId, fundingTime, fundingEventId, positionId, venue, symbol, rate, size, mark, payment, fundingTime);
        var call = new IdempotencyContext<LogFundingEventResponse>(
            "LogFundingEvent", key, "idempotency_key", r, LogFundingEventResponse.Parser, x => x.Replayed = true) { TotalsField = "funding" };
        return writer.ExecuteAsync(call, async (connection, transaction, ct) =>
        {
            // The position's row lock: it orders this FundingPaid among the position's other events (see OutboxWriter)
            // and holds opened_at and closed_at still while the settlement is checked against them.
            await using (var find = Sql.Command(
                "SELECT opened_at, closed_at, status, symbol, venue, side FROM positions WHERE position_id = $1 FOR UPDATE", connection, transaction, positionId))
            await using (var reader = await find.ExecuteReaderAsync(ct).ConfigureAwait(false))
            {
                if (!await reader.ReadAsync(ct).ConfigureAwait(false))
                {
                    throw new RpcException(new Status(StatusCode.NotFound, "position_id: no such position."));
                }

                CheckWithinLife(fundingTime, reader.Instant(0), reader.NullableInstant(1), reader.GetString(2));
                PositionStore.RequireSameMarket(reader.GetString(3), reader.GetString(4), symbol, venue);
                // Signed, long positive: a settlement of nothing, or of the other side, is not this position's.
                var sign = reader.GetString(5) == "long" ? 1 : -1;
                if (Math.Sign(size) != sign)
                {
                    throw new RequestValidationException("position_size",
                        $"must be {(sign > 0 ? "positive" : "negative")} for this {reader.GetString(5)} position (signed: long positive, short negative)");
                }

                CheckSettlement(size, mark, rate, notional, payment);
            }

            // The size is the position's own at that instant (its journal: changes before it, as GetPositionSizeAt
            // answers), read under the row lock that holds the journal still. Before, any size of the right sign was
            // booked: a posting of 2 for a position holding 1 charged twice the settlement, and a reduce dated before the
            // settlement that landed between the poster's read and its posting was charged on the size before it.
            await using (var held = Sql.Command(
                "SELECT COALESCE(SUM(CASE WHEN kind IN ('open', 'add') THEN quantity ELSE -quantity END), 0) " +
                "FROM position_changes WHERE position_id = $1 AND occurred_at < $2", connection, transaction, positionId, fundingTime))
            {
                var heldThen = (decimal)(await held.ExecuteScalarAsync(ct).ConfigureAwait(false))!;
                if (Math.Abs(size) != heldThen)
                {
                    throw new RequestValidationException("position_size",
                        $"must be the position's size at funding_time as its journal has it (the changes before that instant): {Format(Math.Sign(size) * heldThen)}");
                }
            }

            await using var batch = new NpgsqlBatch(connection, transaction)
            {
                BatchCommands =
                {
                    Sql.Batch(
                        $"INSERT INTO funding_events ({Columns}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                        fundingEventId, positionId, symbol, venue, rate, size, mark, notional, payment, fundingTime),
                    Sql.Batch("UPDATE positions SET funding = funding + $2, updated_at = now() WHERE position_id = $1", positionId, payment),
                    OutboxWriter.Command(eventId, positionId.ToString(), paid),
                },
            };
            await batch.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            return new LogFundingEventResponse { FundingEventId = fundingEventId.ToString() };
        }, cancellationToken);
    }

    /// <summary>
    /// The settlement's amounts are the ones its size, mark and rate make (<see cref="FundingMath"/>, where the sign
    /// convention is written): notional |size| × mark and payment size × mark × rate, each to the Ledger's 8 decimals half
    /// to even; the payment positive when we pay (a positive rate: longs pay shorts). The Ledger is the record every
    /// figure is summed from, so it holds the rule whoever posts; before, any payment was booked, and one with the wrong
    /// sign put the net PnL out by twice its amount. Judged after the position's side (a size of the other side is named
    /// first).
    /// </summary>
    private static void CheckSettlement(decimal size, decimal mark, decimal rate, decimal notional, decimal payment)
    {
        var expectedNotional = FundingMath.PostedAmount(Math.Abs(size) * mark);
        if (notional != expectedNotional)
        {
            throw new RequestValidationException("notional",
                $"must be |position_size| × mark_price to 8 decimals, half to even: {Format(expectedNotional)}");
        }

        var expectedPayment = FundingMath.SettlementAmount(size, mark, rate);
        if (payment != expectedPayment)
        {
            throw new RequestValidationException("payment",
                $"must be position_size × mark_price × funding_rate to 8 decimals, half to even, positive when we pay (a positive rate: longs pay): {Format(expectedPayment)}");
        }
    }

    /// <summary>
    /// A settlement belongs to the position's life: after opened_at, and at or before closed_at once it is closed. Funding's
    /// rule (a position held over (from, to] pays at every settlement t with from &lt; t ≤ to, as GetPositionSizeAt answers)
    /// puts a settlement at the instant of the open before it: the position held nothing then (its size there is 0), so
    /// such a posting would charge funding on a size never held at that settlement.
    /// </summary>
    private static void CheckWithinLife(DateTimeOffset fundingTime, DateTimeOffset openedAt, DateTimeOffset? closedAt, string status)
    {
        if (fundingTime <= openedAt)
        {
            throw new RpcException(new Status(StatusCode.FailedPrecondition,
                $"funding_time: {fundingTime:O} is not after the position opened ({openedAt:O}); a settlement at the instant of the open comes before it."));
        }

        if (closedAt is { } closed && fundingTime > closed)
        {
            throw new RpcException(new Status(StatusCode.FailedPrecondition,
                $"funding_time: {fundingTime:O} is after the position was {status} ({closed:O})."));
        }
    }

    public async Task<GetFundingHistoryResponse> HistoryAsync(GetFundingHistoryRequest r, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(r);
        var symbol = OptionalSymbol(r.Symbol, "symbol");
        var venue = OptionalIdentifier(r.Venue, "venue", 32);
        var (start, end) = Range(r.Range);
        var filter = Filter(symbol, venue, start, end);
        var (size, after) = Page(r.Page, 'f', filter);
        const string Where =
            "WHERE ($1::text IS NULL OR symbol = $1) AND ($2::text IS NULL OR venue = $2) AND funding_time >= $3 AND funding_time < $4";

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        // One transaction (REPEATABLE READ: one snapshot), so the page and the total describe the same settlements, as
        // GetTransfers reads them. Before, a settlement committed between the two statements was in the total and not
        // in the page.
        await using var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, cancellationToken).ConfigureAwait(false);
        var response = new GetFundingHistoryResponse();
        await using (var page = Sql.Command(
            $"SELECT {Columns} FROM funding_events {Where} " +
            "AND ($6::timestamptz IS NULL OR (funding_time, funding_event_id) > ($6, $7::uuid)) " +
            "ORDER BY funding_time, funding_event_id LIMIT $5",
            connection, transaction, symbol, venue, start, end, size + 1, after?.At, after?.Id))
        await using (var reader = await page.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                response.Events.Add(Read(reader));
            }
        }

        var hasMore = TrimToPage(response.Events, size);

        response.NextPageToken = response.Events.Count == 0 ? string.Empty : NextToken('f',
            PageCursor.Of(response.Events[^1].FundingTime.ToDateTimeOffset(), Guid.Parse(response.Events[^1].FundingEventId)), hasMore, filter);

        await using var total = Sql.Command(
            $"SELECT COALESCE(SUM(payment), 0) FROM funding_events {Where}", connection, transaction, symbol, venue, start, end);
        try
        {
            response.TotalPayment = Format((decimal)(await total.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!);
        }
        catch (Exception ex) when (ex is OverflowException or InvalidCastException)
        {
            // A sum of in-range payments past what decimal holds.
            throw TotalOutOfRange("total_payment");
        }

        return response;
    }

    private static FundingEvent Read(NpgsqlDataReader reader) => new()
    {
        FundingEventId = reader.GetGuid(0).ToString(),
        PositionId = reader.GetGuid(1).ToString(),
        Symbol = reader.GetString(2),
        Venue = reader.GetString(3),
        FundingRate = Format(reader.GetDecimal(4)),
        PositionSize = Format(reader.GetDecimal(5)),
        MarkPrice = Format(reader.GetDecimal(6)),
        Notional = Format(reader.GetDecimal(7)),
        Payment = Format(reader.GetDecimal(8)),
        FundingTime = Timestamp(reader.Instant(9)),
    };
}
