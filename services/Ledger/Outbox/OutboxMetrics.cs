using System.Diagnostics.Metrics;

namespace TradeEngine.Ledger.Outbox;

/// <summary>
/// Meter <c>TradeEngine.Ledger</c>: the outbox backlog (unsent rows) and the age of its oldest row, refreshed by
/// <see cref="OutboxBacklogMonitor"/>, and counters of published events and failed publish attempts.
/// </summary>
public sealed class OutboxMetrics
{
    public const string MeterName = "TradeEngine.Ledger";
    private readonly Counter<long> _published;
    private readonly Counter<long> _failures;
    private long _backlog;
    private double _oldestAgeSeconds;

    public OutboxMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        var meter = meterFactory.Create(MeterName);
        meter.CreateObservableGauge("tradeengine.ledger.outbox.backlog", () => Volatile.Read(ref _backlog), "{event}",
            "Outbox events not yet published.");
        meter.CreateObservableGauge("tradeengine.ledger.outbox.oldest_age", () => Volatile.Read(ref _oldestAgeSeconds), "s",
            "Age of the oldest unpublished outbox event (0 when none).");
        _published = meter.CreateCounter<long>("tradeengine.ledger.outbox.published", "{event}", "Outbox events published.");
        _failures = meter.CreateCounter<long>("tradeengine.ledger.outbox.publish_failures", "{attempt}", "Failed publish attempts.");
    }

    public long Backlog => Volatile.Read(ref _backlog);

    public double OldestAgeSeconds => Volatile.Read(ref _oldestAgeSeconds);

    public void SetBacklog(long count, double oldestAgeSeconds)
    {
        Volatile.Write(ref _backlog, count);
        Volatile.Write(ref _oldestAgeSeconds, oldestAgeSeconds);
    }

    public void Published(int count) => _published.Add(count);

    public void PublishFailed() => _failures.Add(1);
}
