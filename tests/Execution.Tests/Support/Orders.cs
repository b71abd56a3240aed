using Google.Rpc;
using Grpc.Core;
using TradeEngine.Common.V1;
using TradeEngine.Execution.V1;

namespace TradeEngine.Execution.Tests.Support;

/// <summary>Valid requests to start from; each test changes what it is about.</summary>
public static class Orders
{
    public static string NewId(string prefix = "t") => prefix + "-" + Guid.NewGuid().ToString("N")[..20];

    public static OpenPositionRequest Open(
        string symbol = "BTCUSDT", string quantity = "0.01", int leverage = 3, Side side = Side.Long,
        string stopLoss = "", string takeProfit = "", string? clientOrderId = null, MarginType marginType = MarginType.Cross) => new()
    {
        ClientOrderId = clientOrderId ?? NewId("open"),
        Symbol = symbol,
        Side = side,
        Quantity = quantity,
        Leverage = leverage,
        MarginType = marginType,
        StopLossPrice = stopLoss,
        TakeProfitPrice = takeProfit,
        Strategy = "test",
    };

    public static ClosePositionRequest Close(string symbol = "BTCUSDT") => new() { ClientOrderId = NewId("close"), Symbol = symbol, Reason = "test close" };

    public static async Task<RpcException> FailsWith(StatusCode code, Func<Task> call)
    {
        var ex = await Assert.ThrowsAsync<RpcException>(call);
        Assert.True(code == ex.StatusCode, $"Expected {code}, got {ex.StatusCode}: {ex.Status.Detail}");
        return ex;
    }

    /// <summary>INVALID_ARGUMENT with a google.rpc.BadRequest naming <paramref name="field"/>.</summary>
    public static async Task InvalidArgument(string field, Func<Task> call)
    {
        var ex = await FailsWith(StatusCode.InvalidArgument, call);
        var badRequest = ex.GetRpcStatus()?.GetDetail<BadRequest>();
        Assert.NotNull(badRequest);
        Assert.Contains(field, badRequest.FieldViolations.Select(v => v.Field));
    }
}
