namespace TradeEngine.Risk.Monitor;

/// <summary>
/// Whether this process runs the margin monitor. With it on, the Ledger's day-start and peak equity come from the
/// monitor's snapshots of the venue's account (read through Execution), and a pre-trade check writes none: the account a
/// check judges is its caller's, and a caller's figure (a what-if, or a wrong one) written as a snapshot would stay the
/// peak for good, measuring a drawdown that latches the kill switch after every reset. With it off, checks are the only
/// observations of the account and write them (<see cref="State.EquityBaseline"/>).
/// </summary>
public sealed record MarginMonitorPresence(bool On);
