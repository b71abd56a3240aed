using Grpc.Core;
using TradeEngine.Common.V1;
using TradeEngine.Ledger.Tests.Support;
using TradeEngine.Ledger.V1;
using TradeEngine.Testing.Servers;
using static TradeEngine.Ledger.Tests.Support.Requests;

namespace TradeEngine.Ledger.Tests;

/// <summary>LogTransfer and GetTransfers over real gRPC and PostgreSQL: exact amounts, idempotency, bad input, paging.</summary>
[Collection(LedgerCollection.Name)]
public sealed class TransferTests(PostgresServer postgres, RabbitMqServer rabbit) : IAsyncLifetime
{
    private static readonly TimeRange Everything = new() { Start = At(T0.AddDays(-30)), End = At(T0.AddDays(30)) };

    private LedgerHost _ledger = null!;

    private LedgerService.LedgerServiceClient Client => _ledger.Client;

    public async Task InitializeAsync() => _ledger = await LedgerHost.StartAsync(postgres, rabbit, relay: false);

    public async Task DisposeAsync() => await _ledger.DisposeAsync();

    [Fact]
    public async Task LogTransferAndGetTransfers_ExtremeDecimals_ReturnedExactly()
    {
        string[] amounts = [Tiny, "-" + Huge, "99999999999999999999.99999999", "-" + Tiny];
        var ids = new List<string>();
        for (var i = 0; i < amounts.Length; i++)
        {
            var logged = await Client.LogTransferAsync(Transfer(amounts[i], T0.AddMinutes(i)));
            Assert.False(logged.Replayed);
            ids.Add(logged.TransferId);
        }

        var read = await Client.GetTransfersAsync(new GetTransfersRequest { Range = Everything });

        Assert.Equal(amounts, read.Transfers.Select(t => t.Amount));
        Assert.Equal(ids, read.Transfers.Select(t => t.TransferId));
        Assert.Equal("99999999987654321098.87654321", read.TotalAmount);
        var first = read.Transfers[0];
        Assert.Equal(("binance", "USDT", T0), (first.Venue, first.Asset, first.TransferredAt.ToDateTimeOffset()));
        Assert.NotNull(first.RecordedAt);
        Assert.Equal(1, await _ledger.CountAsync("transfers WHERE amount::text = '-12345678901.12345678'"));
    }

    [Fact]
    public async Task LogTransfer_SameKeySamePayload_ReplayedAndOneRow()
    {
        var request = Transfer("100", T0);

        var first = await Client.LogTransferAsync(request);
        var again = await Client.LogTransferAsync(request);

        Assert.False(first.Replayed);
        Assert.True(again.Replayed);
        Assert.Equal(first.TransferId, again.TransferId);
        Assert.Equal(1, await _ledger.CountAsync("transfers"));
    }

    [Fact]
    public async Task LogTransfer_SameKeyOtherPayload_AlreadyExistsAndNothingChanged()
    {
        var request = Transfer("100", T0);
        await Client.LogTransferAsync(request);
        var other = request.Clone();
        other.Amount = "200";

        var ex = await RpcAssert.FailsWith(StatusCode.AlreadyExists, () => Client.LogTransferAsync(other).ResponseAsync);

        Assert.Contains("idempotency_key", ex.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(1, await _ledger.CountAsync("transfers"));
        Assert.Equal(1, await _ledger.CountAsync("transfers WHERE amount = 100"));
    }

    /// <summary>
    /// The venue's transfer arriving again with another key (a restart that lost its key) is the same transfer: answered
    /// with the first id, nothing booked, and the second key kept with that answer, so it stands for that transfer: the
    /// same request again replays it, and another transfer under it is ALREADY_EXISTS. Before, the second key was rolled
    /// back, and a later request under it booked another transfer (one key, two answers).
    /// </summary>
    [Fact]
    public async Task LogTransfer_SameTranIdOtherKeySamePayload_ReplayedWithFirstIdAndNothingWritten()
    {
        var request = Transfer("-250.5", T0);
        var first = await Client.LogTransferAsync(request);
        var other = request.Clone();
        other.IdempotencyKey = Key();
        other.Amount = "-250.50000000"; // the same amount, spelled otherwise

        var again = await Client.LogTransferAsync(other);

        Assert.True(again.Replayed);
        Assert.Equal(first.TransferId, again.TransferId);
        Assert.Equal(1, await _ledger.CountAsync("transfers"));
        Assert.Equal(2, await _ledger.CountAsync("idempotency_keys WHERE rpc = 'LogTransfer'"));

        var replayed = await Client.LogTransferAsync(other);
        Assert.Equal((first.TransferId, true), (replayed.TransferId, replayed.Replayed));
        var another = Transfer("75", T0.AddMinutes(1));
        another.IdempotencyKey = other.IdempotencyKey;
        var ex = await RpcAssert.FailsWith(StatusCode.AlreadyExists, () => Client.LogTransferAsync(another).ResponseAsync);
        Assert.Contains("idempotency_key", ex.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(1, await _ledger.CountAsync("transfers"));
    }

    [Theory]
    [InlineData("asset")]
    [InlineData("amount")]
    [InlineData("transferred_at")]
    public async Task LogTransfer_SameTranIdOtherKeyOtherPayload_AlreadyExistsNamingTranId(string changed)
    {
        await Client.LogPnlSnapshotAsync(PnlSnapshot("1000", T0.AddHours(1)));
        var request = Transfer("100", T0);
        await Client.LogTransferAsync(request);
        var other = request.Clone();
        other.IdempotencyKey = Key();
        switch (changed)
        {
            case "asset": other.Asset = "USDC"; break;
            case "amount": other.Amount = "100.00000001"; break;
            default: other.TransferredAt = At(T0.AddSeconds(1)); break;
        }

        var ex = await RpcAssert.FailsWith(StatusCode.AlreadyExists, () => Client.LogTransferAsync(other).ResponseAsync);

        Assert.Contains("tran_id", ex.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(1, await _ledger.CountAsync("transfers"));
        Assert.Equal(1, await _ledger.CountAsync("idempotency_keys WHERE rpc = 'LogTransfer'"));
        Assert.Equal(1, await _ledger.CountAsync("pnl_snapshots WHERE transfers_before = 100"));
    }

    [Fact]
    public async Task LogTransfer_SameTranIdOnAnotherVenue_BookedAsAnotherTransfer()
    {
        var request = Transfer("100", T0);
        var first = await Client.LogTransferAsync(request);
        var other = request.Clone();
        other.IdempotencyKey = Key();
        other.Venue = "bybit";

        var second = await Client.LogTransferAsync(other);

        Assert.False(second.Replayed);
        Assert.NotEqual(first.TransferId, second.TransferId);
        Assert.Equal(2, await _ledger.CountAsync("transfers"));
    }

    [Fact]
    public async Task LogTransfer_FiftyConcurrentCallsOneKey_OneRowAndOneAnswer()
    {
        await Client.LogPnlSnapshotAsync(PnlSnapshot("1000", T0.AddHours(1)));
        var request = Transfer("7", T0);

        var answers = await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => Client.LogTransferAsync(request).ResponseAsync));

        Assert.Single(answers.Select(a => a.TransferId).Distinct());
        Assert.Equal(1, answers.Count(a => !a.Replayed));
        Assert.Equal(1, await _ledger.CountAsync("transfers"));
        Assert.Equal(1, await _ledger.CountAsync("pnl_snapshots WHERE transfers_before = 7"));
    }

    [Fact]
    public async Task LogTransfer_ManyConcurrentCallsOneTranIdManyKeys_OneRowAndOneId()
    {
        var request = Transfer("7", T0);
        var calls = Enumerable.Range(0, 20).Select(_ =>
        {
            var call = request.Clone();
            call.IdempotencyKey = Key();
            return Client.LogTransferAsync(call).ResponseAsync;
        });

        var answers = await Task.WhenAll(calls);

        Assert.Single(answers.Select(a => a.TransferId).Distinct());
        Assert.Equal(1, answers.Count(a => !a.Replayed));
        Assert.Equal(1, await _ledger.CountAsync("transfers"));
    }

    [Theory]
    [InlineData("idempotency_key", "")]
    [InlineData("venue", "")]
    [InlineData("venue", "123456789012345678901234567890123")]
    [InlineData("venue", "bin ance")]
    [InlineData("tran_id", "")]
    [InlineData("tran_id", "12345678901234567890123456789012345678901234567890123456789012345")]
    [InlineData("tran_id", "12 3")]
    [InlineData("tran_id", "12\u00e93")]
    [InlineData("tran_id", "123\u200B")]
    [InlineData("asset", "")]
    [InlineData("asset", "usdt")]
    [InlineData("asset", "US-DT")]
    [InlineData("asset", "USDTUSDTUSDTUSDTU")]
    [InlineData("amount", "")]
    [InlineData("amount", "0")]
    [InlineData("amount", "-0.00000000")]
    [InlineData("amount", "0.000000001")]
    [InlineData("amount", "1e3")]
    [InlineData("amount", " 1")]
    [InlineData("amount", "1 ")]
    [InlineData("amount", "+1")]
    [InlineData("amount", "1,5")]
    [InlineData("amount", "100000000000000000000")]
    [InlineData("transferred_at", "missing")]
    [InlineData("transferred_at", "future")]
    public async Task LogTransfer_InvalidField_InvalidArgumentNamingItAndNothingWritten(string field, string value)
    {
        await Client.LogPnlSnapshotAsync(PnlSnapshot("1000", T0.AddHours(1)));
        var request = Transfer("100", T0);
        switch (field)
        {
            case "idempotency_key": request.IdempotencyKey = value; break;
            case "venue": request.Venue = value; break;
            case "tran_id": request.TranId = value; break;
            case "asset": request.Asset = value; break;
            case "amount": request.Amount = value; break;
            default: request.TransferredAt = value == "missing" ? null : At(DateTimeOffset.UtcNow.AddDays(2)); break;
        }

        await RpcAssert.InvalidArgument(field, () => Client.LogTransferAsync(request).ResponseAsync);

        Assert.Equal(0, await _ledger.CountAsync("transfers"));
        Assert.Equal(0, await _ledger.CountAsync("idempotency_keys WHERE rpc = 'LogTransfer'"));
        Assert.Equal(1, await _ledger.CountAsync("pnl_snapshots WHERE transfers_before = 0"));
    }

    /// <summary>The bounds themselves pass: a 64-character tran_id, a 16-character asset, a 32-character venue.</summary>
    [Fact]
    public async Task LogTransfer_EveryTextAtItsLimit_Booked()
    {
        var request = Transfer("1", T0, new string('~', 64));
        request.Asset = "USDT1234USDT1234";
        request.Venue = new string('v', 32);

        await Client.LogTransferAsync(request);

        Assert.Equal(1, await _ledger.CountAsync("transfers WHERE tran_id = $1 AND asset = $2", request.TranId, request.Asset));
    }

    [Fact]
    public async Task GetTransfers_VenueAndRange_PagesThroughAllWithTotalOverTheRange()
    {
        for (var i = 0; i < 5; i++)
        {
            await Client.LogTransferAsync(Transfer((i + 1).ToString(System.Globalization.CultureInfo.InvariantCulture), T0.AddHours(i)));
        }

        var elsewhere = Transfer("1000", T0.AddHours(1));
        elsewhere.Venue = "bybit";
        await Client.LogTransferAsync(elsewhere);
        await Client.LogTransferAsync(Transfer("10000", T0.AddDays(2))); // outside the range

        var request = new GetTransfersRequest
        {
            Venue = "binance", Range = new TimeRange { Start = At(T0), End = At(T0.AddDays(1)) }, Page = new PageRequest { PageSize = 2 },
        };
        var amounts = new List<string>();
        var pages = 0;
        do
        {
            var page = await Client.GetTransfersAsync(request);
            Assert.Equal("15", page.TotalAmount);
            amounts.AddRange(page.Transfers.Select(t => t.Amount));
            request.Page.PageToken = page.NextPageToken;
            pages++;
        }
        while (request.Page.PageToken.Length > 0);

        Assert.Equal(["1", "2", "3", "4", "5"], amounts);
        Assert.Equal(3, pages);

        var all = await Client.GetTransfersAsync(new GetTransfersRequest { Range = Everything });
        Assert.Equal(7, all.Transfers.Count);
        Assert.Equal("11015", all.TotalAmount);
    }

    [Fact]
    public async Task GetTransfers_TokenWithAnotherFilter_InvalidArgumentNamingPageToken()
    {
        await Client.LogTransferAsync(Transfer("1", T0));
        await Client.LogTransferAsync(Transfer("2", T0.AddHours(1)));
        var first = await Client.GetTransfersAsync(new GetTransfersRequest { Range = Everything, Page = new PageRequest { PageSize = 1 } });
        Assert.NotEmpty(first.NextPageToken);

        await RpcAssert.InvalidArgument("page.page_token", () => Client.GetTransfersAsync(new GetTransfersRequest
        {
            Venue = "bybit", Range = Everything, Page = new PageRequest { PageSize = 1, PageToken = first.NextPageToken },
        }).ResponseAsync);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1_000_000)]
    public async Task GetTransfers_PageSizeOutOfRange_InvalidArgumentNamingPageSize(int size)
    {
        await RpcAssert.InvalidArgument("page.page_size", () => Client.GetTransfersAsync(
            new GetTransfersRequest { Range = Everything, Page = new PageRequest { PageSize = size } }).ResponseAsync);
    }

    [Fact]
    public async Task GetTransfers_NoRange_InvalidArgumentNamingRangeStart()
    {
        await RpcAssert.InvalidArgument("range.start", () => Client.GetTransfersAsync(new GetTransfersRequest()).ResponseAsync);
    }
}
