using System.Collections.Concurrent;
using System.Globalization;
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

    public async Task RunAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        var settings = options.Value.Accrual;
        foreach (var (key, item) in _pending)
        {
            if (now - item.Time < TimeSpan.FromSeconds(settings.ReconcileAfterSeconds))
            {
                continue;
            }

            var income = await venue.GetIncomeHistoryAsync(
                new IncomeQuery(item.Symbol.Value, IncomeType.FundingFee, item.Time.AddMinutes(-1), item.Time.AddMinutes(1), 100),
                cancellationToken).ConfigureAwait(false);
            var venuePaid = -income.Sum(i => i.Income);
            var difference = Math.Abs(venuePaid - item.Payment);
            if (difference > settings.ReconciliationTolerance)
            {
                LogMismatch(logger, key.PositionId, item.Symbol.Value, item.Time, item.Payment, venuePaid);
                await ledger.LogRiskEventAsync(new LogRiskEventRequest
                {
                    IdempotencyKey = string.Create(CultureInfo.InvariantCulture, $"funding-recon:{key.PositionId}:{key.Ms}"),
                    EventType = "funding_reconciliation_mismatch",
                    Severity = RiskEventSeverity.Warning,
                    Reason = $"Posted funding {Wire.Format(item.Payment)} but the venue booked {Wire.Format(venuePaid)} for {item.Symbol} at {item.Time:O}",
                    Symbol = item.Symbol.Value,
                    MetricValue = Wire.Format(difference),
                    LimitValue = Wire.Format(settings.ReconciliationTolerance),
                    OccurredAt = Wire.Timestamp(now),
                }, cancellationToken: cancellationToken).ConfigureAwait(false);
            }

            _pending.TryRemove(key, out _);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Funding of position {PositionId} {Symbol} at {FundingTime}: posted {Posted}, venue booked {Venue}")]
    private static partial void LogMismatch(ILogger logger, string positionId, string symbol, DateTimeOffset fundingTime, decimal posted, decimal venue);
}
