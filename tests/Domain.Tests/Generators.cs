using FsCheck;
using FsCheck.Fluent;
using TradeEngine.Domain.Instruments;
using TradeEngine.Domain.Margin;
using TradeEngine.Domain.Risk;

namespace TradeEngine.Domain.Tests;

/// <summary>A position to liquidate: brackets, inputs and the tick its price is quoted in.</summary>
public sealed record LiquidationCase(LiquidationInput Input, decimal TickSize)
{
    public override string ToString() =>
        $"{Input.Brackets.Symbol} {Input.MarginType} {Input.Side} qty {Input.Quantity} @ {Input.EntryPrice} WB {Input.WalletBalance} TMM1 {Input.OtherMaintenanceMargin} UPNL1 {Input.OtherUnrealizedPnl}";
}

/// <summary>An arbitrary pre-trade request (any size, price, leverage, balances and equities) with limits.</summary>
public sealed record PreTradeCase(PreTradeRequest Request, RiskLimits Limits, SymbolFilters Filters)
{
    public override string ToString() => $"{Request} / {Limits}";
}

/// <summary>Limits L1 and a tightening of them, L2, with one request to judge under both.</summary>
public sealed record TighteningCase(PreTradeRequest Request, RiskLimits Looser, RiskLimits Tighter, SymbolFilters Filters);

/// <summary>FsCheck generators. Decimals are built from integers so every value is exact.</summary>
public static class Generators
{
    private static Gen<decimal> Decimal(int min, int max, int scale) =>
        Gen.Choose(min, max).Select(i => i / Pow10(scale));

    public static Arbitrary<LiquidationCase> LiquidationCases()
    {
        var gen =
            from instrument in Gen.Elements(InstrumentCatalog.BtcUsdt, InstrumentCatalog.EthUsdt)
            from side in Gen.Elements(Side.Long, Side.Short)
            from marginType in Gen.Elements(MarginType.Isolated, MarginType.Cross)
            from steps in Gen.Choose(1, 200_000)
            from cents in Gen.Choose(10_000, 10_000_000)
            from leverageDraw in Gen.Choose(1, 125)
            from extraMargin in Decimal(0, 1_000_000, 2)
            from otherMaintenance in Decimal(0, 50_000, 2)
            from otherPnlAboveMaintenance in Decimal(0, 100_000, 2)
            select Build(instrument, side, marginType, steps, cents, leverageDraw, extraMargin, otherMaintenance, otherPnlAboveMaintenance);
        return Arb.From(gen);
    }

    /// <summary>
    /// Half arbitrary requests (almost all refused), half requests drawn near the limits they are judged by (mostly
    /// allowed): the property's assertions on an allowed order run only on allowed orders, and drawn at random alone
    /// about one case in 200,000 was allowed, so 1,000 cases almost never reached them.
    /// </summary>
    public static Arbitrary<PreTradeCase> PreTradeCases() =>
        Arb.From(Gen.Frequency((1, ArbitraryPreTradeCases()), (1, NearLimitPreTradeCases())));

    private static Gen<PreTradeCase> ArbitraryPreTradeCases() =>
        from request in Requests()
        from limits in Limits()
        from instrument in Gen.Elements(InstrumentCatalog.BtcUsdt, InstrumentCatalog.EthUsdt)
        select new PreTradeCase(request, limits, instrument.Filters);

    /// <summary>
    /// A request near its limits: leverage within the limit, the kill switch mostly off, a size on the lot grid whose
    /// notional falls from just under the minimum to just over the maximum, a small position already held, wallets
    /// from tight to ample, and a day's loss and a drawdown from none to just past their limits. About half are allowed; each
    /// limit is met at its edge from both sides.
    /// </summary>
    public static Gen<PreTradeCase> NearLimitPreTradeCases() =>
        from limits in Limits()
        from instrument in Gen.Elements(InstrumentCatalog.BtcUsdt, InstrumentCatalog.EthUsdt)
        from side in Gen.Elements(Side.Long, Side.Short)
        from leverage in Gen.Choose(1, limits.MaxLeverage)
        from price in Decimal(100_000, 10_000_000, 2)
        from markOffsetBps in Gen.Choose(-100, 100)
        from notionalShare in Gen.Choose(-5, 110)
        from existingShare in Gen.Frequency((3, Gen.Constant(0)), (1, Gen.Choose(-30, 30)))
        from wallet in Gen.Frequency((1, Decimal(0, 500_000, 2)), (4, Decimal(500_000, 100_000_000, 2)))
        from current in Decimal(100_000, 100_000_000, 2)
        from lossShare in Gen.Choose(-50, 110)
        from drawdownShare in Gen.Choose(0, 110)
        from kill in Gen.Frequency((1, Gen.Constant(true)), (19, Gen.Constant(false)))
        let filters = instrument.Filters
        let floor = Math.Max(limits.MinNotional, filters.MinNotional)
        let target = floor + (limits.MaxNotional - floor) * notionalShare / 100m
        let steps = Math.Max(0m, Math.Floor((Math.Max(target, 0m) / price - filters.MinQty) / filters.StepSize))
        let quantity = filters.MinQty + steps * filters.StepSize
        let existing = Math.Round(quantity * existingShare / 100m / filters.StepSize) * filters.StepSize
        let startOfDay = current + limits.DailyLossLimit * lossShare / 100m
        select new PreTradeCase(new PreTradeRequest
        {
            MarkPrice = price * (10_000m + markOffsetBps) / 10_000m,
            Side = side,
            Quantity = new Quantity(quantity),
            Price = new Price(price),
            Leverage = new Leverage(leverage),
            ExistingPositionSize = existing,
            AvailableBalance = wallet,
            Balance = wallet,
            EquityAtStartOfDay = Math.Max(0m, startOfDay),
            CurrentEquity = current,
            PeakEquity = Math.Max(Math.Max(0m, startOfDay), current) + limits.MaxDrawdown * drawdownShare / 100m,
            KillSwitchActive = kill,
        }, limits, filters);

    /// <summary>As <see cref="PreTradeCases"/>, half the requests drawn near the looser limits, so that many are allowed under them.</summary>
    public static Arbitrary<TighteningCase> TighteningCases()
    {
        var gen =
            from drawn in Gen.Frequency((1, ArbitraryPreTradeCases()), (1, NearLimitPreTradeCases()))
            let request = drawn.Request
            let looser = drawn.Limits
            from notionalCut in Decimal(0, 500_000, 2)
            from lossCut in Decimal(0, 50_000, 2)
            from drawdownCut in Decimal(0, 100_000, 2)
            from leverageCut in Gen.Choose(0, 4)
            from bufferAdd in Decimal(0, 100, 2)
            from minNotionalAdd in Decimal(0, 10_000, 2)
            let tighterMin = Math.Min(looser.MinNotional + minNotionalAdd, looser.MaxNotional)
            let tighter = RiskLimits.Create(
                Math.Max(looser.MaxNotional - notionalCut, tighterMin),
                Math.Max(0.01m, looser.DailyLossLimit - lossCut),
                Math.Max(0.01m, looser.MaxDrawdown - drawdownCut),
                Math.Max(1, looser.MaxLeverage - leverageCut),
                looser.LiquidationBuffer + bufferAdd,
                tighterMin)
            select new TighteningCase(request, looser, tighter, drawn.Filters);
        return Arb.From(gen);
    }

    private static Gen<PreTradeRequest> Requests() =>
        from side in Gen.Elements(Side.Long, Side.Short)
        from halfSteps in Gen.Choose(1, 40_000)
        from price in Decimal(100, 10_000_000, 2)
        from leverage in Gen.Choose(1, 125)
        from existing in Decimal(-2_000, 2_000, 3)
        from available in Decimal(-100_000, 5_000_000, 2)
        from balance in Decimal(-100_000, 5_000_000, 2)
        from startOfDay in Decimal(0, 5_000_000, 2)
        from current in Decimal(0, 5_000_000, 2)
        from peakAbove in Decimal(0, 300_000, 2)
        from kill in Gen.Frequency((1, Gen.Constant(true)), (4, Gen.Constant(false)))
        from mark in Gen.Frequency((1, Gen.Constant(0m)), (2, Decimal(100, 10_000_000, 2)))
        select new PreTradeRequest
        {
            MarkPrice = mark,
            Side = side,
            Quantity = new Quantity(halfSteps * 0.0005m),
            Price = new Price(price),
            Leverage = new Leverage(leverage),
            ExistingPositionSize = existing,
            AvailableBalance = available,
            Balance = balance,
            EquityAtStartOfDay = startOfDay,
            CurrentEquity = current,
            PeakEquity = Math.Max(startOfDay, current) + peakAbove,
            KillSwitchActive = kill,
        };

    private static Gen<RiskLimits> Limits() =>
        from maxNotional in Decimal(1_000, 1_000_000, 2)
        from dailyLoss in Decimal(1, 50_000, 2)
        from drawdown in Decimal(1, 100_000, 2)
        from leverage in Gen.Choose(1, 5)
        from buffer in Decimal(15, 100, 2)
        from minNotional in Decimal(500, 1_000, 2)
        select RiskLimits.Create(maxNotional, dailyLoss, drawdown, leverage, buffer, minNotional);

    private static LiquidationCase Build(
        Instrument instrument, Side side, MarginType marginType, int steps, int cents, int leverageDraw,
        decimal extraMargin, decimal otherMaintenance, decimal otherPnlAboveMaintenance)
    {
        var quantity = steps * instrument.Filters.StepSize;
        var entry = cents / 100m;
        var notional = quantity * entry;
        // Open at a leverage the bracket allows: initial margin 1/leverage always exceeds the
        // bracket's maintenance rate, so the position starts healthy.
        var leverage = Math.Min(leverageDraw, instrument.Brackets.MaxLeverageFor(notional));
        var wallet = notional / leverage + extraMargin;
        var cross = marginType == MarginType.Cross;
        var input = new LiquidationInput
        {
            MarginType = marginType,
            Side = side,
            Quantity = quantity,
            EntryPrice = entry,
            WalletBalance = wallet,
            OtherMaintenanceMargin = cross ? otherMaintenance : 0m,
            OtherUnrealizedPnl = cross ? otherMaintenance + otherPnlAboveMaintenance : 0m,
            Brackets = instrument.Brackets,
        };
        return new LiquidationCase(input, instrument.Filters.TickSize);
    }

    private static decimal Pow10(int scale)
    {
        var result = 1m;
        for (var i = 0; i < scale; i++)
        {
            result *= 10m;
        }

        return result;
    }
}
