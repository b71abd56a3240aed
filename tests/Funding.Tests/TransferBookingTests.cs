using System.Collections.Concurrent;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.Json.Nodes;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using TradeEngine.Binance;
using TradeEngine.Binance.Models;
using TradeEngine.Funding.Tests.Support;
using TradeEngine.Funding.V1;
using TradeEngine.PaperExchange.Control;
using TradeEngine.Testing;
using TradeEngine.Testing.Paper;
using TradeEngine.Testing.Servers;
using TradeEngine.Testing.Venue;

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

    /// <summary>
    /// The venue answers the income read 429 with a Retry-After longer than the client waits: RESOURCE_EXHAUSTED with the
    /// delay (google.rpc.RetryInfo), as Funding's other reads answer it, not an UNAVAILABLE retried at once into the same
    /// refusal; nothing is sent again meanwhile.
    /// </summary>
    [Fact]
    public async Task BookTransfers_VenueRateLimitBacksOffLongerThanTheClientWaits_ResourceExhaustedWithTheDelay()
    {
        await using var world = await FundingWorld.StartAsync(postgres, rabbit);
        await world.Paper.TransferAsync(10m);
        var before = await world.Paper.RequestCountAsync("GET /fapi/v1/income");
        await world.Paper.InjectFaultAsync(FaultKind.RateLimit, "/fapi/v1/income", retryAfterSeconds: 120);

        var ex = await Assert.ThrowsAsync<RpcException>(() => world.Funding.BookTransfersAsync(
            new BookTransfersRequest(), deadline: DateTime.UtcNow.AddSeconds(30)).ResponseAsync);
        var again = await Assert.ThrowsAsync<RpcException>(() => world.Funding.BookTransfersAsync(
            new BookTransfersRequest(), deadline: DateTime.UtcNow.AddSeconds(30)).ResponseAsync);

        Assert.Equal(StatusCode.ResourceExhausted, ex.StatusCode);
        Assert.StartsWith("transfers: the venue's rate limit holds the transfers' read back (nothing was sent); retry after", ex.Status.Detail, StringComparison.Ordinal);
        Assert.InRange(ServiceDefaults.Grpc.GrpcStatuses.RetryDelay(ex)!.Value, TimeSpan.FromSeconds(100), TimeSpan.FromSeconds(120));
        Assert.Equal(StatusCode.ResourceExhausted, again.StatusCode);
        Assert.Equal(before + 1, await world.Paper.RequestCountAsync("GET /fapi/v1/income"));
        Assert.Empty((await world.LedgerTransfersAsync()).Transfers);
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

    /// <summary>
    /// A transfer of BNB into the futures wallet (for the fee discount; the simulator moves only USDT, so its answer is
    /// rewritten): equity is the account's USDT, so only the USDT transfers are booked, never the BNB as dollars, and the
    /// BNB one is not read as new on the next run.
    /// </summary>
    [Fact]
    public async Task BookTransfers_TransferOfAnotherAsset_OnlyTheMarginAssetBookedAndTheOtherNotReadAgain()
    {
        var rows = new IncomeRows();
        await using var world = await FundingWorld.StartAsync(postgres, rabbit, rewriteVenueAnswer: rows.Rewrite);
        var bnb = await world.Paper.TransferAsync(7m);
        var usdt = await world.Paper.TransferAsync(20m);
        rows.Change(bnb.TranId, row => row["asset"] = "BNB");

        var first = await world.Funding.BookTransfersAsync(new BookTransfersRequest());
        var second = await world.Funding.BookTransfersAsync(new BookTransfersRequest());

        // The opening balance (a USDT transfer) and the USDT deposit; the BNB one is not booked.
        Assert.Equal((2, Opening + 20m), (first.Booked, Amount(first.BookedNet)));
        Assert.Equal((0, "0"), (second.Booked, second.BookedNet));
        var booked = (await world.LedgerTransfersAsync()).Transfers;
        Assert.Equal(2, booked.Count);
        Assert.All(booked, t => Assert.Equal("USDT", t.Asset));
        Assert.DoesNotContain(booked, t => t.TranId == Id(bnb));
        Assert.Single(booked, t => t.TranId == Id(usdt) && Amount(t.Amount) == 20m);
        Assert.True(rows.Served(bnb.TranId) >= 2, "the BNB row was in both answers");
    }

    /// <summary>
    /// Money moved by other capital-flow types than TRANSFER beside real trades: a withdrawal to a sub-account
    /// (INTERNAL_TRANSFER, which read as PnL was a loss that could latch the kill switch) and a coin swap's deposit
    /// (COIN_SWAP_DEPOSIT) are booked with their signed amounts, in the one income read of every type the run makes; the
    /// trades' REALIZED_PNL, COMMISSION and FUNDING_FEE rows, in the same answer, are PnL and not booked.
    /// </summary>
    [Fact]
    public async Task BookTransfers_InternalTransferAndCoinSwapBesideTrades_CapitalFlowsBookedTradingIncomeNot()
    {
        await using var world = await FundingWorld.StartAsync(postgres, rabbit);
        var venue = world.Paper.CreateClient();
        await world.Paper.SetFundingRateAsync("BTCUSDT", 0.0005m);
        await venue.PlaceOrderAsync(new NewOrder("BTCUSDT", OrderSide.Buy, OrderType.Market, 0.010m), "open");
        await world.Paper.AdvanceAsync(TimeSpan.FromHours(8));
        var withdrawal = await world.Paper.TransferAsync(-1_500m, type: "INTERNAL_TRANSFER");
        var swapIn = await world.Paper.TransferAsync(250.75m, type: "COIN_SWAP_DEPOSIT");
        await world.Paper.SetPriceAsync("BTCUSDT", 61_000m);
        await venue.PlaceOrderAsync(new NewOrder("BTCUSDT", OrderSide.Sell, OrderType.Market, 0.010m), "close");
        var income = await venue.GetIncomeHistoryPagedAsync(null, null, FundingWorld.Start.AddDays(-1), FundingWorld.Start.AddDays(1)).ToListAsync();
        Assert.Single(income, e => e.IncomeType == IncomeType.RealizedPnl && e.Income != 0m);
        Assert.Single(income, e => e.IncomeType == IncomeType.FundingFee && e.Income != 0m);
        Assert.Equal(2, income.Count(e => e.IncomeType == IncomeType.Commission && e.Income < 0m));
        var incomeReads = await world.Paper.RequestCountAsync("GET /fapi/v1/income");

        var run = await world.Funding.BookTransfersAsync(new BookTransfersRequest());

        // The first run's look-back (days): one read per capital-flow type, not every fill's rows.
        Assert.Equal(IncomeTypes.CapitalFlows.Count, await world.Paper.RequestCountAsync("GET /fapi/v1/income") - incomeReads);
        Assert.Equal((3, Opening - 1_500m + 250.75m), (run.Booked, Amount(run.BookedNet)));
        var booked = (await world.LedgerTransfersAsync()).Transfers;
        Assert.Equal(3, booked.Count);
        Assert.Single(booked, t => t.TranId == "INTERNAL_TRANSFER:" + Id(withdrawal) && Amount(t.Amount) == -1_500m && t.Asset == "USDT");
        Assert.Single(booked, t => t.TranId == "COIN_SWAP_DEPOSIT:" + Id(swapIn) && Amount(t.Amount) == 250.75m && t.Asset == "USDT");
        var trading = income.Where(e => e.IncomeType is IncomeType.RealizedPnl or IncomeType.Commission or IncomeType.FundingFee)
            .Select(e => e.TranId.ToString(CultureInfo.InvariantCulture)).ToHashSet();
        Assert.DoesNotContain(booked, t => trading.Contains(t.TranId.Split(':')[^1]));
    }

    /// <summary>
    /// A poll's short window after the look-back is read in one request of every income type: a withdrawal to a
    /// sub-account (INTERNAL_TRANSFER) made beside a trade is booked, and the trade's REALIZED_PNL and COMMISSION rows in
    /// the same answer are not.
    /// </summary>
    [Fact]
    public async Task BookTransfers_AfterTheLookBack_OneReadOfEveryTypeBooksTheCapitalFlowOnly()
    {
        await using var world = await FundingWorld.StartAsync(postgres, rabbit);
        var venue = world.Paper.CreateClient();
        var first = await world.Funding.BookTransfersAsync(new BookTransfersRequest());
        await venue.PlaceOrderAsync(new NewOrder("BTCUSDT", OrderSide.Buy, OrderType.Market, 0.010m), "open");
        var withdrawal = await world.Paper.TransferAsync(-300m, type: "INTERNAL_TRANSFER");
        await world.Paper.SetPriceAsync("BTCUSDT", 59_000m);
        await venue.PlaceOrderAsync(new NewOrder("BTCUSDT", OrderSide.Sell, OrderType.Market, 0.010m), "close");
        await world.Paper.AdvanceAsync(TimeSpan.FromSeconds(30));
        var incomeReads = await world.Paper.RequestCountAsync("GET /fapi/v1/income");

        var second = await world.Funding.BookTransfersAsync(new BookTransfersRequest());

        Assert.Equal((1, Opening), (first.Booked, Amount(first.BookedNet)));
        Assert.Equal(1, await world.Paper.RequestCountAsync("GET /fapi/v1/income") - incomeReads);
        Assert.Equal((1, -300m), (second.Booked, Amount(second.BookedNet)));
        var booked = (await world.LedgerTransfersAsync()).Transfers;
        Assert.Equal(2, booked.Count);
        Assert.Single(booked, t => t.TranId == "INTERNAL_TRANSFER:" + Id(withdrawal) && Amount(t.Amount) == -300m);
        var income = await venue.GetIncomeHistoryPagedAsync(null, null, FundingWorld.Start.AddDays(-1), FundingWorld.Start.AddDays(1)).ToListAsync();
        Assert.Single(income, e => e.IncomeType == IncomeType.RealizedPnl && e.Income != 0m);
        Assert.Equal(2, income.Count(e => e.IncomeType == IncomeType.Commission));
    }

    /// <summary>
    /// Binance keeps a tranId unique per income type only: a TRANSFER deposit and an INTERNAL_TRANSFER withdrawal under
    /// one tranId (the venue's answer rewritten to hold the pair; the simulator never repeats one) are two transfers, both
    /// booked. Keyed in the Ledger by the number alone, the second was refused as the first's twin (ALREADY_EXISTS) and its
    /// withdrawal read as a loss.
    /// </summary>
    [Fact]
    public async Task BookTransfers_TwoTypesShareATranId_BothBooked()
    {
        var rows = new IncomeRows();
        await using var world = await FundingWorld.StartAsync(postgres, rabbit, rewriteVenueAnswer: rows.Rewrite);
        var deposit = await world.Paper.TransferAsync(120m);
        var withdrawal = await world.Paper.TransferAsync(-70m, type: "INTERNAL_TRANSFER");
        rows.Change(withdrawal.TranId, row => row["tranId"] = deposit.TranId);

        var run = await world.Funding.BookTransfersAsync(new BookTransfersRequest());

        Assert.True(rows.Served(withdrawal.TranId) >= 1, "the withdrawal's row was served under the deposit's tranId");
        Assert.Equal((3, Opening + 120m - 70m), (run.Booked, Amount(run.BookedNet)));
        var booked = (await world.LedgerTransfersAsync()).Transfers;
        Assert.Single(booked, t => t.TranId == Id(deposit) && Amount(t.Amount) == 120m);
        Assert.Single(booked, t => t.TranId == "INTERNAL_TRANSFER:" + Id(deposit) && Amount(t.Amount) == -70m);
    }

    /// <summary>
    /// The Ledger refuses one transfer (an amount with 9 decimal places, which the venue client's strict parsing takes but
    /// the Ledger's money does not: INVALID_ARGUMENT): it is passed over, the transfer after it is booked by the same
    /// run, and the refused one is not offered again (the next run books nothing and fails nothing).
    /// </summary>
    [Fact]
    public async Task BookTransfers_LedgerRefusesOne_TheLaterOneBookedByTheSameRunAndTheRefusedOneNotRetried()
    {
        var rows = new IncomeRows();
        await using var world = await FundingWorld.StartAsync(postgres, rabbit, rewriteVenueAnswer: rows.Rewrite);
        var refused = await world.Paper.TransferAsync(33m);
        var later = await world.Paper.TransferAsync(44m);
        rows.Change(refused.TranId, row => row["income"] = "33.123456789");

        var first = await world.Funding.BookTransfersAsync(new BookTransfersRequest());
        var second = await world.Funding.BookTransfersAsync(new BookTransfersRequest());

        Assert.True(later.Time > refused.Time || later.TranId > refused.TranId, "the valid transfer comes after the refused one");
        Assert.Equal((2, Opening + 44m), (first.Booked, Amount(first.BookedNet)));
        Assert.Equal((0, "0"), (second.Booked, second.BookedNet));
        var booked = (await world.LedgerTransfersAsync()).Transfers;
        Assert.Equal(2, booked.Count);
        Assert.DoesNotContain(booked, t => t.TranId == Id(refused));
        Assert.Single(booked, t => t.TranId == Id(later) && Amount(t.Amount) == 44m);
    }

    /// <summary>
    /// The venue lists a deposit three minutes after its own time (the row left out of its income answers until then):
    /// the read after that still starts before the deposit's time (the listing lag, 10 minutes by default), so it is
    /// booked, once. Before, each read started a minute before the last one's end: a transfer listed later than that was
    /// never read again while Funding ran (a withdrawal read as a loss until a restart).
    /// </summary>
    [Fact]
    public async Task BookTransfers_TransferListedMinutesAfterItsTime_BookedByALaterRunOnce()
    {
        var rows = new IncomeRows();
        await using var world = await FundingWorld.StartAsync(postgres, rabbit, rewriteVenueAnswer: rows.Rewrite);
        var first = await world.Funding.BookTransfersAsync(new BookTransfersRequest());
        var late = await world.Paper.TransferAsync(55m);
        rows.Hide(late.TranId);

        await world.Paper.AdvanceAsync(TimeSpan.FromSeconds(90));
        var whileHidden = await world.Funding.BookTransfersAsync(new BookTransfersRequest());
        await world.Paper.AdvanceAsync(TimeSpan.FromSeconds(90));
        var stillHidden = await world.Funding.BookTransfersAsync(new BookTransfersRequest());
        await world.Paper.AdvanceAsync(TimeSpan.FromSeconds(10));
        rows.Show(late.TranId);
        var listed = await world.Funding.BookTransfersAsync(new BookTransfersRequest());
        await world.Paper.AdvanceAsync(TimeSpan.FromSeconds(10));
        var again = await world.Funding.BookTransfersAsync(new BookTransfersRequest());

        Assert.Equal((1, Opening), (first.Booked, Amount(first.BookedNet)));
        Assert.Equal((0, 0, 1, 0), (whileHidden.Booked, stillHidden.Booked, listed.Booked, again.Booked));
        Assert.True(rows.Hidden(late.TranId) >= 2, "the late deposit was left out of both reads before it was listed");
        Assert.Equal(55m, Amount(listed.BookedNet));
        var booked = (await world.LedgerTransfersAsync()).Transfers;
        Assert.Single(booked, t => t.TranId == Id(late) && Amount(t.Amount) == 55m);
        Assert.Equal(2, booked.Count);
    }

    /// <summary>
    /// The venue's income read times out (the HttpClient's TaskCanceledException, not the caller's cancellation):
    /// UNAVAILABLE naming the venue, and the transfers are booked on the next run.
    /// </summary>
    [Fact]
    public async Task BookTransfers_VenueReadTimesOut_UnavailableNamingTheVenueThenBooked()
    {
        var timeouts = 1;
        await using var world = await FundingWorld.StartAsync(postgres, rabbit, decorateVenue: venue => VenueProxy.Wrap(venue, (method, _, call) =>
            method.Name == nameof(IBinanceClient.GetIncomeHistoryPagedAsync) && Interlocked.Decrement(ref timeouts) >= 0
                ? TimedOut()
                : call()));
        var deposit = await world.Paper.TransferAsync(12m);

        var ex = await Assert.ThrowsAsync<RpcException>(() => world.Funding.BookTransfersAsync(new BookTransfersRequest()).ResponseAsync);
        var next = await world.Funding.BookTransfersAsync(new BookTransfersRequest());

        Assert.Equal(StatusCode.Unavailable, ex.StatusCode);
        Assert.Contains("venue", ex.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(2, next.Booked);
        Assert.Single((await world.LedgerTransfersAsync()).Transfers, t => t.TranId == Id(deposit));
    }

    /// <summary>
    /// The Ledger call fails under the gRPC client (a timeout of the HTTP handler, a dropped connection): UNAVAILABLE
    /// naming the Ledger, and the transfer is booked on the next run.
    /// </summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task BookTransfers_LedgerCallTimesOutOrDrops_UnavailableNamingTheLedgerThenBooked(bool timeout)
    {
        // Every attempt fails until the first run is over (the gRPC client's own retries on UNAVAILABLE included).
        var failing = new StrongBox<bool>(true);
        await using var world = await FundingWorld.StartAsync(postgres, rabbit, configureFunding: s =>
            s.AddHttpClient(nameof(Ledger.V1.LedgerService.LedgerServiceClient)).AddHttpMessageHandler(() => new FailingHandler(
                request => Volatile.Read(ref failing.Value) && request.RequestUri!.AbsolutePath.EndsWith("/LogTransfer", StringComparison.Ordinal)
                    ? timeout ? new TaskCanceledException("The request was canceled due to the configured HttpClient.Timeout.", new TimeoutException())
                        : new HttpRequestException(HttpRequestError.ConnectionError, "Connection refused")
                    : null)));
        var deposit = await world.Paper.TransferAsync(5m);

        var ex = await Assert.ThrowsAsync<RpcException>(() => world.Funding.BookTransfersAsync(new BookTransfersRequest()).ResponseAsync);
        Volatile.Write(ref failing.Value, false);
        var next = await world.Funding.BookTransfersAsync(new BookTransfersRequest());

        Assert.Equal(StatusCode.Unavailable, ex.StatusCode);
        Assert.Contains("Ledger", ex.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(2, next.Booked);
        Assert.Single((await world.LedgerTransfersAsync()).Transfers, t => t.TranId == Id(deposit));
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
    [InlineData("Funding:Transfers:ListingLagSeconds", "59")]
    [InlineData("Funding:Transfers:ListingLagSeconds", "1801")]
    [InlineData("Funding:Transfers:Asset", "usdt")]
    [InlineData("Funding:Transfers:Asset", "US DT")]
    public async Task Start_TransferSettingOutOfRange_RefusedNamingIt(string key, string value)
    {
        await using var world = await FundingWorld.StartAsync(postgres, rabbit, startFunding: false, funding: new Dictionary<string, string?> { [key] = value });

        var ex = await Assert.ThrowsAsync<Microsoft.Extensions.Options.OptionsValidationException>(world.StartFundingAsync);

        Assert.Contains(key, ex.Message, StringComparison.Ordinal);
    }

    private static async IAsyncEnumerable<IncomeEntry> TimedOut([EnumeratorCancellation] CancellationToken ct = default)
    {
        await Task.Yield();
        if (!ct.IsCancellationRequested)
        {
            // Not the caller's cancellation: the HttpClient's own timeout.
            throw new TaskCanceledException("The request was canceled due to the configured HttpClient.Timeout.", new TimeoutException());
        }

        ct.ThrowIfCancellationRequested();
        yield break;
    }

    /// <summary>Rewrites chosen rows (by tranId) of the venue's income answers, and counts how often each was served.</summary>
    private sealed class IncomeRows
    {
        private readonly ConcurrentDictionary<long, Action<JsonObject>> _changes = new();
        private readonly ConcurrentDictionary<long, int> _served = new();
        private readonly ConcurrentDictionary<long, int> _hidden = new();
        private readonly ConcurrentDictionary<long, bool> _shown = new();

        public void Change(long tranId, Action<JsonObject> change) => _changes[tranId] = change;

        /// <summary>Leaves the row out of every answer (the venue has not listed it yet) until <see cref="Show"/>.</summary>
        public void Hide(long tranId) => _hidden.TryAdd(tranId, 0);

        public void Show(long tranId) => _shown[tranId] = true;

        /// <summary>How many answers left the row out.</summary>
        public int Hidden(long tranId) => _hidden.GetValueOrDefault(tranId);

        public int Served(long tranId) => _served.GetValueOrDefault(tranId);

        public string Rewrite(string path, string body)
        {
            if (path != "/fapi/v1/income" || JsonNode.Parse(body) is not JsonArray rows)
            {
                return body;
            }

            foreach (var row in rows.OfType<JsonObject>().ToList())
            {
                var tranId = row["tranId"]!.GetValue<long>();
                if (_hidden.ContainsKey(tranId) && !_shown.ContainsKey(tranId))
                {
                    rows.Remove(row);
                    _hidden.AddOrUpdate(tranId, 1, (_, n) => n + 1);
                    continue;
                }

                if (_changes.TryGetValue(tranId, out var change))
                {
                    change(row);
                    _served.AddOrUpdate(tranId, 1, (_, n) => n + 1);
                }
            }

            return rows.ToJsonString();
        }
    }

    /// <summary>Throws what <c>fail</c> gives for a request (a timeout, a dropped connection) instead of sending it.</summary>
    private sealed class FailingHandler(Func<HttpRequestMessage, Exception?> fail) : DelegatingHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            fail(request) is { } ex ? Task.FromException<HttpResponseMessage>(ex) : base.SendAsync(request, cancellationToken);
    }

    private static string Id(TradeEngine.PaperExchange.Engine.TransferResult transfer) =>
        transfer.TranId.ToString(CultureInfo.InvariantCulture);

    private static decimal Amount(string text) => decimal.Parse(text, CultureInfo.InvariantCulture);
}
