using Grpc.Core;

namespace TradeEngine.Risk.KillSwitch;

/// <summary>
/// A Ledger call whose failure to connect (no address configured, connection refused) surfaces as UNAVAILABLE,
/// the status for an unreachable dependency, rather than as INTERNAL. Statuses the Ledger itself returns pass through.
/// </summary>
public static class LedgerCall
{
    public static async Task<T> Run<T>(Func<Task<T>> call)
    {
        ArgumentNullException.ThrowIfNull(call);
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is HttpRequestException or InvalidOperationException)
        {
            throw new RpcException(new Status(StatusCode.Unavailable, "The Ledger cannot be reached."), ex.Message);
        }
    }
}
