namespace TradeEngine.PaperExchange.Engine;

// Mutable state owned by PaperEngine and touched only under its lock. The same classes are the persisted
// snapshot, so every field is a plain public property.

public sealed class MarketState
{
    public string Symbol { get; set; } = "";
    public decimal IndexPrice { get; set; }
    public decimal MarkPrice { get; set; }
    public decimal FundingRate { get; set; }
    public int FundingIntervalHours { get; set; }
    public long NextFundingTime { get; set; }
    public decimal Volatility { get; set; }
    public List<decimal> PendingPath { get; set; } = [];
    public long LastPriceChange { get; set; }

    /// <summary>The funding rate cap set through the control API; null: the market definition's.</summary>
    public decimal? FundingRateCap { get; set; }

    /// <summary>The funding rate floor set through the control API; null: the market definition's.</summary>
    public decimal? FundingRateFloor { get; set; }

    /// <summary>
    /// The most one market order fills here, set through the control API (a thin book); null: no limit. The rest of
    /// the order expires, as a Binance market order does when the book runs out (status EXPIRED). Limit orders are not
    /// limited by it.
    /// </summary>
    public decimal? Depth { get; set; }

    /// <summary>
    /// The contract status exchangeInfo lists, set through the control API: TRADING, or a status in which the venue
    /// refuses orders that open or add (-4140) and still takes reduce-only ones.
    /// </summary>
    public string Status { get; set; } = MarketStatuses.Trading;
}

/// <summary>Binance USD-M's contract statuses (exchangeInfo <c>symbols[].status</c>).</summary>
public static class MarketStatuses
{
    public const string Trading = "TRADING";

    public static readonly IReadOnlySet<string> All = new HashSet<string>(StringComparer.Ordinal)
    {
        "PENDING_TRADING", Trading, "PRE_DELIVERING", "DELIVERING", "DELIVERED", "PRE_SETTLE", "SETTLING", "CLOSE",
    };
}

public sealed class PositionState
{
    public string Symbol { get; set; } = "";
    /// <summary>Signed: long positive, short negative.</summary>
    public decimal Amount { get; set; }
    public decimal EntryPrice { get; set; }
    public int Leverage { get; set; } = 20;
    public bool Isolated { get; set; }
    /// <summary>Margin held by an isolated position (0 for cross).</summary>
    public decimal IsolatedWallet { get; set; }
    public long UpdateTime { get; set; }
}

public sealed class OrderState
{
    public long OrderId { get; set; }
    public string ClientOrderId { get; set; } = "";
    public string Symbol { get; set; } = "";
    public string Side { get; set; } = "";
    public string Type { get; set; } = "";
    public string OrigType { get; set; } = "";
    public string TimeInForce { get; set; } = "GTC";
    public string Status { get; set; } = "NEW";
    public decimal OrigQty { get; set; }
    public decimal ExecutedQty { get; set; }
    public decimal CumQuote { get; set; }
    public decimal Price { get; set; }
    public decimal AvgPrice { get; set; }
    public decimal StopPrice { get; set; }
    public bool ReduceOnly { get; set; }
    public bool ClosePosition { get; set; }
    public string WorkingType { get; set; } = "CONTRACT_PRICE";
    public long Time { get; set; }
    public long UpdateTime { get; set; }
}

public sealed class AlgoOrderState
{
    public long AlgoId { get; set; }
    public string ClientAlgoId { get; set; } = "";
    public string Symbol { get; set; } = "";
    public string Side { get; set; } = "";
    public string OrderType { get; set; } = "";
    public string AlgoStatus { get; set; } = "NEW";
    public decimal TriggerPrice { get; set; }
    public decimal Quantity { get; set; }
    public bool ClosePosition { get; set; }
    public bool ReduceOnly { get; set; }
    public string WorkingType { get; set; } = "CONTRACT_PRICE";
    public bool PriceProtect { get; set; }
    public long CreateTime { get; set; }
    public long UpdateTime { get; set; }
    public long TriggerTime { get; set; }
    public long ActualOrderId { get; set; }
}

public sealed class TradeState
{
    public long Id { get; set; }
    public long OrderId { get; set; }
    public string Symbol { get; set; } = "";
    public string Side { get; set; } = "";
    public decimal Price { get; set; }
    public decimal Qty { get; set; }
    public decimal QuoteQty { get; set; }
    public decimal RealizedPnl { get; set; }
    /// <summary>Positive amount charged (Binance's userTrades shows commission as a positive number), in <see cref="CommissionAsset"/>.</summary>
    public decimal Commission { get; set; }
    /// <summary>USDT, or BNB when the BNB fee discount paid it.</summary>
    public string CommissionAsset { get; set; } = "USDT";
    public bool Maker { get; set; }
    public long Time { get; set; }
}

public sealed class IncomeState
{
    public long TranId { get; set; }
    public string Symbol { get; set; } = "";
    public string IncomeType { get; set; } = "";
    /// <summary>Signed from the account's side: negative paid, positive received.</summary>
    public decimal Income { get; set; }
    /// <summary>The asset moved (state saved before it was kept reads as USDT, the only asset then).</summary>
    public string Asset { get; set; } = "USDT";
    public string Info { get; set; } = "";
    public long Time { get; set; }
    public string TradeId { get; set; } = "";
}

public sealed class FundingRecordState
{
    public string Symbol { get; set; } = "";
    public decimal FundingRate { get; set; }
    public long FundingTime { get; set; }
    public decimal MarkPrice { get; set; }
}

/// <summary>Everything the simulator persists.</summary>
public sealed class EngineSnapshot
{
    public int Version { get; set; } = 1;
    public long ClockOffsetMs { get; set; }
    public double ClockSpeed { get; set; } = 1.0;
    public long LastSync { get; set; }
    public decimal CrossWallet { get; set; }
    public decimal TakerFeeRate { get; set; }
    public decimal MakerFeeRate { get; set; }
    public bool FeeBurn { get; set; }
    public bool DualSidePosition { get; set; }
    public decimal BnbWallet { get; set; }
    public decimal SlippageBps { get; set; }
    public long NextOrderId { get; set; }
    public long NextTradeId { get; set; }
    public long NextTranId { get; set; }
    public ulong RandomState { get; set; }
    public List<MarketState> Markets { get; set; } = [];
    public List<PositionState> Positions { get; set; } = [];
    public List<OrderState> Orders { get; set; } = [];
    public List<AlgoOrderState> AlgoOrders { get; set; } = [];
    public List<TradeState> Trades { get; set; } = [];
    public List<IncomeState> Income { get; set; } = [];
    public List<FundingRecordState> FundingHistory { get; set; } = [];
}
