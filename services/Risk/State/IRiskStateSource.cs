namespace TradeEngine.Risk.State;

/// <summary>Where the durable risk state comes from (the Ledger in production).</summary>
public interface IRiskStateSource
{
    Task<RiskState> LoadAsync(DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>
    /// Whether this state is the Ledger's, so that the observations checks make (the day's first account, a new equity
    /// high: EquityBaseline) belong there. A stand-in without a Ledger (a benchmark's) says no.
    /// </summary>
    bool RecordsObservations => true;
}
