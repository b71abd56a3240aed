using TradeEngine.Common.V1;
using TradeEngine.Risk.Mapping;

namespace TradeEngine.Risk.Tests;

/// <summary>A snapshot position's isolated wallet as Risk reads it.</summary>
public sealed class PositionViewWireTests
{
    [Theory]
    // An isolated position's own wallet is taken; an isolated one of 0 (a venue row without it, or "0 for cross" sent for
    // an isolated position) is unknown: an open isolated position holds its margin, and judged as 0 a small loss would be
    // read as its liquidation.
    [InlineData(MarginType.Isolated, "120.5", "120.5")]
    [InlineData(MarginType.Isolated, "0", null)]
    [InlineData(MarginType.Isolated, "", null)]
    [InlineData(MarginType.Cross, "0", null)]
    [InlineData(MarginType.Cross, "", null)]
    public void Position_IsolatedWallet_TakenOnlyForAnIsolatedPositionThatHoldsOne(MarginType marginType, string sent, string? expected)
    {
        var view = RiskWire.Position(new PositionSnapshot
        {
            Symbol = "ETHUSDT", Side = Side.Long, Quantity = "0.2", EntryPrice = "3000", MarkPrice = "3000", Leverage = 5,
            MarginType = marginType, IsolatedWallet = sent,
        }, "p");

        Assert.Equal(expected is null ? null : decimal.Parse(expected, System.Globalization.CultureInfo.InvariantCulture), view.IsolatedWallet);
    }
}
