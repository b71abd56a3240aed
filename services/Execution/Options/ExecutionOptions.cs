namespace TradeEngine.Execution.Options;

/// <summary>Configuration section <c>Execution</c>.</summary>
public sealed class ExecutionOptions
{
    public const string SectionName = "Execution";

    /// <summary>The venue name the Ledger files positions and trades under (Funding and Risk use the same).</summary>
    public string Venue { get; set; } = "binance";

    /// <summary>The Ledger account positions belong to.</summary>
    public string Account { get; set; } = "default";

    /// <summary>How often the venue and the Ledger are compared (the first pass runs at start).</summary>
    public TimeSpan ReconcileInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Delay before a failed first reconciliation is tried again.</summary>
    public TimeSpan ReconcileRetryDelay { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>How long a request keeps retrying a Ledger write after a fill before the write moves to the background queue.</summary>
    public TimeSpan LedgerWriteInlineBudget { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The background queue's first wait after a failed Ledger write; each further failure doubles it, up to
    /// <see cref="LedgerWriteRetryMaxDelay"/>. Must be positive and at most that.
    /// </summary>
    public TimeSpan LedgerWriteRetryDelay { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>The longest wait between two attempts of a queued Ledger write; at most <see cref="LedgerWriteRetryLimit"/>.</summary>
    public TimeSpan LedgerWriteRetryMaxDelay { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The most <see cref="LedgerWriteRetryMaxDelay"/> may be: queued fills wait for the Ledger, not for days.</summary>
    public static readonly TimeSpan LedgerWriteRetryLimit = TimeSpan.FromHours(1);

    /// <summary>How many completed open/close results are kept in memory to answer retries without a venue look-up.</summary>
    public int ResultCacheSize { get; set; } = 10_000;
}
