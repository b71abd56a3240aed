using System.Globalization;
using System.Net.Http.Json;
using Aspire.Hosting.Testing;
using Google.Protobuf.WellKnownTypes;
using TradeEngine.Common.V1;
using TradeEngine.Ledger.V1;
using GetKillSwitchRequest = TradeEngine.Risk.V1.GetKillSwitchRequest;
using TradeEngine.Risk.V1;

namespace TradeEngine.EndToEnd.Tests.Risk;

/// <summary>
/// A withdrawal through the whole system started by the AppHost: PaperExchange moves 1,500 out of the account (a TRANSFER
/// income, as Binance books one), Funding books it in the Ledger, and Risk's margin monitor, which reads the account
/// through Execution every 5 s, does not take it for a loss: the kill switch stays off.
/// </summary>
[Collection(AppHostCollection.Name)]
public sealed class TransferEndToEndTests(AppHostFixture fixture)
{
    [Fact]
    public async Task Withdrawal_ThroughTheAppHost_BookedAndNoKillSwitch()
    {
        var ledger = new LedgerService.LedgerServiceClient(fixture.Channel("ledger"));
        var risk = new RiskService.RiskServiceClient(fixture.Channel("risk"));
        using var paper = new HttpClient { BaseAddress = fixture.App.GetEndpoint("paper-exchange", "http"), Timeout = TimeSpan.FromSeconds(30) };
        // The monitor's snapshots are the day's start and the peak: a withdrawal after them reads as a loss of its size.
        await WaitAsync(async () => !string.IsNullOrEmpty((await ledger.GetPeakEquityAsync(new GetPeakEquityRequest())).PeakEquity), "a PnL snapshot");
        Assert.False((await risk.GetKillSwitchAsync(new GetKillSwitchRequest())).Active);

        var withdrawal = await TransferAsync(paper, -1_500m);
        try
        {
            await WaitAsync(async () => (await TransfersAsync(ledger)).Any(t => t.TranId == withdrawal), "the withdrawal booked in the Ledger");
            var booked = (await TransfersAsync(ledger)).Single(t => t.TranId == withdrawal);
            Assert.Equal("-1500", booked.Amount);
            Assert.Equal("USDT", booked.Asset);

            // Past the 500 daily-loss and the 1,000 drawdown limits on the figures before the transfer: three monitor
            // ticks after the booking (each writes a snapshot) judge it in today's money.
            var bookedAt = booked.RecordedAt.ToDateTimeOffset();
            await WaitAsync(async () => await SnapshotsSinceAsync(ledger, bookedAt) >= 3, "three monitor ticks after the booking");
            var killSwitch = await risk.GetKillSwitchAsync(new GetKillSwitchRequest());
            Assert.False(killSwitch.Active, $"{killSwitch.Trigger}: {killSwitch.Reason}");
            var peak = await ledger.GetPeakEquityAsync(new GetPeakEquityRequest());
            Assert.True(Parse(peak.TransfersSincePeak) <= -1_500m, $"the peak's transfers since: {peak.TransfersSincePeak}");
        }
        finally
        {
            // The money back, booked before the tests that follow in this AppHost.
            var deposit = await TransferAsync(paper, 1_500m);
            await WaitAsync(async () => (await TransfersAsync(ledger)).Any(t => t.TranId == deposit), "the deposit booked in the Ledger");
        }
    }

    private static async Task<string> TransferAsync(HttpClient paper, decimal amount)
    {
        using var response = await paper.PostAsJsonAsync("paper/v1/transfer", new { amount, asset = "USDT" });
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        var body = await response.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>();
        return body.GetProperty("tranId").GetInt64().ToString(CultureInfo.InvariantCulture);
    }

    private static async Task<IReadOnlyList<TransferRecord>> TransfersAsync(LedgerService.LedgerServiceClient ledger) =>
        (await ledger.GetTransfersAsync(new GetTransfersRequest
        {
            Range = new TimeRange
            {
                Start = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddDays(-8)),
                End = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddDays(1)),
            },
            Page = new PageRequest { PageSize = 500 },
        })).Transfers;

    private static async Task<int> SnapshotsSinceAsync(LedgerService.LedgerServiceClient ledger, DateTimeOffset since) =>
        (await ledger.GetEquityCurveAsync(new GetEquityCurveRequest
        {
            Range = new TimeRange { Start = Timestamp.FromDateTimeOffset(since), End = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddMinutes(1)) },
            MaxPoints = 5000,
        })).Points.Count;

    private static decimal Parse(string text) => decimal.Parse(text, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture);

    private static async Task WaitAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "Timed out waiting for " + what);
            await Task.Delay(250);
        }
    }
}
