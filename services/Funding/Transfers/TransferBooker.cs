using Grpc.Core;
using Microsoft.Extensions.Options;
using TradeEngine.Binance;
using TradeEngine.Binance.Errors;
using TradeEngine.Binance.Models;
using TradeEngine.Funding.Options;
using TradeEngine.Ledger.V1;
using TradeEngine.ServiceDefaults.Grpc;

namespace TradeEngine.Funding.Transfers;

/// <summary>What one run booked: the transfers newly booked (replays not counted) and their net, positive into the account.</summary>
public readonly record struct TransferRun(int Booked, decimal BookedNet);

/// <summary>
/// Books the venue's transfers into and out of the futures account in the Ledger (LogTransfer), so a deposit or a
/// withdrawal is not read as trading PnL. A transfer is income of any capital-flow type (<see cref="IncomeTypes.IsCapitalFlow"/>:
/// TRANSFER, INTERNAL_TRANSFER, CROSS_COLLATERAL_TRANSFER, STRATEGY_UMFUTURES_TRANSFER, COIN_SWAP_DEPOSIT,
/// COIN_SWAP_WITHDRAW), for the whole account: a withdrawal to a sub-account (INTERNAL_TRANSFER) is no loss either. Every
/// other type (REALIZED_PNL, FUNDING_FEE, COMMISSION, INSURANCE_CLEAR, rebates, bonuses, types the client does not name)
/// is PnL and not booked. Amount = the income (positive into the account), transferred_at = the income's time, keyed
/// <c>transfer:{venue}:{tranId}</c>, the tranId of a type other than TRANSFER prefixed with its type (<see cref="LedgerTranId"/>).
/// Only transfers of the account's margin asset (<see cref="FundingTransferOptions.Asset"/>, USDT) are booked: equity is the
/// account's USDT figures, and the Ledger sums transfers as money of that asset, so a BNB transfer (for the fee discount)
/// booked as its number of coins would hide a loss or read as a drawdown. Another asset's transfer is skipped with a
/// warning. A transfer the Ledger refuses (INVALID_ARGUMENT, FAILED_PRECONDITION: asking again would get the same answer)
/// is logged as an error and passed over, so it does not hold back the transfers after it.
/// </summary>
/// <remarks>
/// Each run makes one paged read of every income type (the endpoint weighs 30: one read per capital-flow type every
/// poll would spend six times that) and keeps the capital flows. The watermark (in memory) is where the next read starts, inclusive: at first <see cref="FundingTransferOptions.LookBackDays"/>
/// before now. A run that booked everything it read moves it to <see cref="FundingTransferOptions.ListingLagSeconds"/> before the
/// read's end (each entry up to there was booked; the overlap finds a transfer the venue lists late); a run that stopped at an entry
/// (the venue or the Ledger failed) leaves it, so that entry and the ones after it are read again. The entries booked
/// since the watermark are remembered, so reading them again costs no Ledger call, and a replay would be idempotent
/// anyway. One run at a time: the poller and BookTransfers share it.
/// </remarks>
public sealed partial class TransferBooker(
    IBinanceClient venue,
    LedgerService.LedgerServiceClient ledger,
    IOptions<FundingOptions> options,
    IOptions<BinanceOptions> venueOptions,
    TimeProvider time,
    ILogger<TransferBooker> logger) : IDisposable
{
    /// <summary>
    /// The longest window read in one request of every income type (a poll's: its interval plus the listing lag,
    /// <see cref="FundingTransferOptions.ListingLagSeconds"/>: about 10 minutes with the defaults); a longer one is read one capital-flow type at a time (six reads of weight 30 instead of every fill's rows).
    /// </summary>
    public static readonly TimeSpan AllTypesWindow = TimeSpan.FromHours(1);

    private readonly SemaphoreSlim _gate = new(1, 1);
    // By income type and tranId: Binance keeps a tranId unique per type only.
    private readonly Dictionary<(string Type, long TranId), DateTimeOffset> _done = [];
    private DateTimeOffset? _watermark;

    /// <summary>Transfers are read from the venue's signed income endpoint: without API credentials there is nothing to read.</summary>
    public bool HasCredentials => venueOptions.Value.HasCredentials;

    /// <summary>
    /// Reads the venue's transfers since the watermark and books each one not booked yet, oldest first. Throws
    /// <see cref="TransferBookingException"/> when the venue or the Ledger failed (what was booked before stays booked).
    /// </summary>
    public async Task<TransferRun> RunOnceAsync(CancellationToken cancellationToken)
    {
        if (!HasCredentials)
        {
            throw new InvalidOperationException("Transfers cannot be read without the venue's API credentials.");
        }

        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await RunLockedAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    public void Dispose() => _gate.Dispose();

    private async Task<TransferRun> RunLockedAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var to = time.GetUtcNow();
        var from = _watermark ??= to.AddDays(-settings.Transfers.LookBackDays);
        var entries = await ReadAsync(from, to, cancellationToken).ConfigureAwait(false);
        var booked = 0;
        var net = 0m;
        foreach (var entry in entries.OrderBy(e => e.Time).ThenBy(e => e.TranId))
        {
            if (_done.ContainsKey((entry.RawIncomeType, entry.TranId)))
            {
                continue;
            }

            if (!string.Equals(entry.Asset, settings.Transfers.Asset, StringComparison.Ordinal))
            {
                // Not the margin asset: equity (and every transfer the Ledger sums) is in it, so this one is not booked.
                LogOtherAssetSkipped(logger, settings.Venue, LedgerTranId(entry), entry.Asset, entry.Income, settings.Transfers.Asset);
                _done[(entry.RawIncomeType, entry.TranId)] = entry.Time;
                continue;
            }

            if (entry.Income == 0m)
            {
                // Nothing moved (the Ledger books no zero transfer): nothing to keep out of PnL.
                LogZeroSkipped(logger, settings.Venue, LedgerTranId(entry));
                _done[(entry.RawIncomeType, entry.TranId)] = entry.Time;
                continue;
            }

            if (await BookAsync(settings.Venue, entry, cancellationToken).ConfigureAwait(false))
            {
                booked++;
                net += entry.Income;
            }

            _done[(entry.RawIncomeType, entry.TranId)] = entry.Time;
        }

        // Every entry up to the read's end is booked: the next read starts the listing lag before it, so a transfer the
        // venue lists up to that late after its time is still read (those booked already cost no Ledger call).
        var next = to - TimeSpan.FromSeconds(settings.Transfers.ListingLagSeconds);
        if (next > from)
        {
            _watermark = next;
            foreach (var old in _done.Where(d => d.Value < next).Select(d => d.Key).ToList())
            {
                _done.Remove(old);
            }
        }

        return new TransferRun(booked, net);
    }

    private async Task<List<IncomeEntry>> ReadAsync(DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken)
    {
        var entries = new List<IncomeEntry>();
        try
        {
            if (to - from <= AllTypesWindow)
            {
                // A poll's short window: every type in one read, the capital flows kept (trading PnL, funding and fees
                // stay PnL).
                await foreach (var entry in venue.GetIncomeHistoryPagedAsync(null, null, from, to, cancellationToken).ConfigureAwait(false))
                {
                    if (IncomeTypes.IsCapitalFlow(entry.IncomeType))
                    {
                        entries.Add(entry);
                    }
                }
            }
            else
            {
                // The look-back (first run, or a run after failures): one read per capital-flow type. Every type over days
                // is every fill's commission and realized PnL, hundreds of pages on a busy account, and the run (which
                // BookTransfers waits for before a loss latch) would take minutes.
                foreach (var type in IncomeTypes.CapitalFlows)
                {
                    await foreach (var entry in venue.GetIncomeHistoryPagedAsync(null, type, from, to, cancellationToken).ConfigureAwait(false))
                    {
                        entries.Add(entry);
                    }
                }
            }
        }
        catch (BinanceException ex)
        {
            // The client's messages carry the venue's code and text, never a key or a signature.
            LogVenueFailed(logger, ex.GetType().Name, ex.Message);
            throw new TransferBookingException($"The venue's transfers could not be read ({ex.GetType().Name}); they are booked on a later run.", ex);
        }
        catch (Exception ex) when (ex is HttpRequestException || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            // Cannot be reached, or timed out (not the caller's cancellation): the same read is made on a later run.
            LogVenueFailed(logger, ex.GetType().Name, ex.Message);
            throw new TransferBookingException("The venue cannot be reached or did not answer in time; transfers are booked on a later run.", ex);
        }

        return entries;
    }

    /// <summary>
    /// The transfer's id in the Ledger, which keeps one transfer per venue and id: a TRANSFER row's tranId as it is (the
    /// form booked before the other capital-flow types were), any other type's prefixed with the type
    /// (<c>INTERNAL_TRANSFER:123</c>), as Binance keeps a tranId unique per income type only: two flows of different types
    /// sharing a tranId are two transfers, and keyed by the number alone the second was refused as the first's twin and
    /// never booked (read as PnL).
    /// </summary>
    public static string LedgerTranId(IncomeEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var number = entry.TranId.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return entry.IncomeType == IncomeType.Transfer ? number : entry.RawIncomeType + ":" + number;
    }

    /// <summary>
    /// Books one transfer; true when this call booked it, false when the Ledger had it already (a replay, or another
    /// payload: skipped) or refused it for good (INVALID_ARGUMENT, FAILED_PRECONDITION: passed over). Throws
    /// <see cref="TransferBookingException"/> when the Ledger failed for now (this entry and the ones after it are offered
    /// again on the next run).
    /// </summary>
    private async Task<bool> BookAsync(string venueName, IncomeEntry entry, CancellationToken cancellationToken)
    {
        var tranId = LedgerTranId(entry);
        try
        {
            var answer = await ledger.LogTransferAsync(new LogTransferRequest
            {
                IdempotencyKey = $"transfer:{venueName}:{tranId}",
                Venue = venueName,
                TranId = tranId,
                Asset = entry.Asset,
                Amount = Wire.Format(entry.Income),
                TransferredAt = Wire.Timestamp(entry.Time),
            }, cancellationToken: cancellationToken).ConfigureAwait(false);
            if (answer.Replayed)
            {
                return false;
            }

            LogBooked(logger, venueName, LedgerTranId(entry), entry.RawIncomeType, entry.Income, entry.Asset, entry.Time);
            return true;
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.AlreadyExists)
        {
            // Booked already with another payload (by hand, or an earlier venue answer): the Ledger keeps the first and
            // asking again would change nothing.
            LogConflict(logger, venueName, LedgerTranId(entry), ex.Status.Detail);
            return false;
        }
        catch (RpcException ex) when (ex.StatusCode is StatusCode.InvalidArgument or StatusCode.FailedPrecondition)
        {
            // The Ledger refuses this entry itself (a time too far ahead, an amount it cannot hold): asking again would get
            // the same answer, and stopping here would hold back every transfer after it. Passed over, for a person to see.
            LogLedgerRefused(logger, venueName, LedgerTranId(entry), ex.StatusCode, ex.Status.Detail);
            return false;
        }
        catch (RpcException ex) when (!cancellationToken.IsCancellationRequested)
        {
            // Any other answer (down, past the deadline, overloaded, not upgraded yet): this entry and the ones after it
            // are read and offered again on the next run, in order.
            LogLedgerFailed(logger, venueName, LedgerTranId(entry), ex.StatusCode, ex.Status.Detail);
            throw new TransferBookingException(
                $"The Ledger did not book transfer {tranId} ({ex.StatusCode}: {ex.Status.Detail}); it is booked on a later run.", ex);
        }
        catch (Exception ex) when (ex is HttpRequestException || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            // The call to the Ledger failed or timed out under the gRPC client (not the caller's cancellation): for now.
            LogLedgerUnreachable(logger, venueName, LedgerTranId(entry), ex.GetType().Name, ex.Message);
            throw new TransferBookingException(
                $"The Ledger did not book transfer {tranId} ({ex.GetType().Name}: it cannot be reached or did not answer in time); it is booked on a later run.", ex);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Booked transfer {Venue}:{TranId} ({IncomeType}) of {Amount} {Asset} at {Time}")]
    private static partial void LogBooked(ILogger logger, string venue, string tranId, string incomeType, decimal amount, string asset, DateTimeOffset time);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Transfer {Venue}:{TranId} is booked in the Ledger with another payload; skipped: {Error}")]
    private static partial void LogConflict(ILogger logger, string venue, string tranId, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The Ledger did not book transfer {Venue}:{TranId} ({Status}); retried next run: {Error}")]
    private static partial void LogLedgerFailed(ILogger logger, string venue, string tranId, StatusCode status, string error);

    [LoggerMessage(Level = LogLevel.Error, Message = "The Ledger refused transfer {Venue}:{TranId} ({Status}); not booked and not offered again: {Error}")]
    private static partial void LogLedgerRefused(ILogger logger, string venue, string tranId, StatusCode status, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The Ledger did not book transfer {Venue}:{TranId}; retried next run: {ErrorType}: {Error}")]
    private static partial void LogLedgerUnreachable(ILogger logger, string venue, string tranId, string errorType, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Transfer {Venue}:{TranId} of {Amount} {Asset} is not in the account's margin asset {MarginAsset}; not booked")]
    private static partial void LogOtherAssetSkipped(ILogger logger, string venue, string tranId, string asset, decimal amount, string marginAsset);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The venue's transfers could not be read; retried next run: {ErrorType}: {Error}")]
    private static partial void LogVenueFailed(ILogger logger, string errorType, string error);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Transfer {Venue}:{TranId} moved nothing; not booked")]
    private static partial void LogZeroSkipped(ILogger logger, string venue, string tranId);
}
