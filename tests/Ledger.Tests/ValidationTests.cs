using TradeEngine.Common.V1;
using TradeEngine.Ledger.Tests.Support;
using TradeEngine.Ledger.V1;
using TradeEngine.Testing.Servers;
using static TradeEngine.Ledger.Tests.Support.Requests;

namespace TradeEngine.Ledger.Tests;

/// <summary>Bad input is INVALID_ARGUMENT naming the field, and nothing is written.</summary>
[Collection(LedgerCollection.Name)]
public sealed class ValidationTests(PostgresServer postgres, RabbitMqServer rabbit) : IAsyncLifetime
{
    private LedgerHost _ledger = null!;

    private LedgerService.LedgerServiceClient Client => _ledger.Client;

    public async Task InitializeAsync() => _ledger = await LedgerHost.StartAsync(postgres, rabbit);

    public async Task DisposeAsync() => await _ledger.DisposeAsync();

    [Theory]
    [InlineData("price", "abc")]
    [InlineData("price", "-1")]
    [InlineData("price", "0")]
    [InlineData("price", "1e5")]
    [InlineData("price", "1,5")]
    [InlineData("price", "0.000000001")]
    [InlineData("price", "123456789012345678901")]
    [InlineData("quantity", "-0.00000001")]
    [InlineData("quantity", "")]
    [InlineData("fee", "-0.1")]
    [InlineData("symbol", "BTCUSDTBTCUSDTBTCUSDTBTCUSDTBTCUS")]
    [InlineData("client_order_id", "")]
    [InlineData("position_id", "not-a-uuid")]
    public async Task RecordTrade_BadField_InvalidArgumentNamingFieldNothingWritten(string field, string value)
    {
        var request = Trade();
        switch (field)
        {
            case "price": request.Price = value; break;
            case "quantity": request.Quantity = value; break;
            case "fee": request.Fee = value; break;
            case "symbol": request.Symbol = value; break;
            case "client_order_id": request.ClientOrderId = value; break;
            case "position_id": request.PositionId = value; break;
        }

        await RpcAssert.InvalidArgument(field, () => Client.RecordTradeAsync(request).ResponseAsync);

        Assert.Equal(0, await _ledger.CountAsync("trades"));
        Assert.Equal(0, await _ledger.CountAsync("outbox"));
        Assert.Equal(0, await _ledger.CountAsync("idempotency_keys"));
    }

    [Fact]
    public async Task RecordTrade_UnspecifiedSide_InvalidArgumentNamingSide()
    {
        var request = Trade();
        request.Side = TradeSide.Unspecified;
        await RpcAssert.InvalidArgument("side", () => Client.RecordTradeAsync(request).ResponseAsync);
        Assert.Equal(0, await _ledger.CountAsync("trades"));
    }

    [Theory]
    [InlineData("quantity", "-1")]
    [InlineData("entry_price", "abc")]
    [InlineData("symbol", "ABCDEFGHIJKLMNOPQRSTUVWXYZ1234567")]
    [InlineData("leverage", "0")]
    [InlineData("idempotency_key", "")]
    public async Task OpenPosition_BadField_InvalidArgumentNothingWritten(string field, string value)
    {
        var request = Open();
        switch (field)
        {
            case "quantity": request.Quantity = value; break;
            case "entry_price": request.EntryPrice = value; break;
            case "symbol": request.Symbol = value; break;
            case "leverage": request.Leverage = int.Parse(value, System.Globalization.CultureInfo.InvariantCulture); break;
            case "idempotency_key": request.IdempotencyKey = value; break;
        }

        await RpcAssert.InvalidArgument(field, () => Client.OpenPositionAsync(request).ResponseAsync);

        Assert.Equal(0, await _ledger.CountAsync("positions"));
        Assert.Equal(0, await _ledger.CountAsync("idempotency_keys"));
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(1001)]
    [InlineData(1_000_000)]
    public async Task GetPositions_PageSizeOutOfRange_InvalidArgumentNamingPageSize(int size)
    {
        await RpcAssert.InvalidArgument("page.page_size", () => Client.GetPositionsAsync(
            new GetPositionsRequest { Page = new PageRequest { PageSize = size } }).ResponseAsync);
    }

    [Fact]
    public async Task GetPositions_PageSizeZero_UsesDefault()
    {
        var response = await Client.GetPositionsAsync(new GetPositionsRequest { Page = new PageRequest { PageSize = 0 } });
        Assert.Empty(response.Positions);
        Assert.Empty(response.NextPageToken);
    }

    [Fact]
    public async Task GetPositions_ForgedPageToken_InvalidArgumentNamingToken()
    {
        await RpcAssert.InvalidArgument("page.page_token", () => Client.GetPositionsAsync(
            new GetPositionsRequest { Page = new PageRequest { PageToken = "%%%" } }).ResponseAsync);
    }

    [Fact]
    public async Task GetFundingHistory_PageSizeMillion_InvalidArgument()
    {
        await RpcAssert.InvalidArgument("page.page_size", () => Client.GetFundingHistoryAsync(new GetFundingHistoryRequest
        {
            Range = new TimeRange { Start = At(T0), End = At(T0.AddDays(1)) }, Page = new PageRequest { PageSize = 1_000_000 },
        }).ResponseAsync);
    }

    [Fact]
    public async Task GetFundingHistory_EndBeforeStart_InvalidArgumentNamingRangeEnd()
    {
        await RpcAssert.InvalidArgument("range.end", () => Client.GetFundingHistoryAsync(new GetFundingHistoryRequest
        {
            Range = new TimeRange { Start = At(T0), End = At(T0.AddDays(-1)) },
        }).ResponseAsync);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(5001)]
    [InlineData(-3)]
    public async Task GetEquityCurve_MaxPointsOutOfRange_InvalidArgument(int maxPoints)
    {
        await RpcAssert.InvalidArgument("max_points", () => Client.GetEquityCurveAsync(new GetEquityCurveRequest
        {
            Range = new TimeRange { Start = At(T0), End = At(T0.AddDays(1)) }, MaxPoints = maxPoints,
        }).ResponseAsync);
    }

    [Fact]
    public async Task LogFundingEvent_MalformedPayment_InvalidArgumentNothingPosted()
    {
        var opened = await Client.OpenPositionAsync(Open());
        await RpcAssert.InvalidArgument("payment", () => Client.LogFundingEventAsync(new LogFundingEventRequest
        {
            IdempotencyKey = Key(), PositionId = opened.PositionId, Symbol = "BTCUSDT", Venue = "binance", FundingRate = "0.0001",
            PositionSize = "1", MarkPrice = "100", Notional = "100", Payment = "0.01.0", FundingTime = At(T0),
        }).ResponseAsync);
        Assert.Equal(0, await _ledger.CountAsync("funding_events"));
    }

    [Fact]
    public async Task LogFundingEvent_UnknownPosition_NotFoundNothingWritten()
    {
        await RpcAssert.FailsWith(Grpc.Core.StatusCode.NotFound, () => Client.LogFundingEventAsync(new LogFundingEventRequest
        {
            IdempotencyKey = Key(), PositionId = Guid.NewGuid().ToString(), Symbol = "BTCUSDT", Venue = "binance", FundingRate = "0.0001",
            PositionSize = "1", MarkPrice = "100", Notional = "100", Payment = "0.01", FundingTime = At(T0),
        }).ResponseAsync);
        Assert.Equal(0, await _ledger.CountAsync("idempotency_keys"));
    }

    [Fact]
    public async Task SetKillSwitch_ActiveWithoutTrigger_InvalidArgumentStateUnchanged()
    {
        await RpcAssert.InvalidArgument("trigger", () => Client.SetKillSwitchAsync(
            new SetKillSwitchRequest { IdempotencyKey = Key(), Active = true, Actor = "risk" }).ResponseAsync);
        Assert.Equal(0, await _ledger.CountAsync("kill_switch_history"));
    }

    [Fact]
    public async Task CheckInbox_EventIdNotUuid_InvalidArgumentNamingEventId()
    {
        await RpcAssert.InvalidArgument("event_id", () => Client.CheckInboxAsync(
            new CheckInboxRequest { Consumer = "c", EventId = "42" }).ResponseAsync);
    }
}
