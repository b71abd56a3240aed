namespace TradeEngine.Risk.State;

/// <summary>Where the durable risk state comes from (the Ledger in production).</summary>
public interface IRiskStateSource
{
    Task<RiskState> LoadAsync(DateTimeOffset now, CancellationToken cancellationToken);
}
