using System.Net;
using System.Text;
using System.Text.Json;
using TradeEngine.Binance.Models;
using TradeEngine.Binance.Tests.Infrastructure;
using TradeEngine.PaperExchange.Engine;

namespace TradeEngine.Binance.Tests.Simulator;

/// <summary>
/// POST /paper/v1/transfer: deposits into and withdrawals from the futures account, booked as TRANSFER income with
/// Binance's shape, read through the real client (for the whole account, paged); tranIds never repeat.
/// </summary>
public class TransferTests : PaperTest
{
    private static readonly DateTimeOffset Start = new(2026, 1, 1, 0, 0, 1, TimeSpan.Zero);

    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?> { ["Paper:StartTime"] = Start.ToString("O") };

    [Fact]
    public async Task Transfer_Deposit_WalletAvailableAndAccountShowItAtOnceAndOneTransferRow()
    {
        var before = (await Client.GetBalancesAsync()).Single();

        var deposit = await Paper.TransferAsync(250.5m, "USDT");

        Assert.Equal(before.CrossWalletBalance + 250.5m, deposit.CrossWalletBalance);
        var after = (await Client.GetBalancesAsync()).Single();
        Assert.Equal(
            (before.Balance + 250.5m, before.CrossWalletBalance + 250.5m, before.AvailableBalance + 250.5m, before.MaxWithdrawAmount + 250.5m),
            (after.Balance, after.CrossWalletBalance, after.AvailableBalance, after.MaxWithdrawAmount));
        var account = await Client.GetAccountAsync();
        Assert.Equal((before.Balance + 250.5m, before.AvailableBalance + 250.5m), (account.TotalWalletBalance, account.AvailableBalance));
        var row = (await Client.GetIncomeHistoryAsync(new IncomeQuery(IncomeType: IncomeType.Transfer, StartTime: Start.AddMinutes(-1))))
            .Single(i => i.TranId == deposit.TranId);
        Assert.Equal(("", IncomeType.Transfer, "TRANSFER", 250.5m, "USDT", "TRANSFER", ""), (row.Symbol, row.IncomeType, row.RawIncomeType, row.Income, row.Asset, row.Info, row.TradeId));
        Assert.Equal(deposit.Time, row.Time.ToUnixTimeMilliseconds());
    }

    [Fact]
    public async Task Transfer_Withdrawal_LowersTheWalletAndBooksANegativeTransfer()
    {
        var withdrawal = await Paper.TransferAsync(-1234.56789012m);

        Assert.Equal(10_000m - 1234.56789012m, withdrawal.CrossWalletBalance);
        Assert.Equal(10_000m - 1234.56789012m, (await Client.GetAccountAsync()).TotalWalletBalance);
        var transfers = await Client.GetIncomeHistoryAsync(new IncomeQuery(IncomeType: IncomeType.Transfer, StartTime: Start.AddMinutes(-1)));
        Assert.Equal([10_000m, -1234.56789012m], transfers.Select(t => t.Income));
        Assert.Equal(withdrawal.TranId, transfers[^1].TranId);
        Assert.True(transfers[1].TranId > transfers[0].TranId);
    }

    [Theory]
    [InlineData("""{"amount":"0"}""", "amount")]
    [InlineData("""{"amount":0,"asset":"USDT"}""", "amount")]
    [InlineData("""{"asset":"USDT"}""", "amount")]
    [InlineData("""{"amount":"-10000.00000001"}""", "maxWithdrawAmount")]
    [InlineData("""{"amount":"0.000000001"}""", "8 decimals")]
    [InlineData("""{"amount":"5","asset":"BTC"}""", "asset")]
    [InlineData("""{"amount":"5","type":"REALIZED_PNL"}""", "type")]
    [InlineData("""{"amount":"-5","type":"COMMISSION"}""", "type")]
    [InlineData("""{"amount":"5","type":"internal_transfer"}""", "type")]
    [InlineData("""{"amount":"5","type":""}""", "type")]
    [InlineData("""{"amount":"ten"}""", null)]
    [InlineData("""not json""", null)]
    public async Task Transfer_RefusedRequest_400AndNothingChanged(string body, string? says)
    {
        var before = await StateAsync();

        using var response = await Paper.Http.PostAsync("paper/v1/transfer", new StringContent(body, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        if (says is not null)
        {
            Assert.Contains(says, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        Assert.Equal(before, await StateAsync());
    }

    /// <summary>
    /// With a cross position open, Binance lets withdraw only what is available beyond its margin (maxWithdrawAmount), not
    /// the whole wallet: a withdrawal above it is refused, one of exactly it is taken.
    /// </summary>
    [Fact]
    public async Task Transfer_WithdrawalAboveMaxWithdrawAmountWithAPositionOpen_RefusedButMaxWithdrawAmountTaken()
    {
        await Client.ChangeLeverageAsync("BTCUSDT", 2);
        await Client.PlaceOrderAsync(new NewOrder("BTCUSDT", OrderSide.Buy, OrderType.Market, 0.100m), "margin-held");
        var balance = (await Client.GetBalancesAsync()).Single();
        Assert.True(balance.MaxWithdrawAmount < balance.CrossWalletBalance - 1000m);
        var before = await StateAsync();

        using var refused = await Paper.Http.PostAsync(
            "paper/v1/transfer",
            new StringContent($$"""{"amount":"-{{balance.MaxWithdrawAmount + 0.00000001m}}"}""", Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Equal(before, await StateAsync());
        var taken = await Paper.TransferAsync(-balance.MaxWithdrawAmount);
        Assert.Equal(balance.CrossWalletBalance - balance.MaxWithdrawAmount, taken.CrossWalletBalance);
        Assert.Equal(0m, (await Client.GetBalancesAsync()).Single().MaxWithdrawAmount);
    }

    /// <summary>The row exactly as Binance documents GET /fapi/v1/income for a TRANSFER: every field, in order, with its JSON type.</summary>
    [Fact]
    public async Task Income_TransferRow_HasBinancesDocumentedShape()
    {
        var deposit = await Paper.TransferAsync(12.3m);

        var (status, body) = await SignedHttp.SendAsync(Paper.Http, HttpMethod.Get, "fapi/v1/income", "incomeType=TRANSFER&limit=1000&startTime=" + deposit.Time);

        Assert.Equal(200, status);
        var row = body.EnumerateArray().Single(r => r.GetProperty("tranId").GetInt64() == deposit.TranId);
        Assert.Equal(["symbol", "incomeType", "income", "asset", "info", "time", "tranId", "tradeId"], row.EnumerateObject().Select(p => p.Name));
        Assert.Equal(("", "TRANSFER", "12.30000000", "USDT", "TRANSFER", ""), (
            row.GetProperty("symbol").GetString(), row.GetProperty("incomeType").GetString(), row.GetProperty("income").GetString(),
            row.GetProperty("asset").GetString(), row.GetProperty("info").GetString(), row.GetProperty("tradeId").GetString()));
        Assert.Equal((JsonValueKind.Number, JsonValueKind.Number), (row.GetProperty("time").ValueKind, row.GetProperty("tranId").ValueKind));
        Assert.Equal(deposit.Time, row.GetProperty("time").GetInt64());
    }

    /// <summary>
    /// GET /fapi/v1/income's page parameter: page 2 of limit 2 is the third and fourth rows matched, a page past them is
    /// empty (one whose offset would overflow too), and page 0 is refused (-1130). Before, the simulator ignored it and answered the first page whatever was asked.
    /// </summary>
    [Fact]
    public async Task Income_Page_ServesThatPageOfTheRowsMatched()
    {
        var first = await Paper.TransferAsync(1m);
        var ids = new List<long> { first.TranId };
        for (var i = 2; i <= 5; i++)
        {
            ids.Add((await Paper.TransferAsync(i)).TranId);
        }

        async Task<IReadOnlyList<long>> PageAsync(int page)
        {
            var (status, body) = await SignedHttp.SendAsync(Paper.Http, HttpMethod.Get, "fapi/v1/income",
                $"incomeType=TRANSFER&limit=2&page={page}&startTime={first.Time}");
            Assert.Equal(200, status);
            return [.. body.EnumerateArray().Select(r => r.GetProperty("tranId").GetInt64())];
        }

        Assert.Equal(ids[..2], await PageAsync(1));
        Assert.Equal(ids[2..4], await PageAsync(2));
        Assert.Equal(ids[4..], await PageAsync(3));
        Assert.Empty(await PageAsync(4));
        var (farStatus, far) = await SignedHttp.SendAsync(Paper.Http, HttpMethod.Get, "fapi/v1/income",
            $"incomeType=TRANSFER&limit=1000&page=10000000000000000&startTime={first.Time}");
        Assert.Equal((200, 0), (farStatus, far.GetArrayLength()));
        var (refused, error) = await SignedHttp.SendAsync(Paper.Http, HttpMethod.Get, "fapi/v1/income", $"incomeType=TRANSFER&page=0&startTime={first.Time}");
        Assert.Equal(400, refused);
        Assert.Equal(-1130, error.GetProperty("code").GetInt32());
    }

    /// <summary>
    /// More transfers than a page holds (1,005 beside the opening balance, 150 to a millisecond), read for the whole
    /// account (no symbol): the second page starts at the first one's last millisecond; each row once, oldest first.
    /// </summary>
    [Fact]
    public async Task GetIncomeHistoryPagedAsync_NoSymbolMoreTransfersThanAPage_EachOnceInOrder()
    {
        const int Transfers = 1_005;
        await Paper.SetClockSpeedAsync(0);
        var ids = new List<long>();
        for (var i = 0; i < Transfers; i++)
        {
            ids.Add((await Paper.TransferAsync(i % 2 == 0 ? 2m : -1m)).TranId);
            if (i % 150 == 149)
            {
                await Paper.AdvanceAsync(TimeSpan.FromMilliseconds(1));
            }
        }

        var before = await Paper.RequestCountAsync("GET /fapi/v1/income");
        var all = await Client.GetIncomeHistoryPagedAsync(null, IncomeType.Transfer, Start.AddMinutes(-1), Start.AddHours(1)).ToListAsync();

        Assert.Equal(Transfers + 1, all.Count);
        Assert.Equal(ids, all.Skip(1).Select(e => e.TranId));
        Assert.Equal(all.Select(e => e.Time).Order(), all.Select(e => e.Time));
        Assert.Equal(2, await Paper.RequestCountAsync("GET /fapi/v1/income") - before);
    }

    /// <summary>Twelve days (two of the venue's 7-day spans): a transfer in each span, each found, in two requests.</summary>
    [Fact]
    public async Task GetIncomeHistoryPagedAsync_NoSymbolRangeLongerThanASpan_SplitIntoSpans()
    {
        await Paper.AdvanceAsync(TimeSpan.FromDays(3));
        var first = await Paper.TransferAsync(100m);
        await Paper.AdvanceAsync(TimeSpan.FromDays(6));
        var second = await Paper.TransferAsync(-50m);

        var before = await Paper.RequestCountAsync("GET /fapi/v1/income");
        var all = await Client.GetIncomeHistoryPagedAsync(null, IncomeType.Transfer, Start.AddDays(1), Start.AddDays(13)).ToListAsync();

        Assert.Equal([first.TranId, second.TranId], all.Select(e => e.TranId));
        Assert.Equal(2, await Paper.RequestCountAsync("GET /fapi/v1/income") - before);
    }

    /// <summary>
    /// A reset starts income again, but never its tranIds: a Ledger that outlives the reset would see the same id with
    /// another payload. The simulated clock is frozen at a fixed start, so the clock alone would not tell them apart.
    /// </summary>
    [Fact]
    public async Task Reset_TranIds_NeverRepeatedAndNeverBack()
    {
        await Paper.SetClockSpeedAsync(0);
        var beforeReset = await Paper.TransferAsync(5m);

        await Paper.ResetAsync();
        var opening = (await Client.GetIncomeHistoryAsync(new IncomeQuery(IncomeType: IncomeType.Transfer, StartTime: Start.AddMinutes(-1)))).Single();
        var afterReset = await Paper.TransferAsync(5m);

        Assert.True(opening.TranId > beforeReset.TranId);
        Assert.True(afterReset.TranId > opening.TranId);
        Assert.True(beforeReset.TranId >= 9_000_000_001);
    }

    /// <summary>
    /// A reset moves the wallet as a transfer would and books what it moved: nothing when the wallet already holds the
    /// balance, the difference otherwise. It booked the whole balance each time, which whatever books the venue's
    /// transfers (Funding, into a Ledger that outlives the reset) took as a deposit of 10,000 on every reset.
    /// </summary>
    [Fact]
    public async Task Reset_BooksWhatItMovedAsATransfer_NothingWhenTheWalletHoldsTheBalance()
    {
        await Paper.ResetAsync(10_000m);
        var same = await Client.GetIncomeHistoryAsync(new IncomeQuery(IncomeType: IncomeType.Transfer, StartTime: Start.AddMinutes(-1)));

        await Paper.ResetAsync(1_000m);
        var lower = await Client.GetIncomeHistoryAsync(new IncomeQuery(IncomeType: IncomeType.Transfer, StartTime: Start.AddMinutes(-1)));

        Assert.Empty(same);
        Assert.Equal([-9_000m], lower.Select(t => t.Income));
        Assert.Equal(1_000m, (await Client.GetAccountAsync()).TotalWalletBalance);
    }

    private async Task<string> StateAsync()
    {
        // The account and its income as the venue shows them: a refused transfer changes neither.
        var (_, balance) = await SignedHttp.SendAsync(Paper.Http, HttpMethod.Get, "fapi/v2/balance", "");
        var (_, income) = await SignedHttp.SendAsync(Paper.Http, HttpMethod.Get, "fapi/v1/income", "limit=1000&startTime=0");
        return RemoveUpdateTime(balance) + income.GetRawText();
    }

    private static string RemoveUpdateTime(JsonElement balance) =>
        string.Join(";", balance.EnumerateArray().SelectMany(a => a.EnumerateObject().Where(p => p.Name != "updateTime").Select(p => p.Name + "=" + p.Value)));
}

/// <summary>TranIds across simulator restarts: above every earlier run's with a fresh state, continued with a saved one.</summary>
public sealed class TransferRestartTests : IDisposable
{
    private static readonly DateTimeOffset Start = new(2026, 1, 1, 0, 0, 1, TimeSpan.Zero);
    private readonly string _dir = Directory.CreateTempSubdirectory("paper-transfer-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>
    /// The same fixed start and a frozen clock, no state file: the simulated clock is the same in both runs, yet the
    /// second run's ids (its opening balance's first) are above the first run's.
    /// </summary>
    [Fact]
    public async Task Restart_FreshStateSameFixedStart_TranIdsAboveTheEarlierRuns()
    {
        long last;
        await using (var first = await PaperExchangeHost.StartAsync(start: Start, clockSpeed: 0))
        {
            await first.TransferAsync(7m);
            last = (await first.TransferAsync(-3m)).TranId;
        }

        await using var second = await PaperExchangeHost.StartAsync(start: Start, clockSpeed: 0);
        var opening = (await second.CreateClient().GetIncomeHistoryAsync(new IncomeQuery(IncomeType: IncomeType.Transfer, StartTime: Start.AddMinutes(-1)))).Single();
        var next = await second.TransferAsync(7m);

        Assert.True(opening.TranId > last, $"{opening.TranId} > {last}");
        Assert.True(next.TranId > opening.TranId);
    }

    [Fact]
    public async Task Restart_WithStateFile_KeepsTransfersAndContinuesTheirIds()
    {
        var settings = new Dictionary<string, string?> { ["Paper:StateFile"] = Path.Combine(_dir, "paper.json") };
        TransferResult deposit;
        await using (var first = await PaperExchangeHost.StartAsync(settings, start: Start))
        {
            deposit = await first.TransferAsync(42.5m);
        }

        await using var second = await PaperExchangeHost.StartAsync(settings, start: Start);
        var client = second.CreateClient();
        var transfers = await client.GetIncomeHistoryAsync(new IncomeQuery(IncomeType: IncomeType.Transfer, StartTime: Start.AddMinutes(-1)));
        var next = await second.TransferAsync(-2.5m);

        Assert.Equal([10_000m, 42.5m], transfers.Select(t => t.Income));
        Assert.Equal((deposit.TranId, "USDT"), (transfers[^1].TranId, transfers[^1].Asset));
        Assert.True(next.TranId > deposit.TranId);
        Assert.Equal(10_040m, next.CrossWalletBalance);
    }
}
