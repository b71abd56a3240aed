using Grpc.Core;
using TradeEngine.Ledger.Tests.Support;
using TradeEngine.Contracts.Events;
using TradeEngine.Testing.Servers;
using static TradeEngine.Ledger.Tests.Support.Requests;

namespace TradeEngine.Ledger.Tests;

[Collection(LedgerCollection.Name)]
public sealed class IdempotencyTests(PostgresServer postgres, RabbitMqServer rabbit) : IAsyncLifetime
{
    private LedgerHost _ledger = null!;

    public async Task InitializeAsync() => _ledger = await LedgerHost.StartAsync(postgres, rabbit);

    public async Task DisposeAsync() => await _ledger.DisposeAsync();

    [Fact]
    public async Task RecordTrade_FiftyConcurrentCallsOneKey_OneRowOneEvent()
    {
        await using var consumer = await EventConsumerHost.StartAsync(rabbit.ConnectionString, _ledger.Client);
        var request = Trade();

        var responses = await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => _ledger.Client.RecordTradeAsync(request).ResponseAsync));

        Assert.Single(responses.Select(r => r.TradeId).Distinct());
        Assert.Equal(1, responses.Count(r => !r.Replayed));
        Assert.Equal(1, await _ledger.CountAsync("trades"));
        Assert.Equal(1, await _ledger.CountAsync("outbox"));
        await consumer.Recorder.WaitForAsync(r => r.Count >= 1, TimeSpan.FromSeconds(15));
        await Task.Delay(500);
        var recorded = Assert.Single(consumer.Recorder.Of<TradeRecorded>());
        Assert.Equal(responses[0].TradeId, recorded.TradeId.ToString());
    }

    [Fact]
    public async Task OpenPosition_FiftyConcurrentCallsOneKey_OnePositionOneEvent()
    {
        var request = Open();

        var responses = await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => _ledger.Client.OpenPositionAsync(request).ResponseAsync));

        Assert.Single(responses.Select(r => r.PositionId).Distinct());
        Assert.All(responses, r => Assert.Equal("1", r.Quantity));
        Assert.Equal(49, responses.Count(r => r.Replayed));
        Assert.Equal(1, await _ledger.CountAsync("positions"));
        Assert.Equal(1, await _ledger.CountAsync("position_changes"));
        Assert.Equal(1, await _ledger.CountAsync("outbox"));
    }

    [Fact]
    public async Task RecordTrade_SameKeySamePayloadLater_FirstResultReplayedNothingWritten()
    {
        var request = Trade();
        var first = await _ledger.Client.RecordTradeAsync(request);

        var again = await _ledger.Client.RecordTradeAsync(request);

        Assert.True(again.Replayed);
        Assert.Equal(first.TradeId, again.TradeId);
        Assert.Equal(1, await _ledger.CountAsync("trades"));
        Assert.Equal(1, await _ledger.CountAsync("outbox"));
    }

    [Fact]
    public async Task RecordTrade_SameKeyDifferentPayload_AlreadyExistsNothingChanged()
    {
        var request = Trade();
        await _ledger.Client.RecordTradeAsync(request);
        var changed = request.Clone();
        changed.Quantity = "2";

        await RpcAssert.FailsWith(StatusCode.AlreadyExists, () => _ledger.Client.RecordTradeAsync(changed).ResponseAsync);

        Assert.Equal(1, await _ledger.CountAsync("trades WHERE quantity = 0.00000001"));
        Assert.Equal(1, await _ledger.CountAsync("outbox"));
    }

    [Fact]
    public async Task ClosePosition_SameKeyDifferentPayload_AlreadyExistsPositionUnchanged()
    {
        var opened = await _ledger.Client.OpenPositionAsync(Open());
        var close = new V1.ClosePositionRequest { IdempotencyKey = Key(), PositionId = opened.PositionId, ExitPrice = "110" };
        var closed = await _ledger.Client.ClosePositionAsync(close);
        var other = close.Clone();
        other.ExitPrice = "120";

        await RpcAssert.FailsWith(StatusCode.AlreadyExists, () => _ledger.Client.ClosePositionAsync(other).ResponseAsync);
        var replay = await _ledger.Client.ClosePositionAsync(close);

        Assert.True(replay.Replayed);
        Assert.Equal(closed.RealizedPnl, replay.RealizedPnl);
        Assert.Equal("10", replay.RealizedPnl);
        Assert.Equal(2, await _ledger.CountAsync("position_changes"));
    }

    [Fact]
    public async Task RecordTrade_OtherKeySameExchangeTradeId_AlreadyExists()
    {
        var request = Trade();
        await _ledger.Client.RecordTradeAsync(request);
        var other = request.Clone();
        other.ClientOrderId = Key();

        await RpcAssert.FailsWith(StatusCode.AlreadyExists, () => _ledger.Client.RecordTradeAsync(other).ResponseAsync);

        Assert.Equal(1, await _ledger.CountAsync("trades"));
        Assert.Equal(1, await _ledger.CountAsync("idempotency_keys"));
    }

    [Fact]
    public async Task RecordTrade_SameExchangeTradeIdOnAnotherSymbol_BothRecorded()
    {
        // Binance numbers trades per symbol: BTCUSDT's trade 5000001 and ETHUSDT's trade 5000001 are two fills.
        var btc = Trade();
        btc.ExchangeTradeId = "5000001";
        var eth = btc.Clone();
        eth.Symbol = "ETHUSDT";
        eth.ClientOrderId = Key();

        var first = await _ledger.Client.RecordTradeAsync(btc);
        var second = await _ledger.Client.RecordTradeAsync(eth);

        Assert.NotEqual(first.TradeId, second.TradeId);
        Assert.False(second.Replayed);
        Assert.Equal(2, await _ledger.CountAsync("trades WHERE exchange_trade_id = '5000001'"));
        Assert.True((await _ledger.Client.RecordTradeAsync(eth)).Replayed);
    }

    [Fact]
    public async Task LogFundingEvent_OtherKeySamePositionAndTime_AlreadyExistsCountedOnce()
    {
        var opened = await _ledger.Client.OpenPositionAsync(Open());
        var request = new V1.LogFundingEventRequest
        {
            IdempotencyKey = Key(), PositionId = opened.PositionId, Symbol = "BTCUSDT", Venue = "binance", FundingRate = "0.0001",
            PositionSize = "1", MarkPrice = "100", Notional = "100", Payment = "0.01", FundingTime = At(T0.AddHours(8)),
        };
        await _ledger.Client.LogFundingEventAsync(request);
        var other = request.Clone();
        other.IdempotencyKey = Key();

        await RpcAssert.FailsWith(StatusCode.AlreadyExists, () => _ledger.Client.LogFundingEventAsync(other).ResponseAsync);

        Assert.Equal(1, await _ledger.CountAsync("funding_events"));
        Assert.Equal(1, await _ledger.CountAsync("positions WHERE funding = 0.01"));
    }

    /// <summary>
    /// A retry that spells the position id in upper case is the same id in a second spelling: refused as bad input naming
    /// the field (a UUID has one canonical form), not ALREADY_EXISTS as if the caller had sent another settlement.
    /// </summary>
    [Fact]
    public async Task LogFundingEvent_RetryWithUpperCasePositionId_InvalidArgumentNamingPositionIdNothingWritten()
    {
        var opened = await _ledger.Client.OpenPositionAsync(Open());
        var request = FundingEvent(opened.PositionId, T0.AddHours(8));
        var first = await _ledger.Client.LogFundingEventAsync(request);
        var upper = request.Clone();
        upper.PositionId = opened.PositionId.ToUpperInvariant();

        await RpcAssert.InvalidArgument("position_id", () => _ledger.Client.LogFundingEventAsync(upper).ResponseAsync);
        await RpcAssert.InvalidArgument("position_id", () => _ledger.Client.GetPositionAsync(new V1.GetPositionRequest { PositionId = upper.PositionId }).ResponseAsync);
        await RpcAssert.InvalidArgument("event_id", () => _ledger.Client.CheckInboxAsync(
            new V1.CheckInboxRequest { Consumer = "c", EventId = Guid.NewGuid().ToString().ToUpperInvariant() }).ResponseAsync);

        var replay = await _ledger.Client.LogFundingEventAsync(request);
        Assert.True(replay.Replayed);
        Assert.Equal(first.FundingEventId, replay.FundingEventId);
        Assert.Equal(1, await _ledger.CountAsync("funding_events"));
        Assert.Equal(1, await _ledger.CountAsync("positions WHERE funding = 0.01"));
    }

    [Fact]
    public async Task RecordTrade_SecondFillOfOneOrder_BothRecordedEachReplayable()
    {
        // A market order that fills in two trades: one client order id, two exchange trade ids.
        var first = Trade();
        var second = Trade(first.ClientOrderId);
        second.Quantity = "0.00000002";

        var one = await _ledger.Client.RecordTradeAsync(first);
        var two = await _ledger.Client.RecordTradeAsync(second);
        var replay = await _ledger.Client.RecordTradeAsync(second);

        Assert.NotEqual(one.TradeId, two.TradeId);
        Assert.False(two.Replayed);
        Assert.True(replay.Replayed);
        Assert.Equal(two.TradeId, replay.TradeId);
        Assert.Equal(2, await _ledger.CountAsync("trades WHERE client_order_id = $1", first.ClientOrderId));
        Assert.Equal(2, await _ledger.CountAsync("outbox WHERE message_type = 'TradeRecorded'"));
    }

    [Fact]
    public async Task RecordTrade_SameFillOtherVenue_BothRecorded()
    {
        var request = Trade();
        var other = request.Clone();
        other.Venue = "paper";

        await _ledger.Client.RecordTradeAsync(request);
        var response = await _ledger.Client.RecordTradeAsync(other);

        Assert.False(response.Replayed);
        Assert.Equal(2, await _ledger.CountAsync("trades WHERE exchange_trade_id = $1", request.ExchangeTradeId));
    }
}
