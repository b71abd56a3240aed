namespace TradeEngine.Ledger.Outbox;

/// <summary>Configuration section <c>Ledger:Outbox</c>.</summary>
public sealed class OutboxOptions
{
    public const string Section = "Ledger:Outbox";

    /// <summary>Off only to take the relay out of a process (tests of crash recovery, a write-only instance).</summary>
    public bool RelayEnabled { get; set; } = true;

    public int BatchSize { get; set; } = 500;

    /// <summary>How long one publish may wait for the broker's confirm before it counts as failed.</summary>
    public TimeSpan PublishTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>First retry delay while the broker is unreachable; doubles up to <see cref="MaxBackoff"/>.</summary>
    public TimeSpan InitialBackoff { get; set; } = TimeSpan.FromMilliseconds(100);

    public TimeSpan MaxBackoff { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Longest sleep without a wake-up (a safety net; commits wake the relay at once).</summary>
    public TimeSpan IdleWait { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How often the backlog metrics are refreshed.</summary>
    public TimeSpan BacklogRefresh { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Sent rows are deleted after this long.</summary>
    public TimeSpan Retention { get; set; } = TimeSpan.FromDays(7);
}
