using Google.Protobuf.WellKnownTypes;
using Google.Rpc;
using Grpc.Core;
using TradeEngine.Ledger.V1;
using Side = TradeEngine.Common.V1.Side;

namespace TradeEngine.EndToEnd.Tests;

/// <summary>
/// Bad input through the running system: INVALID_ARGUMENT naming the field, and nothing written.
/// The Ledger is the system of record, so "nothing changed" is checked there.
/// </summary>
[Collection(AppHostCollection.Name)]
public sealed class BadInputTests(AppHostFixture fixture)
{
    [Theory]
    [InlineData("1e5")]
    [InlineData("")]
    [InlineData("NaN")]
    [InlineData("1,5")]
    [InlineData("1234567890123456789012345678.9")]
    public async Task LogPnlSnapshot_MalformedBalance_InvalidArgumentAndNothingWritten(string balance)
    {
        var ledger = new LedgerService.LedgerServiceClient(fixture.Channel("ledger"));
        var key = $"bad-balance-{Guid.NewGuid():N}";

        var ex = await Assert.ThrowsAsync<RpcException>(() => ledger.LogPnlSnapshotAsync(new LogPnlSnapshotRequest
        {
            IdempotencyKey = key, Balance = balance, UnrealizedPnl = "0", RealizedPnl = "0", TotalPnl = "0",
            Equity = "1000000", TakenAt = Timestamp.FromDateTime(DateTime.UtcNow),
        }).ResponseAsync);

        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
        Assert.Contains(ex.GetRpcStatus()!.GetDetail<BadRequest>().FieldViolations, v => v.Field == "balance");
        // An equity of a million would be the peak if anything had been written.
        var peak = await ledger.GetPeakEquityAsync(new GetPeakEquityRequest());
        Assert.NotEqual("1000000", peak.PeakEquity);
    }

    [Fact]
    public async Task OpenPosition_UnspecifiedSide_InvalidArgumentAndNoPosition()
    {
        var ledger = new LedgerService.LedgerServiceClient(fixture.Channel("ledger"));

        var ex = await Assert.ThrowsAsync<RpcException>(() => ledger.OpenPositionAsync(new OpenPositionRequest
        {
            IdempotencyKey = $"bad-side-{Guid.NewGuid():N}", Account = "e2e", Venue = "bad-input-venue", Symbol = "BTCUSDT",
            Side = Side.Unspecified, Quantity = "0.001", EntryPrice = "50000", Leverage = 3,
            MarginType = Common.V1.MarginType.Isolated, Fee = "0", OpenedAt = Timestamp.FromDateTime(DateTime.UtcNow),
        }).ResponseAsync);

        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
        Assert.Contains(ex.GetRpcStatus()!.GetDetail<BadRequest>().FieldViolations, v => v.Field == "side");
        var open = await ledger.GetOpenPositionsAsync(new GetOpenPositionsRequest { Venue = "bad-input-venue" });
        Assert.Empty(open.Positions);
    }

    [Fact]
    public async Task LogRiskEvent_OversizedMessage_RefusedBySizeLimit()
    {
        var ledger = new LedgerService.LedgerServiceClient(fixture.Channel("ledger"));

        var ex = await Assert.ThrowsAsync<RpcException>(() => ledger.LogRiskEventAsync(new LogRiskEventRequest
        {
            IdempotencyKey = "oversized", EventType = "test", Reason = new string('x', 2 * 1024 * 1024),
        }).ResponseAsync);

        Assert.Equal(StatusCode.ResourceExhausted, ex.StatusCode);
    }
}
