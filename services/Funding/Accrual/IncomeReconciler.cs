using System.Collections.Concurrent;
using System.Globalization;
using Grpc.Core;
using Microsoft.Extensions.Options;
using TradeEngine.Binance;
using TradeEngine.Binance.Models;
using TradeEngine.Domain;
using TradeEngine.Funding.Options;
using TradeEngine.Ledger.V1;
using TradeEngine.ServiceDefaults.Grpc;

namespace TradeEngine.Funding.Accrual;

/// <summary>
/// With a live account the venue's income history is the truth: once a posted settlement is
/// <see cref="FundingAccrualOptions.ReconcileAfterSeconds"/> old, the FUNDING_FEE income of its symbol at that
/// funding time is compared with our payment (income is signed from the account's side, so paid = −income); a
/// difference above <see cref="FundingAccrualOptions.ReconciliationTolerance"/> is logged as a risk event.
/// Off without API credentials (no account to compare with).
/// </summary>
public sealed partial class IncomeReconciler(
    IBinanceClient venue,
    LedgerService.LedgerServiceClient ledger,
    IOptions<FundingOptions> options,
    IOptions<Binance.BinanceOptions> venueOptions,
    ILogger<IncomeReconciler> logger)
{
    private readonly ConcurrentDictionary<(string PositionId, long Ms), (Symbol Symbol, DateTimeOffset Time, decimal Payment)> _pending = new();

    public bool Enabled => options.Value.Accrual.ReconcileIncome && venueOptions.Value.HasCredentials;

    public void Expect(string positionId, Symbol symbol, DateTimeOffset fundingTime, decimal payment)
    {
        if (Enabled)
        {
            _pending.TryAdd((positionId, fundingTime.ToUnixTimeMilliseconds()), (symbol, fundingTime, payment));
        }
    }

    /// <summary>
    /// Compares every due settlement with the venue's income. The venue is asked once per symbol for the span its due
    /// settlements cover (paged by the client, <see cref="Binance.BinanceClient.GetIncomeHistoryPagedAsync"/>), not once per settlement: after a restart
    /// every settlement of the backfill window is expected again (its posting replays), and 30 days of five 1 h symbols
    /// asked one by one were 3,600 calls of weight 30, far past the venue's budget of 2,400 a minute, which Execution's
    /// orders share.
    /// </summary>
    public async Task RunAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        var settings = options.Value.Accrual;
        var due = _pending.Where(p => now - p.Value.Time >= TimeSpan.FromSeconds(settings.ReconcileAfterSeconds))
            .GroupBy(p => p.Value.Symbol.Value, StringComparer.Ordinal);
        foreach (var symbol in due)
        {
            var items = symbol.OrderBy(p => p.Value.Time).ToList();
            List<IncomeEntry> income;
            try
            {
                income = await IncomeAsync(symbol.Key, items[0].Value.Time.AddMinutes(-1), items[^1].Value.Time.AddMinutes(1), cancellationToken)
                    .ConfigureAwait(false);
            }
            catch (Binance.Errors.BinanceException ex)
            {
                // One symbol's read failing (delisted, throttled) leaves its settlements for the next pass and holds up
                // no other symbol's.
                LogIncomeUnavailable(logger, symbol.Key, ex.Message);
                continue;
            }

            foreach (var (key, item) in items)
            {
                // The venue books a settlement at its funding time (to the second, or a little after): ±1 minute.
                var venuePaid = -income.Where(i => (i.Time - item.Time).Duration() <= TimeSpan.FromMinutes(1)).Sum(i => i.Income);
                var difference = Math.Abs(venuePaid - item.Payment);
                if (difference > settings.ReconciliationTolerance)
                {
                    LogMismatch(logger, key.PositionId, item.Symbol.Value, item.Time, item.Payment, venuePaid);
                    try
                    {
                        // Keyed by the settlement, dated at its funding time: the same mismatch found again (after a
                        // restart every posting of the backfill window is expected again) is the same write.
                        await ledger.LogRiskEventAsync(new LogRiskEventRequest
                        {
                            IdempotencyKey = string.Create(CultureInfo.InvariantCulture, $"funding-recon:{key.PositionId}:{key.Ms}"),
                            EventType = "funding_reconciliation_mismatch",
                            Severity = RiskEventSeverity.Warning,
                            Reason = $"Posted funding {Wire.Format(item.Payment)} but the venue booked {Wire.Format(venuePaid)} for {item.Symbol} at {item.Time:O}",
                            Symbol = item.Symbol.Value,
                            MetricValue = Wire.Format(difference),
                            LimitValue = Wire.Format(settings.ReconciliationTolerance),
                            OccurredAt = Wire.Timestamp(item.Time),
                        }, cancellationToken: cancellationToken).ConfigureAwait(false);
                    }
                    catch (RpcException ex) when (ex.StatusCode == StatusCode.AlreadyExists)
                    {
                        // This settlement's mismatch is on record already (found before a restart, with the venue's
                        // figure of then): it is not logged twice.
                    }
                    catch (RpcException ex) when (GrpcStatuses.IsTransient(ex) && !cancellationToken.IsCancellationRequested)
                    {
                        // The Ledger did not answer: the settlement stays pending for the next pass, and the others are
                        // not held up behind it.
                        LogMismatchUnrecorded(logger, key.PositionId, item.Symbol.Value, item.Time, ex.Status.Detail);
                        continue;
                    }
                    catch (RpcException ex) when (!cancellationToken.IsCancellationRequested)
                    {
                        // Refused for good (a figure the Ledger will never take): asking every pass would change nothing.
                        LogMismatchRefused(logger, key.PositionId, item.Symbol.Value, item.Time, ex.StatusCode, ex.Status.Detail);
                    }
                }

                _pending.TryRemove(key, out _);
            }
        }
    }

    /// <summary>The symbol's FUNDING_FEE income from <paramref name="from"/> to <paramref name="to"/>, every page of it.</summary>
    private async Task<List<IncomeEntry>> IncomeAsync(string symbol, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken)
    {
        var entries = new List<IncomeEntry>();
        await foreach (var entry in venue.GetIncomeHistoryPagedAsync(symbol, IncomeType.FundingFee, from, to, cancellationToken).ConfigureAwait(false))
        {
            entries.Add(entry);
        }

        return entries;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Income of {Symbol} could not be read for reconciliation; retried next pass: {Error}")]
    private static partial void LogIncomeUnavailable(ILogger logger, string symbol, string error);

    [LoggerMessage(Level = LogLevel.Error, Message = "The funding mismatch of position {PositionId} {Symbol} at {FundingTime} was refused by the Ledger ({Status}) and is dropped: {Error}")]
    private static partial void LogMismatchRefused(ILogger logger, string positionId, string symbol, DateTimeOffset fundingTime, StatusCode status, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The funding mismatch of position {PositionId} {Symbol} at {FundingTime} could not be recorded; retried next pass: {Error}")]
    private static partial void LogMismatchUnrecorded(ILogger logger, string positionId, string symbol, DateTimeOffset fundingTime, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Funding of position {PositionId} {Symbol} at {FundingTime}: posted {Posted}, venue booked {Venue}")]
    private static partial void LogMismatch(ILogger logger, string positionId, string symbol, DateTimeOffset fundingTime, decimal posted, decimal venue);
}
