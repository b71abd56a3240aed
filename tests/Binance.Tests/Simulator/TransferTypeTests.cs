using System.Text.Json;
using TradeEngine.Binance.Models;
using TradeEngine.Binance.Tests.Infrastructure;

namespace TradeEngine.Binance.Tests.Simulator;

/// <summary>
/// The capital-flow income types besides TRANSFER (INTERNAL_TRANSFER, CROSS_COLLATERAL_TRANSFER,
/// STRATEGY_UMFUTURES_TRANSFER, COIN_SWAP_DEPOSIT, COIN_SWAP_WITHDRAW): booked by POST /paper/v1/transfer under the type
/// asked for, parsed by the real client, and read with the trading rows in one paged read of every type.
/// </summary>
public class TransferTypeTests : PaperTest
{
    private static readonly DateTimeOffset Start = new(2026, 1, 1, 0, 0, 1, TimeSpan.Zero);

    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?> { ["Paper:StartTime"] = Start.ToString("O") };

    [Theory]
    [InlineData("TRANSFER", IncomeType.Transfer, "40.5")]
    [InlineData("INTERNAL_TRANSFER", IncomeType.InternalTransfer, "-300")]
    [InlineData("CROSS_COLLATERAL_TRANSFER", IncomeType.CrossCollateralTransfer, "12.25")]
    [InlineData("STRATEGY_UMFUTURES_TRANSFER", IncomeType.StrategyUmFuturesTransfer, "-7.5")]
    [InlineData("COIN_SWAP_DEPOSIT", IncomeType.CoinSwapDeposit, "99.12345678")]
    [InlineData("COIN_SWAP_WITHDRAW", IncomeType.CoinSwapWithdraw, "-0.00000001")]
    public async Task Transfer_CapitalFlowType_BookedUnderItMovesTheWalletAndTheClientParsesIt(string type, IncomeType expected, string amountText)
    {
        var amount = decimal.Parse(amountText, System.Globalization.CultureInfo.InvariantCulture);
        var before = (await Client.GetBalancesAsync()).Single();

        var transfer = await Paper.TransferAsync(amount, type: type);

        Assert.Equal((type, before.CrossWalletBalance + amount), (transfer.IncomeType, transfer.CrossWalletBalance));
        Assert.Equal(before.CrossWalletBalance + amount, (await Client.GetBalancesAsync()).Single().CrossWalletBalance);
        // Asked for by its type: the client's query text is the venue's, and the row parses to the type.
        var row = (await Client.GetIncomeHistoryAsync(new IncomeQuery(IncomeType: expected, StartTime: Start.AddMinutes(-1))))
            .Single(i => i.TranId == transfer.TranId);
        Assert.Equal(("", expected, type, amount, "USDT", type, ""), (row.Symbol, row.IncomeType, row.RawIncomeType, row.Income, row.Asset, row.Info, row.TradeId));
        Assert.True(IncomeTypes.IsCapitalFlow(row.IncomeType));
        var (status, body) = await SignedHttp.SendAsync(Paper.Http, HttpMethod.Get, "fapi/v1/income", "incomeType=" + type + "&limit=1000&startTime=0");
        Assert.Equal(200, status);
        var raw = body.EnumerateArray().Single(r => r.GetProperty("tranId").GetInt64() == transfer.TranId);
        Assert.Equal((type, type), (raw.GetProperty("incomeType").GetString(), raw.GetProperty("info").GetString()));
    }

    /// <summary>
    /// Transfers of every capital-flow type between trades (each fill a COMMISSION row, the close a REALIZED_PNL one),
    /// read for the whole account with no type: every row once, in one request, oldest first, the transfers with their
    /// types and the trading rows with theirs; only the transfers are capital flows.
    /// </summary>
    [Fact]
    public async Task GetIncomeHistoryPagedAsync_NoType_TransfersOfEveryTypeMixedWithTradingRowsEachOnce()
    {
        await Client.PlaceOrderAsync(new NewOrder("BTCUSDT", OrderSide.Buy, OrderType.Market, 0.010m), "open");
        var transfers = new List<(long TranId, string Type)>();
        foreach (var (type, i) in IncomeTypes.CapitalFlows.Select((t, i) => (t, i)))
        {
            var text = CapitalFlowText(type);
            transfers.Add(((await Paper.TransferAsync(i % 2 == 0 ? 10m + i : -1m - i, type: text)).TranId, text));
        }

        await Paper.SetPriceAsync("BTCUSDT", 61_000m);
        await Client.PlaceOrderAsync(new NewOrder("BTCUSDT", OrderSide.Sell, OrderType.Market, 0.010m) { ReduceOnly = true }, "close");

        var before = await Paper.RequestCountAsync("GET /fapi/v1/income");
        var all = await Client.GetIncomeHistoryPagedAsync(null, null, Start.AddMinutes(-1), Start.AddHours(1)).ToListAsync();

        Assert.Equal(1, await Paper.RequestCountAsync("GET /fapi/v1/income") - before);
        Assert.Equal(all.Count, all.Select(e => (e.RawIncomeType, e.TranId)).Distinct().Count());
        Assert.Equal(all.Select(e => e.Time).Order(), all.Select(e => e.Time));
        Assert.Equal(2, all.Count(e => e.IncomeType == IncomeType.Commission));
        Assert.Single(all, e => e.IncomeType == IncomeType.RealizedPnl && e.Symbol == "BTCUSDT");
        foreach (var (tranId, type) in transfers)
        {
            Assert.Single(all, e => e.TranId == tranId && e.RawIncomeType == type && IncomeTypes.IsCapitalFlow(e.IncomeType));
        }

        // The opening balance (a TRANSFER) and the six above are the capital flows; the three trading rows are not.
        Assert.Equal(transfers.Count + 1, all.Count(e => IncomeTypes.IsCapitalFlow(e.IncomeType)));
        Assert.Equal(transfers.Count + 1 + 3, all.Count);
    }

    /// <summary>
    /// More rows of every type than a page holds (1,005 transfers cycling through the six capital-flow types, 150 to a
    /// millisecond, beside the opening balance), read with no type: the second page starts at the first one's last
    /// millisecond; each row once, oldest first, with its own type.
    /// </summary>
    [Fact]
    public async Task GetIncomeHistoryPagedAsync_NoTypeMoreRowsThanAPage_EachOnceInOrderWithItsType()
    {
        const int Transfers = 1_005;
        await Paper.SetClockSpeedAsync(0);
        var expected = new List<(long TranId, string Type)>();
        for (var i = 0; i < Transfers; i++)
        {
            var type = CapitalFlowText(IncomeTypes.CapitalFlows[i % IncomeTypes.CapitalFlows.Count]);
            expected.Add(((await Paper.TransferAsync(i % 2 == 0 ? 2m : -1m, type: type)).TranId, type));
            if (i % 150 == 149)
            {
                await Paper.AdvanceAsync(TimeSpan.FromMilliseconds(1));
            }
        }

        var before = await Paper.RequestCountAsync("GET /fapi/v1/income");
        var all = await Client.GetIncomeHistoryPagedAsync(null, null, Start.AddMinutes(-1), Start.AddHours(1)).ToListAsync();

        Assert.Equal(Transfers + 1, all.Count);
        Assert.Equal(expected, all.Skip(1).Select(e => (e.TranId, e.RawIncomeType)));
        Assert.Equal(all.Select(e => e.Time).Order(), all.Select(e => e.Time));
        Assert.Equal(2, await Paper.RequestCountAsync("GET /fapi/v1/income") - before);
    }

    /// <summary>A type the client does not name reads as Other with the venue's text kept, and is no capital flow.</summary>
    [Fact]
    public void Income_UnnamedType_OtherWithTheRawTextKept()
    {
        var dto = JsonSerializer.Deserialize(
            """[{"symbol":"","incomeType":"WELCOME_BONUS","income":"5.00000000","asset":"USDT","info":"WELCOME_BONUS","time":1767225601000,"tranId":7,"tradeId":""}]""",
            Internal.Dto.VenueJsonContext.Default.ListIncomeDto)!;

        var row = Internal.BinanceParse.Income(dto.Single());

        Assert.Equal((IncomeType.Other, "WELCOME_BONUS", 5m), (row.IncomeType, row.RawIncomeType, row.Income));
        Assert.False(IncomeTypes.IsCapitalFlow(row.IncomeType));
    }

    private static string CapitalFlowText(IncomeType type) => type switch
    {
        IncomeType.Transfer => "TRANSFER",
        IncomeType.InternalTransfer => "INTERNAL_TRANSFER",
        IncomeType.CrossCollateralTransfer => "CROSS_COLLATERAL_TRANSFER",
        IncomeType.StrategyUmFuturesTransfer => "STRATEGY_UMFUTURES_TRANSFER",
        IncomeType.CoinSwapDeposit => "COIN_SWAP_DEPOSIT",
        IncomeType.CoinSwapWithdraw => "COIN_SWAP_WITHDRAW",
        _ => throw new ArgumentOutOfRangeException(nameof(type)),
    };
}

/// <summary>
/// Binance keeps a tranId unique per income type only: two rows of different types may share one. The simulator never
/// gives one twice, so its saved state is edited to hold such a pair; the all-types paged read gives both.
/// </summary>
public sealed class IncomeTranIdAcrossTypesTests : IDisposable
{
    private static readonly DateTimeOffset Start = new(2026, 1, 1, 0, 0, 1, TimeSpan.Zero);
    private readonly string _dir = Directory.CreateTempSubdirectory("paper-types-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task GetIncomeHistoryPagedAsync_NoTypeTwoTypesShareATranId_BothGiven()
    {
        var file = Path.Combine(_dir, "paper.json");
        var settings = new Dictionary<string, string?> { ["Paper:StateFile"] = file };
        long shared;
        long other;
        await using (var first = await PaperExchangeHost.StartAsync(settings, start: Start, clockSpeed: 0))
        {
            shared = (await first.TransferAsync(5m)).TranId;
            other = (await first.TransferAsync(-2m, type: "INTERNAL_TRANSFER")).TranId;
        }

        var state = System.Text.Json.Nodes.JsonNode.Parse(await File.ReadAllTextAsync(file))!.AsObject();
        var income = state.Single(p => string.Equals(p.Key, "income", StringComparison.OrdinalIgnoreCase)).Value!.AsArray();
        var row = income.OfType<System.Text.Json.Nodes.JsonObject>()
            .Single(r => r.Single(p => string.Equals(p.Key, "tranId", StringComparison.OrdinalIgnoreCase)).Value!.GetValue<long>() == other);
        row[row.Single(p => string.Equals(p.Key, "tranId", StringComparison.OrdinalIgnoreCase)).Key] = shared;
        await File.WriteAllTextAsync(file, state.ToJsonString());

        await using var second = await PaperExchangeHost.StartAsync(settings, start: Start, clockSpeed: 0);
        var all = await second.CreateClient().GetIncomeHistoryPagedAsync(null, null, Start.AddMinutes(-1), Start.AddHours(1)).ToListAsync();

        Assert.Equal(
            [(IncomeType.Transfer, 5m), (IncomeType.InternalTransfer, -2m)],
            all.Where(e => e.TranId == shared).Select(e => (e.IncomeType, e.Income)));
    }
}
