using TradeEngine.Binance.Models;
using TradeEngine.Binance.Tests.Infrastructure;
using TradeEngine.Domain.Funding;

namespace TradeEngine.Binance.Tests.Simulator;

public class FundingTests : PaperTest
{
    private static readonly DateTimeOffset Start = new(2026, 1, 1, 0, 0, 1, TimeSpan.Zero);

    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?> { ["Paper:StartTime"] = Start.ToString("O") };

    [Fact]
    public async Task Funding_EachSymbolAtItsOwnInterval_SettlesWithTheMarkPriceAtThatTime()
    {
        await Paper.SetFundingRateAsync("BTCUSDT", 0.0001m);
        await Paper.SetFundingRateAsync("SOLUSDT", 0.0002m);
        await Client.PlaceOrderAsync(new NewOrder("BTCUSDT", OrderSide.Buy, OrderType.Market, 0.100m), "btc-long");
        await Client.PlaceOrderAsync(new NewOrder("SOLUSDT", OrderSide.Sell, OrderType.Market, 10m), "sol-short");

        await Paper.SetPriceAsync("SOLUSDT", 152m);
        await Paper.AdvanceAsync(TimeSpan.FromHours(4));      // 04:00:01 — SOL (4 h) settles, BTC (8 h) does not
        await Paper.SetPriceAsync("SOLUSDT", 160m);
        await Paper.SetPriceAsync("BTCUSDT", 61000m);
        await Paper.AdvanceAsync(TimeSpan.FromHours(4));      // 08:00:01 — both settle

        var funding = await Client.GetIncomeHistoryAsync(new IncomeQuery(IncomeType: IncomeType.FundingFee, StartTime: Start, EndTime: Start.AddDays(1)));
        var sol = funding.Where(f => f.Symbol == "SOLUSDT").ToList();
        var btc = funding.Where(f => f.Symbol == "BTCUSDT").ToList();
        Assert.Equal([Start.AddSeconds(-1).AddHours(4), Start.AddSeconds(-1).AddHours(8)], sol.Select(f => f.Time));
        // Income is the account's side (a short receives when the rate is positive): size x mark x rate, worked by hand
        // (not with Domain's FundingMath, which the simulator itself uses): 10 x 152 x 0.0002 = 0.304, 10 x 160 x 0.0002 = 0.32.
        Assert.Equal([0.304m, 0.32m], sol.Select(f => f.Income));
        Assert.Equal(Start.AddSeconds(-1).AddHours(8), btc.Single().Time);
        // A long pays: 0.1 x 61,000 x 0.0001 = 0.61.
        Assert.Equal(-0.61m, btc.Single().Income);

        var history = await Client.GetFundingRateHistoryAsync(new FundingRateQuery("SOLUSDT"));
        Assert.Equal([152m, 160m], history.Select(h => h.MarkPrice!.Value));
    }

    /// <summary>
    /// Ten days of 4-hourly settlements: two 7-day spans, each row once, oldest first, and the other symbol's rows and
    /// other income types left out.
    /// </summary>
    [Fact]
    public async Task GetIncomeHistoryPagedAsync_TenDays_EachSettlementOnceInOrderInTwoSpans()
    {
        await Client.PlaceOrderAsync(new NewOrder("SOLUSDT", OrderSide.Sell, OrderType.Market, 10m), "sol-short");
        await Client.PlaceOrderAsync(new NewOrder("BTCUSDT", OrderSide.Buy, OrderType.Market, 0.100m), "btc-long");
        for (var day = 0; day < 10; day++)
        {
            await Paper.AdvanceAsync(TimeSpan.FromDays(1));
        }

        // The simulated clock jumped ten days: the client's first signed request after it resyncs its clock (-1021, retried).
        await Client.GetIncomeHistoryAsync(new IncomeQuery("SOLUSDT", Limit: 1));
        var before = await Paper.RequestCountAsync("GET /fapi/v1/income");
        var sol = await Client.GetIncomeHistoryPagedAsync("SOLUSDT", IncomeType.FundingFee, Start, Start.AddDays(10)).ToListAsync();

        Assert.Equal(60, sol.Count);
        Assert.All(sol, e => Assert.Equal(("SOLUSDT", IncomeType.FundingFee), (e.Symbol, e.IncomeType)));
        Assert.Equal(sol.Select(e => e.Time).Order(), sol.Select(e => e.Time));
        Assert.Equal(60, sol.Select(e => e.TranId).Distinct().Count());
        Assert.Equal(Enumerable.Range(1, 60).Select(n => Start.AddSeconds(-1).AddHours(4 * n)), sol.Select(e => e.Time));
        Assert.Equal(2, await Paper.RequestCountAsync("GET /fapi/v1/income") - before);
    }

    /// <summary>
    /// More rows in one 7-day span than a page holds (1,005 commissions, 150 to a millisecond): the full first page ends
    /// inside the seventh millisecond, and the second read starts at that millisecond, leaving out its rows already given;
    /// every row once, oldest first.
    /// </summary>
    [Fact]
    public async Task GetIncomeHistoryPagedAsync_MoreThanAPageInOneSpan_ContinuesFromTheLastRowsMillisecondEachRowOnce()
    {
        const int Fills = 1_005;
        // The clock stopped, so the fills share a millisecond 150 at a time: the page's last row has 5 rows after it in
        // its own millisecond, which a read from the next millisecond would miss. It moves 10 s at a time, so the
        // venue's order-count window (300 in 10 s, on its clock) turns over and the client never waits on it.
        await Paper.SetClockSpeedAsync(0);
        for (var i = 0; i < Fills; i++)
        {
            await Client.PlaceOrderAsync(new NewOrder("SOLUSDT", i % 2 == 0 ? OrderSide.Buy : OrderSide.Sell, OrderType.Market, 1m), $"sol-{i}");
            if (i % 150 == 149)
            {
                await Paper.AdvanceAsync(TimeSpan.FromSeconds(10));
            }
        }

        await Paper.SetClockSpeedAsync(1);
        await Client.GetIncomeHistoryAsync(new IncomeQuery("SOLUSDT", Limit: 1));
        var before = await Paper.RequestCountAsync("GET /fapi/v1/income");
        var all = await Client.GetIncomeHistoryPagedAsync("SOLUSDT", IncomeType.Commission, Start, Start.AddDays(1)).ToListAsync();

        Assert.Equal(Fills, all.Count);
        Assert.Equal(Fills, all.Select(e => e.TranId).Distinct().Count());
        Assert.All(all, e => Assert.Equal(("SOLUSDT", IncomeType.Commission), (e.Symbol, e.IncomeType)));
        Assert.Equal(all.Select(e => e.Time).Order(), all.Select(e => e.Time));
        Assert.Equal([150, 150, 150, 150, 150, 150, 105], all.GroupBy(e => e.Time).Select(g => g.Count()));
        Assert.Equal(2, await Paper.RequestCountAsync("GET /fapi/v1/income") - before);
    }

    [Fact]
    public async Task Funding_IsolatedPosition_ComesOutOfItsIsolatedMargin()
    {
        await Client.ChangeMarginTypeAsync("ETHUSDT", TradeEngine.Domain.MarginType.Isolated);
        await Client.ChangeLeverageAsync("ETHUSDT", 10);
        await Client.PlaceOrderAsync(new NewOrder("ETHUSDT", OrderSide.Buy, OrderType.Market, 1.000m), "eth-iso");
        await Paper.SetFundingRateAsync("ETHUSDT", 0.001m);
        await Paper.AdvanceAsync(TimeSpan.FromHours(8));
        var position = (await Client.GetPositionsAsync("ETHUSDT")).Single();
        Assert.Equal(300m - 3m, position.IsolatedWallet);
    }
}
