using Grpc.Core;
using TradeEngine.Binance.Models;
using TradeEngine.Common.V1;
using TradeEngine.Ledger.V1;
using TradeEngine.ServiceDefaults.Grpc;

namespace TradeEngine.Execution.Ledger;

// LedgerBook's record reads: the open record of a symbol or by id, and the records closed since a time.
public sealed partial class LedgerBook
{
    /// <summary>
    /// The symbol's open record; <c>Answered</c> false when the Ledger could not be read (transiently, or not within
    /// <paramref name="deadline"/> when one is given: a read made under the symbol's lock for bookkeeping only).
    /// </summary>
    public async Task<(PositionRecord? Record, bool Answered)> TryOpenRecordAsync(string symbol, CancellationToken cancellationToken, TimeSpan? deadline = null)
    {
        try
        {
            return (await OpenRecordAsync(symbol, cancellationToken, deadline).ConfigureAwait(false), true);
        }
        catch (RpcException ex) when (LedgerWrites.IsTransient(ex) && !cancellationToken.IsCancellationRequested)
        {
            return (null, false);
        }
    }

    /// <summary>A position record by its id, or null when the Ledger holds none.</summary>
    public Task<PositionRecord?> RecordAsync(string positionId, CancellationToken cancellationToken) =>
        FindRecordAsync(new GetPositionRequest { PositionId = positionId }, cancellationToken);

    /// <summary>The open position record of a symbol, or null (within <paramref name="deadline"/> when one is given).</summary>
    public Task<PositionRecord?> OpenRecordAsync(string symbol, CancellationToken cancellationToken, TimeSpan? deadline = null) =>
        FindRecordAsync(new GetPositionRequest { Open = new OpenPositionKey { Venue = Venue, Symbol = symbol, Account = Account } }, cancellationToken, deadline);

    private async Task<PositionRecord?> FindRecordAsync(GetPositionRequest request, CancellationToken cancellationToken, TimeSpan? deadline = null)
    {
        try
        {
            return await ledger.GetPositionAsync(request, deadline: deadline is { } limit ? DateTime.UtcNow + limit : null, cancellationToken: cancellationToken)
                .ConfigureAwait(false);
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.NotFound)
        {
            return null;
        }
    }

    public async Task<IReadOnlyList<PositionRecord>> OpenRecordsAsync(CancellationToken cancellationToken)
    {
        var response = await ledger.GetOpenPositionsAsync(new GetOpenPositionsRequest { Venue = Venue, Account = Account }, cancellationToken: cancellationToken)
            .ConfigureAwait(false);
        return response.Positions;
    }

    /// <summary>
    /// The symbols of records closed at or after <paramref name="since"/> (minutes ago: a page or two). Every page is read,
    /// up to <see cref="MaxPagesRead"/> (at least 17,000 records): the Ledger ends a page early when its rows carry long
    /// texts, so the first page need not hold them all.
    /// </summary>
    public async Task<IReadOnlyList<string>> SymbolsClosedSinceAsync(DateTimeOffset since, CancellationToken cancellationToken)
    {
        var symbols = new SortedSet<string>(StringComparer.Ordinal);
        await foreach (var record in ClosedSinceAsync(null, since, cancellationToken).ConfigureAwait(false))
        {
            symbols.Add(record.Symbol);
        }

        return [.. symbols];
    }

    /// <summary>
    /// The record of a symbol that <paramref name="order"/> closed, as a resumed close replays against it: the one open
    /// when the order filled, that is opened at or before the fill and closed at or after it. A close records the fill's
    /// time (the order's update time) and a reconciliation the same or a later one; a record closed before the order is
    /// another position's, and taking it would hide a close the Ledger never recorded. Nor is it one opened after the fill
    /// (a later position, closed since): before, the last record closed was taken, and a close retried after a restart
    /// answered with a later position's id, PnL, fees and funding. Closed or liquidated: reconciliation records a venue
    /// close that a liquidation order was part of as liquidated, and it is still the record a close of ours may have ended.
    /// </summary>
    public async Task<PositionRecord?> ClosedByRecordAsync(string symbol, OrderInfo order, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(order);
        // Newest opened first: the first one opened at or before the fill is the one (one record of a symbol is open at a
        // time). The pages are those of the records closed since the fill, few unless the retry comes much later.
        await foreach (var record in ClosedSinceAsync(symbol, order.UpdateTime, cancellationToken).ConfigureAwait(false))
        {
            if (record.OpenedAt is { } opened && opened.ToDateTimeOffset() <= order.UpdateTime)
            {
                return record;
            }
        }

        return null;
    }

    /// <summary>
    /// The venue's records (of <paramref name="symbol"/>, or every symbol) closed at or after <paramref name="since"/>,
    /// newest opened first, page after page up to <see cref="MaxPagesRead"/>. Any status: closed_since leaves out the open
    /// records, and keeps both the closed and the liquidated.
    /// </summary>
    private async IAsyncEnumerable<PositionRecord> ClosedSinceAsync(
        string? symbol, DateTimeOffset since, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var request = new GetPositionsRequest
        {
            Venue = Venue, Symbol = symbol ?? string.Empty, ClosedSince = Wire.Timestamp(since), Page = new PageRequest { PageSize = 1000 },
        };
        for (var page = 0; page < MaxPagesRead; page++)
        {
            var response = await ledger.GetPositionsAsync(request, cancellationToken: cancellationToken).ConfigureAwait(false);
            foreach (var record in response.Positions)
            {
                yield return record;
            }

            if (response.NextPageToken.Length == 0)
            {
                yield break;
            }

            request.Page.PageToken = response.NextPageToken;
        }
    }

    /// <summary>The most pages of one list read (20 of up to 1,000 records).</summary>
    private const int MaxPagesRead = 20;
}
