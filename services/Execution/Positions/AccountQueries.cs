using Grpc.Core;
using TradeEngine.Binance;
using TradeEngine.Execution.Ledger;
using TradeEngine.Execution.Mapping;
using TradeEngine.Execution.V1;
using TradeEngine.Execution.Venue;
using TradeEngine.ServiceDefaults.Grpc;

namespace TradeEngine.Execution.Positions;

/// <summary>
/// Account and positions: the venue's live figures, joined with the Ledger's records (id, strategy, protective prices).
/// The records are decoration: a Ledger that does not answer leaves them out (with a warning on the account) and never
/// fails the read, since Risk's margin monitor judges the account through it and must not go blind with the Ledger.
/// </summary>
public sealed class AccountQueries(IBinanceClient venue, InstrumentDirectory instruments, LedgerBook ledger, TimeProvider time)
{
    /// <summary>The warning an account read carries when the Ledger's records were left out.</summary>
    public const string RecordsMissingWarning =
        "ledger: the Ledger did not answer; the venue's figures stand, and positions carry no record (position_id, strategy, stop-loss and take-profit prices)";

    public async Task<Account> GetAccountAsync(CancellationToken cancellationToken)
    {
        var accountTask = VenueAccount.ReadAsync(venue, cancellationToken);
        var recordsTask = BestEffortAsync(ledger.OpenRecordsAsync, cancellationToken);
        var account = await accountTask.ConfigureAwait(false);
        var (records, recordsRead) = await recordsTask.ConfigureAwait(false);
        records ??= [];
        var info = account.Account;
        var equity = info.TotalWalletBalance + info.TotalUnrealizedProfit;
        var maintenance = info.TotalMaintMargin;
        var result = new Account
        {
            WalletBalance = Wire.Format(info.TotalWalletBalance),
            AvailableBalance = Wire.Format(info.AvailableBalance),
            Equity = Wire.Format(equity),
            UnrealizedPnl = Wire.Format(info.TotalUnrealizedProfit),
            MaintenanceMargin = Wire.Format(maintenance),
            // The plan's ratio: (balance + unrealized PnL) / maintenance margin; none without positions.
            MarginRatio = account.Open.Any() && maintenance > 0m ? Wire.Format(Math.Round(equity / maintenance, 8, MidpointRounding.ToZero)) : string.Empty,
            AsOf = Wire.Timestamp(time.GetUtcNow()),
            Warnings = { recordsRead ? [] : [RecordsMissingWarning] },
        };
        foreach (var p in account.OpenListed.OrderBy(p => p.Symbol, StringComparer.Ordinal))
        {
            result.Positions.Add(PositionMapping.FromVenue(p, records.FirstOrDefault(r => r.Symbol == p.Symbol)));
        }

        var unlisted = account.OpenUnlisted.Select(p => p.Symbol).Order(StringComparer.Ordinal).ToList();
        if (unlisted.Count > 0)
        {
            result.Warnings.Add($"positions: the venue also holds positions on delivery contracts ({string.Join(", ", unlisted)}); they are in the totals, not listed");
        }

        return result;
    }

    public async Task<ListPositionsResponse> ListAsync(CancellationToken cancellationToken)
    {
        var account = await GetAccountAsync(cancellationToken).ConfigureAwait(false);
        return new ListPositionsResponse { Positions = { account.Positions } };
    }

    public async Task<Position> GetAsync(GetPositionRequest request, CancellationToken cancellationToken)
    {
        var symbol = await RequireListedAsync(request.Symbol, cancellationToken).ConfigureAwait(false);

        var positionsTask = venue.GetPositionsAsync(symbol, cancellationToken);
        var recordTask = BestEffortAsync(ct => ledger.OpenRecordAsync(symbol, ct), cancellationToken);
        var open = (await positionsTask.ConfigureAwait(false)).FirstOrDefault(p => p.PositionAmt != 0m)
            ?? throw new RpcException(new Status(StatusCode.NotFound, $"symbol: no open position on {symbol}"));
        return PositionMapping.FromVenue(open, (await recordTask.ConfigureAwait(false)).Value);
    }

    /// <summary>A symbol the venue lists, else INVALID_ARGUMENT naming <c>symbol</c>.</summary>
    public async Task<string> RequireListedAsync(string symbol, CancellationToken cancellationToken)
    {
        Wire.Required(symbol, "symbol", 20);
        if (await instruments.FindAsync(symbol, cancellationToken).ConfigureAwait(false) is null)
        {
            throw new RequestValidationException("symbol", $"'{symbol}' is not a symbol the venue lists");
        }

        return symbol;
    }

    /// <summary>How long an account read waits for the Ledger's records before it answers without them.</summary>
    public static readonly TimeSpan LedgerReadBudget = TimeSpan.FromSeconds(2);

    /// <summary>
    /// A Ledger read whose transient failure (the Ledger down, restarting or past its deadline) is no answer. It has a
    /// budget of its own (<see cref="LedgerReadBudget"/>): a Ledger that hangs rather than refuses (its database
    /// unreachable) would otherwise hold the read until the caller's own deadline, and the caller would get nothing.
    /// </summary>
    private static async Task<(T? Value, bool Read)> BestEffortAsync<T>(Func<CancellationToken, Task<T>> read, CancellationToken cancellationToken)
    {
        using var budget = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        budget.CancelAfter(LedgerReadBudget);
        try
        {
            return (await read(budget.Token).ConfigureAwait(false), true);
        }
        catch (RpcException ex) when (LedgerWrites.IsTransient(ex))
        {
            return (default, false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return (default, false);
        }
    }
}
