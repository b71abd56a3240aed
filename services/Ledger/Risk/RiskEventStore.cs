using TradeEngine.Ledger.Mapping;
using MassTransit;
using TradeEngine.Contracts.Events;
using TradeEngine.Ledger.Data;
using TradeEngine.Ledger.Idempotency;
using TradeEngine.Ledger.Outbox;
using TradeEngine.Ledger.V1;
using TradeEngine.ServiceDefaults.Grpc;
using static TradeEngine.Ledger.Mapping.LedgerWire;

namespace TradeEngine.Ledger.Risk;

/// <summary>Records risk events (limit breaches, margin actions, reconciliation mismatches) and publishes <see cref="RiskEventLogged"/>.</summary>
public sealed class RiskEventStore(IdempotentWriter writer, RecordedTimes times)
{
    public Task<LogRiskEventResponse> LogAsync(LogRiskEventRequest r, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(r);
        var key = Key(r.IdempotencyKey, "idempotency_key");
        var eventType = Text(r.EventType, "event_type", 64);
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

        var riskEventId = NewId.NextGuid();
        var eventId = NewId.NextGuid();
        var logged = new RiskEventLogged(eventId, occurredAt, riskEventId, eventType, severity, reason, symbol, metric, limit);
        var call = new IdempotencyContext<LogRiskEventResponse>(
            "LogRiskEvent", key, "idempotency_key", r, LogRiskEventResponse.Parser, x => x.Replayed = true);
        return writer.ExecuteBatchAsync(call, new LogRiskEventResponse { RiskEventId = riskEventId.ToString() },
        [
            Sql.Batch(
                "INSERT INTO risk_events (risk_event_id, event_type, severity, reason, symbol, metric_value, limit_value, occurred_at) " +
                "VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                riskEventId, eventType, severity, reason, symbol, metric, limit, occurredAt),
            OutboxWriter.Command(eventId, riskEventId.ToString(), logged),
        ], cancellationToken);
    }
}
