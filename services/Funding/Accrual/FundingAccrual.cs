using Grpc.Core;
using Microsoft.Extensions.Options;
using TradeEngine.Binance;
using TradeEngine.Domain;
using TradeEngine.Domain.Funding;
using TradeEngine.Funding.Market;
using TradeEngine.Funding.Options;
using TradeEngine.Ledger.V1;
using TradeEngine.ServiceDefaults.Grpc;

namespace TradeEngine.Funding.Accrual;

/// <summary>
/// One accrual pass: every open position in the Ledger, and every one closed within the backfill window, gets a funding
/// event for each settlement the venue lists for its symbol between its opening (or <see cref="FundingAccrualOptions.MaxBackfillDays"/>
/// ago) and now (or its close), at the settled rate and
/// the mark price the venue reports for that funding time: payment = signed size × mark × rate (Domain's
/// <see cref="FundingMath.SettlementAmount"/>; positive when we pay). The event is keyed by position and funding
/// time, so however often a pass runs, after however long a downtime, each settlement is posted once.
/// </summary>
/// <remarks>
/// The size used is the position's size at the funding time, from the Ledger's journal of its opens, adds and reduces
/// (GetPositionSizeAt): a position added to or reduced after a missed settlement is backfilled at the size it had then.
/// With a live account, <see cref="IncomeReconciler"/> compares against the venue's income.
/// </remarks>
public sealed partial class FundingAccrual(
    LedgerService.LedgerServiceClient ledger,
    IBinanceClient venue,
    FundingMarketData market,
    IncomeReconciler reconciler,
    TimeProvider time,
    IOptions<FundingOptions> options,
    ILogger<FundingAccrual> logger)
{
    private readonly HashSet<(string PositionId, long FundingTimeMs)> _posted = [];

    /// <summary>Runs one pass; returns how many settlements were newly posted (replays not counted).</summary>
    /// <remarks>
    /// Each symbol is accrued on its own: one that fails is logged and left due, and the other symbols and the
    /// reconciliation still run (unless the pass is being cancelled).
    /// </remarks>
    public async Task<int> RunOnceAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var settings = options.Value;
        var open = await ledger.GetOpenPositionsAsync(new GetOpenPositionsRequest { Venue = settings.Venue }, cancellationToken: cancellationToken)
            .ConfigureAwait(false);
        // Positions closed within the backfill window too: one closed while this service was down still owes (or earned)
        // the settlements between the last pass and its close.
        var positions = open.Positions.ToList();
        positions.AddRange(await ClosedSinceAsync(now.AddDays(-settings.Accrual.MaxBackfillDays), cancellationToken).ConfigureAwait(false));
        var posted = 0;
        foreach (var bySymbol in positions.GroupBy(p => p.Symbol, StringComparer.Ordinal))
        {
            try
            {
                posted += await AccrueSymbolAsync(bySymbol.Key, bySymbol.ToList(), now, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
            {
                // One symbol that fails on every pass (the venue's history unreadable, a mark FundingMath refuses, a Ledger
                // status PostAsync does not expect) must not hold back the others' settlements or the reconciliation:
                // it stays due and is tried again next pass.
                LogSymbolFailed(logger, bySymbol.Key, ex.GetType().Name, ex.Message);
            }
        }

        await reconciler.RunAsync(now, cancellationToken).ConfigureAwait(false);
        _posted.RemoveWhere(p => p.FundingTimeMs < now.AddDays(-settings.Accrual.MaxBackfillDays - 1).ToUnixTimeMilliseconds());
        return posted;
    }

    private async Task<int> AccrueSymbolAsync(string symbolText, List<PositionRecord> positions, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (!Symbol.TryParse(symbolText, out var symbol))
        {
            return 0;
        }

        FundingSchedule schedule;
        try
        {
            schedule = (await market.GetTermsAsync(symbol, cancellationToken).ConfigureAwait(false)).Schedule;
        }
        catch (RequestValidationException)
        {
            // A position on a symbol the venue no longer lists: nothing to settle there; the other symbols go on.
            LogUnlisted(logger, symbolText, positions.Count);
            return 0;
        }

        var earliest = now.AddDays(-options.Value.Accrual.MaxBackfillDays);
        // Settlements younger than the grace wait: a fill from just before one may still be on its way to the Ledger.
        var settledBy = now.AddSeconds(-Math.Max(0, options.Value.Accrual.SettleAfterSeconds));
        var windows = new List<(PositionRecord Position, DateTimeOffset From, DateTimeOffset Until)>();
        foreach (var position in positions)
        {
            var openedAt = position.OpenedAt?.ToDateTimeOffset() ?? now;
            var from = openedAt > earliest ? openedAt : earliest;
            var until = position.ClosedAt?.ToDateTimeOffset() is { } closedAt && closedAt < settledBy ? closedAt : settledBy;
            if (until > from)
            {
                // (Opened inside the grace window, or by a clock ahead of this one: nothing of it is due yet.)
                windows.Add((position, from, until));
            }
        }

        if (windows.Count == 0)
        {
            return 0;
        }

        var history = await SettledAsync(symbol, schedule, windows.Min(w => w.From), settledBy, now, cancellationToken).ConfigureAwait(false);
        var posted = 0;
        foreach (var (position, from, until) in windows)
        {
            foreach (var (t, entry) in history.Between(from, until))
            {
                if (_posted.Contains((position.PositionId, t.ToUnixTimeMilliseconds())))
                {
                    continue;
                }

                if (entry.MarkPrice is not { } mark)
                {
                    // The venue has published the settlement without its mark price: it is posted once the mark is there.
                    LogNotSettled(logger, symbol.Value, t);
                    continue;
                }

                if (await PostAsync(position, symbol, t, entry.FundingRate, mark, cancellationToken).ConfigureAwait(false))
                {
                    posted++;
                }
            }
        }

        return posted;
    }

    private async Task<List<PositionRecord>> ClosedSinceAsync(DateTimeOffset since, CancellationToken cancellationToken)
    {
        var closed = new List<PositionRecord>();
        var request = new GetPositionsRequest
        {
            Venue = options.Value.Venue,
            ClosedSince = Wire.Timestamp(since),
            Page = new Common.V1.PageRequest { PageSize = 1000 },
        };
        while (true)
        {
            var page = await ledger.GetPositionsAsync(request, cancellationToken: cancellationToken).ConfigureAwait(false);
            closed.AddRange(page.Positions.Where(p => p.ClosedAt is not null));
            if (string.IsNullOrEmpty(page.NextPageToken))
            {
                return closed;
            }

            request.Page.PageToken = page.NextPageToken;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Count} open position(s) on {Symbol}, which the venue does not list: no funding accrued")]
    private static partial void LogUnlisted(ILogger logger, string symbol, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Funding accrual of {Symbol} failed; its settlements stay due and the other symbols go on: {ErrorType}: {Error}")]
    private static partial void LogSymbolFailed(ILogger logger, string symbol, string errorType, string error);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Funding of {Symbol} at {FundingTime} is not settled at the venue yet")]
    private static partial void LogNotSettled(ILogger logger, string symbol, DateTimeOffset fundingTime);
}
