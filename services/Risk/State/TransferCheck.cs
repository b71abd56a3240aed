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
    /// True when transfers were booked just now: the caller reloads the Ledger's state and judges again. False when there
    /// were none, or when they could not be read in time (the breach then latches as measured: fail closed). Never throws
    /// but for the caller's own cancellation.
    /// </summary>
    Task<bool> BookedNowAsync(CancellationToken cancellationToken);
}

/// <summary><see cref="ITransferCheck"/> through Funding's BookTransfers, bounded by <see cref="RiskOptions.TransferCheckSeconds"/>.</summary>
public sealed partial class FundingTransferCheck(
    FundingService.FundingServiceClient funding,
    IOptions<RiskOptions> options,
    ILogger<FundingTransferCheck> logger) : ITransferCheck
{
    private readonly TimeSpan _timeout = TimeSpan.FromSeconds(options.Value.TransferCheckSeconds);

    public async Task<bool> BookedNowAsync(CancellationToken cancellationToken)
    {
        try
        {
            var booked = await funding.BookTransfersAsync(
                new BookTransfersRequest(), deadline: DateTime.UtcNow.Add(_timeout), cancellationToken: cancellationToken).ConfigureAwait(false);
            if (booked.Booked > 0)
            {
                LogBooked(logger, booked.Booked, booked.BookedNet);
                return true;
            }

            return false;
        }
        catch (Exception ex) when (ex is RpcException or HttpRequestException or InvalidOperationException && !cancellationToken.IsCancellationRequested)
        {
            LogCheckFailed(logger, ex is RpcException rpc ? rpc.StatusCode.ToString() : ex.GetType().Name, ex is RpcException r ? r.Status.Detail : ex.Message);
            return false;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Before a loss-limit latch: {Count} transfer(s) of net {Net} booked just now; judging again in today's money")]
    private static partial void LogBooked(ILogger logger, int count, string net);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Before a loss-limit latch: the venue's transfers could not be booked ({Status}: {Error}); the breach latches as measured")]
    private static partial void LogCheckFailed(ILogger logger, string status, string error);
}
