using BenchmarkDotNet.Attributes;
using TradeEngine.Domain;
using TradeEngine.Domain.Instruments;
using TradeEngine.Domain.Margin;
using TradeEngine.Domain.Risk;

namespace TradeEngine.Benchmarks;

/// <summary>
/// The two calls on every order's path: the full pre-trade check and the bracket liquidation
/// price. Target: under 1 µs and 0 bytes allocated each. The plan's one-line liquidation
/// formula is the baseline, so the figures read as "how many simple formulas is this".
/// </summary>
[MemoryDiagnoser]
public class DomainHotPathBenchmarks
{
    private SymbolFilters _filters;
    private RiskLimits _limits;
    private PreTradeRequest _allowed;
    private PreTradeRequest _deniedEverywhere;
    private LiquidationInput _isolatedLong;
    private LiquidationInput _crossWalk;

    [GlobalSetup]
    public void Setup()
    {
        var btc = InstrumentCatalog.BtcUsdt;
        _filters = btc.Filters;
        _limits = RiskLimits.Default;
        _allowed = new PreTradeRequest
        {
            Symbol = btc.Symbol, Side = Side.Long, Quantity = new Quantity(0.1m), Price = new Price(50_000m),
            Leverage = new Leverage(5), ExistingPositionSize = 0.02m, AvailableBalance = 2_000m, Balance = 2_000m,
            EquityAtStartOfDay = 2_100m, CurrentEquity = 2_000m, PeakEquity = 2_400m,
        };
        _deniedEverywhere = _allowed with
        {
            KillSwitchActive = true, Quantity = new Quantity(0.0005m), Leverage = new Leverage(20), ExistingPositionSize = 1m,
            AvailableBalance = -1m, Balance = 100m, EquityAtStartOfDay = 5_000m, CurrentEquity = 100m, PeakEquity = 6_000m,
        };
        _isolatedLong = new LiquidationInput
        {
            MarginType = MarginType.Isolated, Side = Side.Long, Quantity = 2m, EntryPrice = 50_000m,
            WalletBalance = 10_000m, Brackets = btc.Brackets,
        };
        // Entry notional in bracket 2, liquidation notional in bracket 1: one extra step of the walk.
        _crossWalk = new LiquidationInput
        {
            MarginType = MarginType.Cross, Side = Side.Long, Quantity = 1m, EntryPrice = 60_000m,
            WalletBalance = 12_500m, OtherMaintenanceMargin = 100m, OtherUnrealizedPnl = -400m, Brackets = btc.Brackets,
        };
    }

    [Benchmark(Baseline = true, Description = "LiquidationPrice.Simple (plan)")]
    public decimal SimpleLiquidation() => LiquidationPrice.Simple(50_000m, 5, Side.Long, 0.1m);

    [Benchmark(Description = "LiquidationPrice.Exchange isolated")]
    public decimal ExchangeLiquidationIsolated() => LiquidationPrice.Exchange(_isolatedLong).Price;

    [Benchmark(Description = "LiquidationPrice.Exchange cross, bracket walk")]
    public decimal ExchangeLiquidationCrossWalk() => LiquidationPrice.Exchange(_crossWalk).Price;

    [Benchmark(Description = "PreTradeCheck.Evaluate allowed")]
    public bool PreTradeAllowed() => PreTradeCheck.Evaluate(_allowed, _limits, _filters).Allowed;

    [Benchmark(Description = "PreTradeCheck.Evaluate 10 reasons")]
    public int PreTradeDeniedEverywhere() => PreTradeCheck.Evaluate(_deniedEverywhere, _limits, _filters).ReasonCount;
}
