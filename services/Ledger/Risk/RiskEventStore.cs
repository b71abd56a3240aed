using TradeEngine.Ledger.Mapping;
using MassTransit;
using Npgsql;
using TradeEngine.Contracts.Events;
using TradeEngine.Ledger.Data;
using TradeEngine.Ledger.Idempotency;
using TradeEngine.Ledger.Outbox;
using TradeEngine.Ledger.V1;
using TradeEngine.ServiceDefaults.Grpc;
using static TradeEngine.Ledger.Mapping.LedgerWire;

namespace TradeEngine.Ledger.Risk;

/// <summary>
/// Records risk events (limit breaches, margin actions, reconciliation mismatches) and publishes <see cref="RiskEventLogged"/>;
/// reads them back by type, newest first.
/// </summary>
public sealed class RiskEventStore(NpgsqlDataSource dataSource, IdempotentWriter writer, RecordedTimes times)
{
    private const int EventTypeLength = 64;

    private const string Columns =
        "risk_event_id, event_type, severity, reason, symbol, metric_value, limit_value, occurred_at, recorded_at, correlation_id";

    public Task<LogRiskEventResponse> LogAsync(LogRiskEventRequest r, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(r);
        var key = Key(r.IdempotencyKey, "idempotency_key");
        var eventType = Text(r.EventType, "event_type", EventTypeLength);
        var severity = Wire.Enum(r.Severity, "severity") switch
        {
            RiskEventSeverity.Info => "info",
            RiskEventSeverity.Warning => "warning",
            _ => "critical",
        };
        var reason = Text(r.Reason, "reason", 1024);
        // Spelled as every other row's symbol: "btcusdt" would be a market of its own to whoever reads events by symbol.
        var symbol = OptionalSymbol(r.Symbol, "symbol");
        var metric = OptionalMoney(r.MetricValue, "metric_value");
        var limit = OptionalMoney(r.LimitValue, "limit_value");
        var occurredAt = times.OrNow(r.OccurredAt, "occurred_at");
        var correlationId = OptionalId(r.CorrelationId, "correlation_id");

        var riskEventId = NewId.NextGuid();
        var eventId = NewId.NextGuid();
        var logged = new RiskEventLogged(eventId, occurredAt, riskEventId, eventType, severity, reason, symbol, metric, limit, correlationId);
        // The whole request (correlation_id included) is the payload the key is checked against.
        var call = new IdempotencyContext<LogRiskEventResponse>(
            "LogRiskEvent", key, "idempotency_key", r, LogRiskEventResponse.Parser, x => x.Replayed = true);
        return writer.ExecuteBatchAsync(call, new LogRiskEventResponse { RiskEventId = riskEventId.ToString() },
        [
            Sql.Batch(
                "INSERT INTO risk_events (risk_event_id, event_type, severity, reason, symbol, metric_value, limit_value, occurred_at, correlation_id) " +
                "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                riskEventId, eventType, severity, reason, symbol, metric, limit, occurredAt, correlationId),
            OutboxWriter.Command(eventId, riskEventId.ToString(), logged),
        ], cancellationToken);
    }

    /// <summary>
    /// The events of the requested types (every type when none is named), optionally within a time range, newest first
    /// by (occurred_at, risk_event_id), in one statement. A page of long reasons ends early (<see cref="LedgerWire.Fit"/>)
    /// and its token leads on from its last row.
    /// </summary>
    public async Task<GetRiskEventsResponse> ListAsync(GetRiskEventsRequest r, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(r);
        var types = r.EventTypes.Select((t, i) => Text(t, $"event_types[{i}]", EventTypeLength)).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
        DateTimeOffset? start = null;
        DateTimeOffset? end = null;
        if (r.Range is not null)
        {
            (start, end) = Range(r.Range);
        }

        var filter = Filter(string.Join('\n', types), start, end);
        var (size, before) = Page(r.Page, 'r', filter);

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = Sql.Command(
            $"SELECT {Columns} FROM risk_events " +
            "WHERE (cardinality($1::text[]) = 0 OR event_type = ANY($1)) " +
            "AND ($2::timestamptz IS NULL OR occurred_at >= $2) AND ($3::timestamptz IS NULL OR occurred_at < $3) " +
            "AND ($5::timestamptz IS NULL OR (occurred_at, risk_event_id) < ($5, $6::uuid)) " +
            "ORDER BY occurred_at DESC, risk_event_id DESC LIMIT $4",
            connection, null, types, start, end, size + 1, before?.At, before?.Id);
        var rows = new List<RiskEventRecord>();
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                rows.Add(Read(reader));
            }
        }

        var count = Fit(rows, size);
        var response = new GetRiskEventsResponse
        {
            NextPageToken = count == 0 ? string.Empty : NextToken('r',
                PageCursor.Of(rows[count - 1].OccurredAt.ToDateTimeOffset(), Guid.Parse(rows[count - 1].RiskEventId)), rows.Count > count, filter),
        };
        response.Events.AddRange(rows.Take(count));
        return response;
    }

    private static RiskEventRecord Read(NpgsqlDataReader reader) => new()
    {
        RiskEventId = reader.GetGuid(0).ToString(),
        EventType = reader.GetString(1),
        Severity = reader.GetString(2) switch
        {
            "info" => RiskEventSeverity.Info,
            "warning" => RiskEventSeverity.Warning,
            _ => RiskEventSeverity.Critical,
        },
        Reason = reader.GetString(3),
        Symbol = reader.IsDBNull(4) ? string.Empty : reader.GetString(4),
        MetricValue = reader.IsDBNull(5) ? string.Empty : Format(reader.GetDecimal(5)),
        LimitValue = reader.IsDBNull(6) ? string.Empty : Format(reader.GetDecimal(6)),
        OccurredAt = Timestamp(reader.Instant(7)),
        RecordedAt = Timestamp(reader.Instant(8)),
        CorrelationId = reader.IsDBNull(9) ? string.Empty : reader.GetGuid(9).ToString(),
    };
}
