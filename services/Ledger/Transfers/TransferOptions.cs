namespace TradeEngine.Ledger.Transfers;

/// <summary>Configuration section <c>Ledger:Transfers</c>.</summary>
public sealed class TransferOptions
{
    public const string Section = "Ledger:Transfers";

    /// <summary>The full name of <see cref="SnapshotGuardSeconds"/>'s setting, as start-up errors name it.</summary>
    public const string SnapshotGuardSetting = Section + ":SnapshotGuardSeconds";

    public const int MaxSnapshotGuardSeconds = 300;

    /// <summary>
    /// A snapshot taken less than this many seconds from a booked transfer (either side) is chosen neither as the peak
    /// (GetPeakEquity) nor as the day start (GetDailyPnl). A transfer's time is the venue's clock and a snapshot's ours,
    /// stamped around an account read that takes time, so a snapshot that close to a transfer may sit on the wrong side
    /// of it: its equity in today's money is then off by the transfer's whole amount (a balance read before a withdrawal
    /// but stamped after it ranks the withdrawal too high, and stays the peak: a false drawdown for good). 0 turns the
    /// guard off; at most <see cref="MaxSnapshotGuardSeconds"/>.
    /// </summary>
    public int SnapshotGuardSeconds { get; set; } = 5;
}
