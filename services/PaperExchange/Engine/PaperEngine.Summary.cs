namespace TradeEngine.PaperExchange.Engine;

/// <summary>What the control API can see of one order (every order ever placed, not only open ones).</summary>
public sealed record OrderSummary(long OrderId, string ClientOrderId, string Symbol, string Side, string Type, string Status, decimal ExecutedQty);

public sealed record MarketSummary(
    string Symbol, decimal MarkPrice, decimal IndexPrice, decimal FundingRate, int FundingIntervalHours, long NextFundingTime,
    decimal FundingRateCap, decimal FundingRateFloor);

public sealed record PositionSummary(string Symbol, decimal Amount, decimal EntryPrice, int Leverage, bool Isolated, decimal IsolatedWallet, decimal? LiquidationPrice);

public sealed record EngineSummary(
    long ServerTime,
    double ClockSpeed,
    decimal CrossWalletBalance,
    decimal TakerFeeRate,
    decimal MakerFeeRate,
    decimal SlippageBps,
    IReadOnlyList<MarketSummary> Markets,
    IReadOnlyList<PositionSummary> Positions,
    bool LiquidationPaused,
    bool FeeBurn = false,
    decimal BnbWalletBalance = 0m,
    bool DualSidePosition = false);

public sealed partial class PaperEngine
{
    public IReadOnlyList<OrderSummary> Orders(string? clientOrderId)
    {
        lock (_lock)
        {
            return _ordersById.Values
                .Where(o => clientOrderId is null || o.ClientOrderId == clientOrderId)
                .OrderBy(o => o.OrderId)
                .Select(o => new OrderSummary(o.OrderId, o.ClientOrderId, o.Symbol, o.Side, o.Type, o.Status, o.ExecutedQty))
                .ToList();
        }
    }

    public EngineSummary Summary()
    {
        lock (_lock)
        {
            var now = SyncLocked();
            return new EngineSummary(
                now,
                _clock.Speed,
                _crossWallet,
                _takerFee,
                _makerFee,
                _slippageBps,
                _markets.Values.Select(m => new MarketSummary(
                    m.Symbol, m.MarkPrice, m.IndexPrice, m.FundingRate, m.FundingIntervalHours, m.NextFundingTime, CapOf(m), FloorOf(m))).ToList(),
                _positions.Values.Where(p => p.Amount != 0m)
                    .Select(p => new PositionSummary(p.Symbol, p.Amount, p.EntryPrice, p.Leverage, p.Isolated, p.IsolatedWallet, LiquidationOf(p) is { HasPrice: true } l ? l.Price : null))
                    .ToList(),
                _liquidationPaused,
                _feeBurn,
                _bnbWallet,
                _dualSide);
        }
    }
}
