using Grpc.Core;
using TradeEngine.Funding.Tests.Support;
using TradeEngine.Funding.V1;
using TradeEngine.PaperExchange.Control;
using TradeEngine.Testing;
using TradeEngine.Testing.Paper;
using TradeEngine.Testing.Servers;

namespace TradeEngine.Funding.Tests;

/// <summary>
/// Transfers into and out of the futures account, made on the venue (PaperExchange's /paper/v1/transfer), booked in the
/// real Ledger by Funding (BookTransfers, the poller) once each, keyed by the venue's tranId. The venue's opening balance
/// is a TRANSFER too (10,000 USDT at its start), so it is booked with them.
/// </summary>
/// <remarks>
/// The tests that read the Ledger's transfers need its LogTransfer and GetTransfers (being written on the Ledger's side):
/// until then the Ledger answers UNIMPLEMENTED, which BookTransfers reports as UNAVAILABLE.
/// </remarks>
[Collection(ServerCollection.Name)]
public sealed class TransferBookingTests(PostgresServer postgres, RabbitMqServer rabbit)
{
    private const decimal Opening = 10_000m;

    [Fact]
    public async Task BookTransfers_DepositAndWithdrawal_EachBookedOnceAndASecondCallBooksNone()
    {
        await using var world = await FundingWorld.StartAsync(postgres, rabbit);
        var deposit = await world.Paper.TransferAsync(500.25m);
        var withdrawal = await world.Paper.TransferAsync(-200m);

        var first = await world.Funding.BookTransfersAsync(new BookTransfersRequest());
        var second = await world.Funding.BookTransfersAsync(new BookTransfersRequest());

        Assert.Equal((3, Opening + 500.25m - 200m), (first.Booked, decimal.Parse(first.BookedNet, System.Globalization.CultureInfo.InvariantCulture)));
        Assert.Equal((0, "0"), (second.Booked, second.BookedNet));
        var booked = (await world.LedgerTransfersAsync()).Transfers;
        Assert.Equal(3, booked.Count);
        Assert.Single(booked, t => t.TranId == Id(deposit) && Amount(t.Amount) == 500.25m && t.Asset == "USDT" && t.Venue == "binance");
        Assert.Single(booked, t => t.TranId == Id(withdrawal) && Amount(t.Amount) == -200m);
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(deposit.Time), booked.Single(t => t.TranId == Id(deposit)).TransferredAt.ToDateTimeOffset());
    }

    [Fact]
    public async Task Poller_Transfer_BookedWithoutTheRpc()
    {
        await using var world = await FundingWorld.StartAsync(postgres, rabbit, funding: new Dictionary<string, string?>
        {
            ["Funding:Transfers:Enabled"] = "true",
            ["Funding:Transfers:PollSeconds"] = "1",
        });

        var deposit = await world.Paper.TransferAsync(75m);

        var booked = await Poll.UntilAsync(
            async () => (await world.LedgerTransfersAsync()).Transfers,
            t => t.Any(x => x.TranId == Id(deposit)));
        Assert.Single(booked, t => t.TranId == Id(deposit) && Amount(t.Amount) == 75m);
        Assert.Equal(0, (await world.Funding.BookTransfersAsync(new BookTransfersRequest())).Booked);
    }

    /// <summary>
    /// The Ledger's database refuses connections: BookTransfers is UNAVAILABLE naming the Ledger, and nothing is lost:
    /// the next run, once the Ledger is back, books the transfer (once).
    /// </summary>
    [Fact]
    public async Task BookTransfers_LedgerDown_UnavailableThenBookedOnTheNextRun()
    {
        await using var world = await FundingWorld.StartAsync(postgres, rabbit);
        var deposit = await world.Paper.TransferAsync(33m);
        await world.SetLedgerDatabaseReachableAsync(postgres, reachable: false);
        RpcException failed;
        try
        {
            failed = await Assert.ThrowsAsync<RpcException>(() => world.Funding.BookTransfersAsync(new BookTransfersRequest()).ResponseAsync);
        }
        finally
        {
            await world.SetLedgerDatabaseReachableAsync(postgres, reachable: true);
        }

        var next = await world.Funding.BookTransfersAsync(new BookTransfersRequest());

        Assert.Equal(StatusCode.Unavailable, failed.StatusCode);
        Assert.Contains("Ledger", failed.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(2, next.Booked);
        Assert.Single((await world.LedgerTransfersAsync()).Transfers, t => t.TranId == Id(deposit) && Amount(t.Amount) == 33m);
    }

    /// <summary>The venue answers 503 on income: UNAVAILABLE naming the venue, no key or secret in it.</summary>
    [Fact]
    public async Task BookTransfers_VenueUnavailable_UnavailableWithoutSecrets()
    {
        await using var world = await FundingWorld.StartAsync(postgres, rabbit);
        await world.Paper.TransferAsync(10m);
        await world.Paper.InjectFaultAsync(FaultKind.Unavailable, "/fapi/v1/income", count: 20);

        var ex = await Assert.ThrowsAsync<RpcException>(() => world.Funding.BookTransfersAsync(new BookTransfersRequest()).ResponseAsync);

        Assert.Equal(StatusCode.Unavailable, ex.StatusCode);
        Assert.Contains("venue", ex.Status.Detail, StringComparison.Ordinal);
        Assert.DoesNotContain(PaperExchangeHost.ApiKey, ex.Status.Detail, StringComparison.Ordinal);
        Assert.DoesNotContain(PaperExchangeHost.ApiSecret, ex.Status.Detail, StringComparison.Ordinal);
    }

    /// <summary>Without the venue's API credentials: FAILED_PRECONDITION saying so, and the venue's income is never asked for (the poller is off too).</summary>
    [Fact]
    public async Task BookTransfers_NoVenueCredentials_FailedPreconditionAndNoIncomeRead()
    {
        await using var world = await FundingWorld.StartAsync(postgres, rabbit, funding: new Dictionary<string, string?>
        {
            ["Binance:ApiKey"] = "",
            ["Binance:ApiSecret"] = "",
            ["Funding:Transfers:Enabled"] = "true",
            ["Funding:Transfers:PollSeconds"] = "1",
        });

        var ex = await Assert.ThrowsAsync<RpcException>(() => world.Funding.BookTransfersAsync(new BookTransfersRequest()).ResponseAsync);
        await Task.Delay(TimeSpan.FromSeconds(1.5));

        Assert.Equal(StatusCode.FailedPrecondition, ex.StatusCode);
        Assert.Contains("credentials", ex.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(0, await world.Paper.RequestCountAsync("GET /fapi/v1/income"));
    }

    [Theory]
    [InlineData("Funding:Transfers:LookBackDays", "0")]
    [InlineData("Funding:Transfers:LookBackDays", "91")]
    [InlineData("Funding:Transfers:PollSeconds", "0")]
    public async Task Start_TransferSettingOutOfRange_RefusedNamingIt(string key, string value)
    {
        await using var world = await FundingWorld.StartAsync(postgres, rabbit, startFunding: false, funding: new Dictionary<string, string?> { [key] = value });

        var ex = await Assert.ThrowsAsync<Microsoft.Extensions.Options.OptionsValidationException>(world.StartFundingAsync);

        Assert.Contains(key, ex.Message, StringComparison.Ordinal);
    }

    private static string Id(TradeEngine.PaperExchange.Engine.TransferResult transfer) =>
        transfer.TranId.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static decimal Amount(string text) => decimal.Parse(text, System.Globalization.CultureInfo.InvariantCulture);
}
