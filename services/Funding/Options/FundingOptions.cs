namespace TradeEngine.Funding.Options;

/// <summary>Configuration section <c>Funding</c>.</summary>
public sealed class FundingOptions
{
    public const string SectionName = "Funding";

    /// <summary>An estimated daily cost above this (USDT, positive when we pay) comes back as a warning.</summary>
    public decimal HighFundingThreshold { get; set; } = 10m;

    /// <summary>The current rate is reused until the next funding time, or at most this long.</summary>
    public int RateCacheTtlSeconds { get; set; } = 15;

    /// <summary>The venue name positions carry in the Ledger (the same as Execution's <c>Execution:Venue</c>).</summary>
    public string Venue { get; set; } = "binance";

    public FundingAccrualOptions Accrual { get; set; } = new();

    public FundingTransferOptions Transfers { get; set; } = new();
}

/// <summary>
/// Section <c>Funding:Transfers</c>: booking the venue's transfers into and out of the futures account (Binance's
/// capital-flow income: TRANSFER, INTERNAL_TRANSFER, CROSS_COLLATERAL_TRANSFER, STRATEGY_UMFUTURES_TRANSFER,
/// COIN_SWAP_DEPOSIT, COIN_SWAP_WITHDRAW) in the Ledger, so a deposit or a withdrawal is not read as trading PnL.
/// </summary>
public sealed class FundingTransferOptions
{
    /// <summary>The poller (with venue API credentials and a Ledger); BookTransfers answers either way.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// How often (real seconds) the venue's transfers are read; each read is one income request (weight 30) a 7-day span
    /// and 1,000 rows, of every income type at once (the capital flows are kept), not one per type.
    /// </summary>
    public int PollSeconds { get; set; } = 10;

    /// <summary>At start, transfers this far back (days, 1..90: the venue keeps three months of income) are read and booked.</summary>
    public int LookBackDays { get; set; } = 7;

    /// <summary>
    /// How late (seconds, 60..1800) the venue may list a transfer after its own time and still be booked by the next read:
    /// each read starts this far before the end of the last complete one. A withdrawal listed later than this is booked
    /// only by the look-back after a restart, and until then reads as a loss. Before, the overlap was a fixed minute: a
    /// withdrawal listed 90 s after its time was never read again while Funding ran, and could latch the kill switch as
    /// a loss.
    /// </summary>
    public int ListingLagSeconds { get; set; } = 600;

    /// <summary>
    /// The account's margin asset, the one equity is measured in (the USD-M account's USDT figures): only its transfers are
    /// booked. A transfer of another asset (BNB for the fee discount) is skipped with a warning: the Ledger sums transfers
    /// as money of this asset.
    /// </summary>
    public string Asset { get; set; } = "USDT";
}

/// <summary>Section <c>Funding:Accrual</c>: posting each settlement of each open position to the Ledger.</summary>
public sealed class FundingAccrualOptions
{
    public bool Enabled { get; set; } = true;

    /// <summary>How often (real seconds) open positions are checked for settlements that are due.</summary>
    public int PollSeconds { get; set; } = 10;

    /// <summary>
    /// A settlement is posted only once it is this old (seconds of venue time). A fill at or just before a funding time
    /// reaches the Ledger a little later (at once normally; after Execution's retries when the Ledger blipped), and the
    /// settlement must be posted at the size that fill made: posting is first-wins, never corrected in place. A close the
    /// venue makes itself (a stop-loss, a take-profit, a liquidation) reaches the Ledger only through Execution's
    /// reconciliation, once a minute: 180 s leaves three passes (60 s left about one, and a close booked after the
    /// settlement it preceded leaves a payment the venue never charged, which nothing reverses).
    /// </summary>
    public int SettleAfterSeconds { get; set; } = 180;

    /// <summary>After downtime, settlements up to this far back are backfilled.</summary>
    public int MaxBackfillDays { get; set; } = 30;

    /// <summary>
    /// With an API key, compare each posting with the venue's FUNDING_FEE income (the truth for a live account);
    /// a difference above <see cref="ReconciliationTolerance"/> is logged as a risk event.
    /// </summary>
    public bool ReconcileIncome { get; set; } = true;

    public decimal ReconciliationTolerance { get; set; } = 0.01m;

    /// <summary>Income is compared once the settlement is this old (seconds of venue time), so the venue has booked it.</summary>
    public int ReconcileAfterSeconds { get; set; } = 60;
}
