using Grpc.Core;
using TradeEngine.Ledger.Tests.Support;
using TradeEngine.Ledger.V1;
using TradeEngine.Testing.Servers;
using static TradeEngine.Ledger.Tests.Support.Requests;

namespace TradeEngine.Ledger.Tests;

/// <summary>
/// AmendPosition: an open record takes the leverage the venue now applies, with its PositionAmended event, once per
/// idempotency key; bad input, an unknown and a closed position are refused with nothing written.
/// </summary>
[Collection(LedgerCollection.Name)]
public sealed class AmendPositionTests(PostgresServer postgres, RabbitMqServer rabbit) : IAsyncLifetime
{
    private LedgerHost _ledger = null!;

    private LedgerService.LedgerServiceClient Client => _ledger.Client;

    public async Task InitializeAsync() => _ledger = await LedgerHost.StartAsync(postgres, rabbit);

    public async Task DisposeAsync() => await _ledger.DisposeAsync();

    private static AmendPositionRequest Amend(string positionId, int leverage = 10) =>
        new() { IdempotencyKey = Key(), PositionId = positionId, Leverage = leverage };

    [Fact]
    public async Task AmendPosition_OpenPosition_LeverageChangedRestKeptAndPositionAmendedPublished()
    {
        var opened = await Client.OpenPositionAsync(Open(quantity: "2", price: "100"));

        var amended = await Client.AmendPositionAsync(Amend(opened.PositionId, leverage: 10));

        Assert.False(amended.Replayed);
        Assert.Equal(10, amended.Leverage);
        var read = await Client.GetPositionAsync(new GetPositionRequest { PositionId = opened.PositionId });
        Assert.Equal(amended, read);
        var expected = opened.Clone();
        expected.Leverage = 10;
        Assert.Equal(expected, read);
        Assert.Equal(1, await _ledger.CountAsync("position_changes"));
        Assert.Equal(1, await _ledger.CountAsync(
            "outbox WHERE message_type = 'PositionAmended' AND aggregate_id = $1 AND (payload->>'PreviousLeverage')::int = 5 " +
            "AND (payload->>'Leverage')::int = 10 AND payload->>'Symbol' = 'BTCUSDT' AND payload->>'PositionId' = $1", opened.PositionId));
        await TradeEngine.Testing.Poll.UntilAsync(
            () => _ledger.ScalarAsync<long>("SELECT count(*) FROM outbox WHERE message_type = 'PositionAmended' AND sent_at IS NOT NULL"), n => n == 1);
    }

    /// <summary>
    /// The protective prices (a resumed open placing them on a record reconciliation adopted without them): leverage 0
    /// leaves the leverage, an empty price leaves that price, and the event carries the record's prices after the change.
    /// </summary>
    [Fact]
    public async Task AmendPosition_ProtectivePrices_TakenLeverageAndTheOtherPriceKeptAndPositionAmendedPublished()
    {
        var open = Open(quantity: "2", price: "100");
        open.TakeProfitPrice = "130";
        var opened = await Client.OpenPositionAsync(open);

        var amended = await Client.AmendPositionAsync(new AmendPositionRequest { IdempotencyKey = Key(), PositionId = opened.PositionId, StopLossPrice = "95.5" });

        var expected = opened.Clone();
        expected.StopLossPrice = "95.5";
        Assert.Equal(expected, amended);
        Assert.Equal(expected, await Client.GetPositionAsync(new GetPositionRequest { PositionId = opened.PositionId }));
        Assert.Equal(1, await _ledger.CountAsync(
            "outbox WHERE message_type = 'PositionAmended' AND aggregate_id = $1 AND (payload->>'PreviousLeverage')::int = 5 " +
            "AND (payload->>'Leverage')::int = 5 AND (payload->>'StopLossPrice')::numeric = 95.5 AND (payload->>'TakeProfitPrice')::numeric = 130",
            opened.PositionId));

        // The same prices again, under another key: nothing written but the key.
        var same = await Client.AmendPositionAsync(new AmendPositionRequest
        {
            IdempotencyKey = Key(), PositionId = opened.PositionId, StopLossPrice = "95.50", TakeProfitPrice = "130",
        });
        Assert.Equal(expected, same);
        Assert.Equal(1, await _ledger.CountAsync("outbox WHERE message_type = 'PositionAmended'"));
        Assert.Equal(1, await _ledger.CountAsync("position_changes"));
    }

    [Fact]
    public async Task AmendPosition_SameKeySamePayloadLater_FirstResultReplayedNothingWritten()
    {
        var opened = await Client.OpenPositionAsync(Open());
        var request = Amend(opened.PositionId, leverage: 10);
        var first = await Client.AmendPositionAsync(request);
        // Changed again under another key: the replay must answer the first result, not write 10 back.
        await Client.AmendPositionAsync(Amend(opened.PositionId, leverage: 20));

        var again = await Client.AmendPositionAsync(request);

        Assert.True(again.Replayed);
        again.Replayed = false;
        Assert.Equal(first, again);
        Assert.Equal(20, (await Client.GetPositionAsync(new GetPositionRequest { PositionId = opened.PositionId })).Leverage);
        Assert.Equal(2, await _ledger.CountAsync("outbox WHERE message_type = 'PositionAmended'"));
        Assert.Equal(2, await _ledger.CountAsync("idempotency_keys WHERE rpc = 'AmendPosition'"));
    }

    [Fact]
    public async Task AmendPosition_SameKeyDifferentPayload_AlreadyExistsNothingChanged()
    {
        var opened = await Client.OpenPositionAsync(Open());
        var request = Amend(opened.PositionId, leverage: 10);
        await Client.AmendPositionAsync(request);
        var changed = request.Clone();
        changed.Leverage = 20;

        var ex = await RpcAssert.FailsWith(StatusCode.AlreadyExists, () => Client.AmendPositionAsync(changed).ResponseAsync);

        Assert.Contains("idempotency_key", ex.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(1, await _ledger.CountAsync("positions WHERE leverage = 10"));
        Assert.Equal(1, await _ledger.CountAsync("outbox WHERE message_type = 'PositionAmended'"));
    }

    [Fact]
    public async Task AmendPosition_SameLeverageAsRecorded_NothingWrittenButTheKey()
    {
        var opened = await Client.OpenPositionAsync(Open());

        var same = await Client.AmendPositionAsync(Amend(opened.PositionId, leverage: 5));

        Assert.Equal(opened, same);
        Assert.Equal(0, await _ledger.CountAsync("outbox WHERE message_type = 'PositionAmended'"));
        Assert.Equal(1, await _ledger.CountAsync("idempotency_keys WHERE rpc = 'AmendPosition'"));
    }

    [Theory]
    [InlineData("idempotency_key", "")]
    [InlineData("idempotency_key", " k")]
    [InlineData("position_id", "")]
    [InlineData("position_id", "not-a-uuid")]
    [InlineData("position_id", "ABCDEF01-2345-6789-ABCD-EF0123456789")]
    [InlineData("leverage", "0")]
    [InlineData("leverage", "-1")]
    [InlineData("leverage", "126")]
    [InlineData("stop_loss_price", "0")]
    [InlineData("stop_loss_price", "-95")]
    [InlineData("stop_loss_price", "95,5")]
    [InlineData("take_profit_price", "1e3")]
    [InlineData("take_profit_price", " 130")]
    public async Task AmendPosition_BadField_InvalidArgumentNamingFieldNothingWritten(string field, string value)
    {
        var opened = await Client.OpenPositionAsync(Open());
        var request = Amend(opened.PositionId);
        switch (field)
        {
            case "idempotency_key": request.IdempotencyKey = value; break;
            case "position_id": request.PositionId = value; break;
            case "leverage": request.Leverage = int.Parse(value, System.Globalization.CultureInfo.InvariantCulture); break;
            case "stop_loss_price": request.StopLossPrice = value; break;
            case "take_profit_price": request.TakeProfitPrice = value; break;
        }

        await RpcAssert.InvalidArgument(field, () => Client.AmendPositionAsync(request).ResponseAsync);

        Assert.Equal(1, await _ledger.CountAsync("positions WHERE leverage = 5 AND stop_loss_price IS NULL AND take_profit_price IS NULL"));
        Assert.Equal(0, await _ledger.CountAsync("outbox WHERE message_type = 'PositionAmended'"));
        Assert.Equal(0, await _ledger.CountAsync("idempotency_keys WHERE rpc = 'AmendPosition'"));
    }

    [Fact]
    public async Task AmendPosition_UnknownPosition_NotFoundNothingWritten()
    {
        await RpcAssert.FailsWith(StatusCode.NotFound, () => Client.AmendPositionAsync(Amend(Guid.NewGuid().ToString())).ResponseAsync);

        Assert.Equal(0, await _ledger.CountAsync("idempotency_keys"));
        Assert.Equal(0, await _ledger.CountAsync("outbox"));
    }

    [Fact]
    public async Task AmendPosition_ClosedPosition_FailedPreconditionNothingWritten()
    {
        var opened = await Client.OpenPositionAsync(Open());
        await Client.ClosePositionAsync(Close(opened.PositionId));

        await RpcAssert.FailsWith(StatusCode.FailedPrecondition, () => Client.AmendPositionAsync(Amend(opened.PositionId)).ResponseAsync);

        Assert.Equal(1, await _ledger.CountAsync("positions WHERE leverage = 5 AND status = 'closed'"));
        Assert.Equal(0, await _ledger.CountAsync("outbox WHERE message_type = 'PositionAmended'"));
        Assert.Equal(0, await _ledger.CountAsync("idempotency_keys WHERE rpc = 'AmendPosition'"));
    }
}
