using Grpc.Core;
using Microsoft.Extensions.Options;
using TradeEngine.Funding.V1;
using TradeEngine.Risk.Options;

namespace TradeEngine.Risk.State;

/// <summary>
/// Asked before Risk latches the kill switch for a daily-loss or drawdown breach: have transfers into or out of the
/// account (deposits, withdrawals) happened that the Ledger has not booked yet? Day-start and peak equity are in today's
/// money only for the transfers the Ledger knows, so a withdrawal of profit that Funding's poller has not booked yet reads
/// as a loss of the same size, and would flatten every position and keep the switch on until an operator reset it.
/// </summary>
public interface ITransferCheck
{
    /// <summary>
    /// Has the venue's transfers booked in the Ledger now. The caller then reloads the Ledger's state from a read that
    /// starts after this (<see cref="RiskStateCache.RefreshAfterNowAsync"/>) and judges again, whatever this call booked:
    /// Funding's poller, another check or another Risk may have booked the transfer a moment before, after the state
    /// this process holds was read. When the transfers cannot be read in time, the reload still runs and a transfer not
    /// booked stays a loss (fail closed). Never throws but for the caller's own cancellation.
    /// </summary>
    Task BookNowAsync(CancellationToken cancellationToken);
}

/// <summary><see cref="ITransferCheck"/> through Funding's BookTransfers, bounded by <see cref="RiskOptions.TransferCheckSeconds"/>.</summary>
public sealed partial class FundingTransferCheck(
    FundingService.FundingServiceClient funding,
    IOptions<RiskOptions> options,
    ILogger<FundingTransferCheck> logger) : ITransferCheck
{
    private readonly TimeSpan _timeout = TimeSpan.FromSeconds(options.Value.TransferCheckSeconds);

    public async Task BookNowAsync(CancellationToken cancellationToken)
    {
        // Not under the hold limit of the check that asks (an open's, which holds its symbol's lock): a booking refused
        // for it would leave a withdrawal reading as a loss, and the kill switch latched on it. The ask is bounded by its
        // own TransferCheckSeconds instead.
        using var unbounded = Domain.VenueHoldLimit.Enter(null);
        try
        {
            var booked = await funding.BookTransfersAsync(
                new BookTransfersRequest(), deadline: DateTime.UtcNow.Add(_timeout), cancellationToken: cancellationToken).ConfigureAwait(false);
            if (booked.Booked > 0)
            {
                LogBooked(logger, booked.Booked, booked.BookedNet);
            }
        }
        catch (Exception ex) when (ex is RpcException or HttpRequestException or InvalidOperationException && !cancellationToken.IsCancellationRequested)
        {
            LogCheckFailed(logger, ex is RpcException rpc ? rpc.StatusCode.ToString() : ex.GetType().Name, ex is RpcException r ? r.Status.Detail : ex.Message);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Before a loss-limit latch: {Count} transfer(s) of net {Net} booked just now; judged again in today's money")]
    private static partial void LogBooked(ILogger logger, int count, string net);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Before a loss-limit latch: the venue's transfers could not be booked ({Status}: {Error}); judged on the transfers the Ledger has")]
    private static partial void LogCheckFailed(ILogger logger, string status, string error);
}
