using System.Globalization;
using TradeEngine.Domain.Instruments;
using TradeEngine.Domain.Margin;

namespace TradeEngine.Domain.Tests.Margin;

/// <summary>
/// Worked examples of Binance's USD-M one-way formula, derived by hand:
/// LP = (WB − TMM1 + UPNL1 + cumB − Side1 × Position1 × EP1) / (Position1 × MMR_B − Side1 × Position1).
/// </summary>
public class LiquidationPriceTests
{
    private static readonly BracketTable Btc = InstrumentCatalog.BtcUsdt.Brackets;
    private static readonly BracketTable Eth = InstrumentCatalog.EthUsdt.Brackets;
    private static readonly decimal BtcTick = InstrumentCatalog.BtcUsdt.Filters.TickSize;

    [Fact]
    public void Simple_PlanLongFiveX_Is40200()
    {
        // 50,000 × (1 − 1/5 + 0.004) = 50,000 × 0.804 = 40,200.00
        Assert.Equal(40_200.00m, LiquidationPrice.Simple(50_000m, 5, Side.Long, BtcTick));
    }

    [Fact]
    public void Simple_ShortFiveX_Is59800()
    {
        // 50,000 × (1 + 1/5 − 0.004) = 50,000 × 1.196 = 59,800.00
        Assert.Equal(59_800.00m, LiquidationPrice.Simple(50_000m, 5, Side.Short, BtcTick));
    }

    [Fact]
    public void Simple_ToTheCentTowardTheEntry_WhenTheTickIsCoarser()
    {
        // 100,000 at 3×: long 100,000 × (1 − 1/3 + 0.004) = 67,066.666…, up to 67,066.67 (the plan's 0.01, finer than
        // BTC's 0.1 tick); short 100,000 × (1 + 1/3 − 0.004) = 132,933.333…, down to 132,933.33.
        Assert.Equal(67_066.67m, LiquidationPrice.Simple(100_000m, 3, Side.Long, BtcTick));
        Assert.Equal(132_933.33m, LiquidationPrice.Simple(100_000m, 3, Side.Short, BtcTick));
        // 100,004 at 7×: long 100,004 × (1 − 1/7 + 0.004) = 86,117.7302…, up to 86,117.74 (half to even gave ,73).
        Assert.Equal(86_117.74m, LiquidationPrice.Simple(100_004m, 7, Side.Long, BtcTick));
    }

    [Theory]
    // DOGEUSDT's tick is 0.00001. Long at 0.15, 20×: 0.15 × (1 − 0.05 + 0.004) = 0.1431 exactly; 3×: 0.15 × 0.670666… =
    // 0.1006, up to 0.10060; short at 0.15, 20×: 0.15 × 1.046 = 0.1569; at 0.0089, 5× long 0.0089 × 0.804 = 0.0071556,
    // up to 0.00716 (0.01 half to even made it 0.01, above the long's entry), short 0.0089 × 1.196 = 0.0106444, down to 0.01064.
    [InlineData("0.15", 20, Side.Long, "0.1431")]
    [InlineData("0.15", 3, Side.Long, "0.1006")]
    [InlineData("0.15", 20, Side.Short, "0.1569")]
    // Short at 0.15, 3×: 0.15 × (1 + 1/3 − 0.004) = 0.1994 exactly.
    [InlineData("0.15", 3, Side.Short, "0.1994")]
    // 1.53 at 3×: long 1.53 × (1 − 1/3 + 0.004) = 1.02612, short 1.53 × (1 + 1/3 − 0.004) = 2.03388, both exactly on a tick;
    // with 1/3 taken first (28 digits) they came out a hair off and moved a whole tick (1.02613, 2.03387).
    [InlineData("1.53", 3, Side.Long, "1.02612")]
    [InlineData("1.53", 3, Side.Short, "2.03388")]
    [InlineData("0.0089", 5, Side.Long, "0.00716")]
    [InlineData("0.0089", 5, Side.Short, "0.01064")]
    // And under half a cent: 0.004 × 0.804 = 0.003216, up to 0.00322 (it was 0).
    [InlineData("0.004", 5, Side.Long, "0.00322")]
    public void Simple_ToTheTickTowardTheEntry_WhenTheTickIsFiner(string entry, int leverage, Side side, string expected)
    {
        var price = LiquidationPrice.Simple(decimal.Parse(entry, CultureInfo.InvariantCulture), leverage, side, 0.00001m);

        Assert.Equal(decimal.Parse(expected, CultureInfo.InvariantCulture), price);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-0.01")]
    public void Simple_TickNotPositive_Throws(string tick) =>
        Assert.Equal("tickSize", Assert.Throws<DomainException>(() =>
            LiquidationPrice.Simple(50_000m, 5, Side.Long, decimal.Parse(tick, CultureInfo.InvariantCulture))).Field);

    [Theory]
    [InlineData(0)]
    [InlineData(126)]
    public void Simple_LeverageOutOfRange_Throws(int leverage) =>
        Assert.Equal("leverage", Assert.Throws<DomainException>(() => LiquidationPrice.Simple(50_000m, leverage, Side.Long, BtcTick)).Field);

    [Fact]
    public void Exchange_IsolatedLongBracket1_MatchesHandArithmetic()
    {
        // 0.1 BTC at 50,000: notional 5,000 → bracket 1 (MMR 0.004, cum 0). WB 1,000 (5×).
        // LP = (1,000 + 0 − 1 × 0.1 × 50,000) / (0.1 × 0.004 − 1 × 0.1) = −4,000 / −0.0996
        //    = 40,160.642570281124497991967871…; notional at LP 4,016.06 stays in bracket 1.
        // (The simple formula says 40,200: it charges maintenance on the entry notional.)
        var result = Isolated(Side.Long, 0.1m, 50_000m, 1_000m, Btc);
        AssertPrice(40_160.6425702811m, 1, result);
    }

    /// <summary>1,000 of wallet over a quantity of 1e-27 is past decimal's range: bad input naming the quantity, not an OverflowException.</summary>
    [Fact]
    public void Exchange_QuantityTooSmallForAPrice_ThrowsNamingQuantity() =>
        Assert.Equal("quantity", Assert.Throws<DomainException>(() => Isolated(Side.Long, 0.000000000000000000000000001m, 50_000m, 1_000m, Btc)).Field);

    [Fact]
    public void Exchange_IsolatedShortBracket1_MatchesHandArithmetic()
    {
        // LP = (1,000 + 0 + 0.1 × 50,000) / (0.1 × 0.004 + 0.1) = 6,000 / 0.1004 = 59,760.956175298804780876…
        var result = Isolated(Side.Short, 0.1m, 50_000m, 1_000m, Btc);
        AssertPrice(59_760.9561752988m, 1, result);
    }

    [Fact]
    public void Exchange_IsolatedLongBracket2_MatchesHandArithmetic()
    {
        // 2 BTC at 50,000: notional 100,000 → bracket 2 (MMR 0.005, cum 50). WB 10,000 (10×).
        // LP = (10,000 + 50 − 2 × 50,000) / (2 × 0.005 − 2) = −89,950 / −1.99 = 45,201.005025125628140703…
        // notional at LP 90,402.01 is inside bracket 2 (50,000–250,000).
        var result = Isolated(Side.Long, 2m, 50_000m, 10_000m, Btc);
        AssertPrice(45_201.0050251256m, 2, result);
    }

    [Fact]
    public void Exchange_IsolatedShortBracket2_MatchesHandArithmetic()
    {
        // LP = (10,000 + 50 + 2 × 50,000) / (2 × 0.005 + 2) = 110,050 / 2.01 = 54,751.243781094527363184…
        var result = Isolated(Side.Short, 2m, 50_000m, 10_000m, Btc);
        AssertPrice(54_751.2437810945m, 2, result);
    }

    [Fact]
    public void Exchange_LongEntryInBracket2_LiquidatesInBracket1()
    {
        // 1 BTC at 60,000: entry notional 60,000 is bracket 2, WB 12,000 (5×).
        // Bracket 2: (12,000 + 50 − 60,000) / (0.005 − 1) = −47,950 / −0.995 = 48,190.95…, notional 48,190.95
        //   is below bracket 2's floor of 50,000, so maintenance there is charged at bracket 1's rate.
        // Bracket 1: (12,000 + 0 − 60,000) / (0.004 − 1) = −48,000 / −0.996 = 48,192.771084337349397590…
        //   notional 48,192.77 is inside bracket 1: consistent. Check: equity = 12,000 + (LP − 60,000)
        //   = 192.771084…, maintenance = LP × 0.004 = 192.771084…: equal, as a liquidation price must be.
        var result = Isolated(Side.Long, 1m, 60_000m, 12_000m, Btc);
        AssertPrice(48_192.7710843373m, 1, result);
    }

    [Fact]
    public void Exchange_CrossLongWithOtherPositions_MatchesHandArithmetic()
    {
        // 0.5 BTC at 40,000 (notional 20,000, bracket 1). Cross wallet 5,000; other positions
        // hold TMM1 = 100 maintenance and UPNL1 = −300.
        // LP = (5,000 − 100 + (−300) + 0 − 0.5 × 40,000) / (0.5 × 0.004 − 0.5) = −15,400 / −0.498
        //    = 30,923.694779116465863453…
        var result = LiquidationPrice.Exchange(new LiquidationInput
        {
            MarginType = MarginType.Cross, Side = Side.Long, Quantity = 0.5m, EntryPrice = 40_000m,
            WalletBalance = 5_000m, OtherMaintenanceMargin = 100m, OtherUnrealizedPnl = -300m, Brackets = Btc,
        });
        AssertPrice(30_923.6947791165m, 1, result);
    }

    [Fact]
    public void Exchange_CrossShortEthBracket2_MatchesHandArithmetic()
    {
        // 10 ETH at 3,000: notional 30,000 → ETH bracket 2 (10,000–100,000, MMR 0.0065, cum 15).
        // Cross wallet 4,000, TMM1 = 50, UPNL1 = +200.
        // LP = (4,000 − 50 + 200 + 15 + 10 × 3,000) / (10 × 0.0065 + 10) = 34,165 / 10.065
        //    = 3,394.436164927968206656…; notional 33,944.36 stays in bracket 2.
        var result = LiquidationPrice.Exchange(new LiquidationInput
        {
            MarginType = MarginType.Cross, Side = Side.Short, Quantity = 10m, EntryPrice = 3_000m,
            WalletBalance = 4_000m, OtherMaintenanceMargin = 50m, OtherUnrealizedPnl = 200m, Brackets = Eth,
        });
        AssertPrice(3_394.4361649280m, 2, result);
    }

    [Fact]
    public void Exchange_OvercollateralisedLong_NeverLiquidates()
    {
        // (6,000 − 5,000) / −0.0996 < 0: the margin covers a fall to zero.
        var result = Isolated(Side.Long, 0.1m, 50_000m, 6_000m, Btc);
        Assert.Equal(LiquidationOutcome.Never, result.Outcome);
        Assert.False(result.HasPrice);
    }

    [Fact]
    public void Exchange_IsolatedWithOtherPositionFigures_Throws()
    {
        var input = new LiquidationInput
        {
            MarginType = MarginType.Isolated, Side = Side.Long, Quantity = 1m, EntryPrice = 1_000m,
            WalletBalance = 100m, OtherMaintenanceMargin = 1m, Brackets = Btc,
        };
        Assert.Equal("otherMaintenanceMargin", Assert.Throws<DomainException>(() => LiquidationPrice.Exchange(input)).Field);
    }

    [Fact]
    public void Exchange_UndefinedSide_Throws() =>
        Assert.Equal("side", Assert.Throws<DomainException>(() => Isolated((Side)0, 1m, 1_000m, 100m, Btc)).Field);

    [Fact]
    public void Exchange_ZeroQuantity_Throws() =>
        Assert.Equal("quantity", Assert.Throws<DomainException>(() => Isolated(Side.Long, 0m, 1_000m, 100m, Btc)).Field);

    private static LiquidationResult Isolated(Side side, decimal quantity, decimal entry, decimal wallet, BracketTable brackets) =>
        LiquidationPrice.Exchange(new LiquidationInput
        {
            MarginType = MarginType.Isolated, Side = side, Quantity = quantity, EntryPrice = entry,
            WalletBalance = wallet, Brackets = brackets,
        });

    private static void AssertPrice(decimal expectedTo10Places, int expectedBracket, LiquidationResult result)
    {
        Assert.Equal(LiquidationOutcome.AtPrice, result.Outcome);
        Assert.Equal(expectedTo10Places, Math.Round(result.Price, 10));
        Assert.Equal(expectedBracket, result.Bracket);
    }
}
