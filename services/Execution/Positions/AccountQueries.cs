using Grpc.Core;
using TradeEngine.Binance;
using TradeEngine.Execution.Ledger;
using TradeEngine.Execution.Mapping;
using TradeEngine.Execution.V1;
using TradeEngine.Execution.Venue;
using TradeEngine.ServiceDefaults.Grpc;

namespace TradeEngine.Execution.Positions;

/// <summary>Account and positions: the venue's live figures, joined with the Ledger's records (id, strategy, protective prices).</summary>
public sealed class AccountQueries(IBinanceClient venue, InstrumentDirectory instruments, LedgerBook ledger, TimeProvider time)
{
    public async Task<Account> GetAccountAsync(CancellationToken cancellationToken)
    {
        var accountTask = VenueAccount.ReadAsync(venue, cancellationToken);
        var recordsTask = ledger.OpenRecordsAsync(cancellationToken);
        var account = await accountTask.ConfigureAwait(false);
        var records = await recordsTask.ConfigureAwait(false);
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
        };
        foreach (var p in account.Open.OrderBy(p => p.Symbol, StringComparer.Ordinal))
        {
            result.Positions.Add(PositionMapping.FromVenue(p, records.FirstOrDefault(r => r.Symbol == p.Symbol)));
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
        var symbol = Wire.Required(request.Symbol, "symbol", 20);
        if (await instruments.FindAsync(symbol, cancellationToken).ConfigureAwait(false) is null)
        {
            throw new RequestValidationException("symbol", $"'{symbol}' is not a symbol the venue lists");
        }

        var positionsTask = venue.GetPositionsAsync(symbol, cancellationToken);
        var recordTask = ledger.OpenRecordAsync(symbol, cancellationToken);
        var open = (await positionsTask.ConfigureAwait(false)).FirstOrDefault(p => p.PositionAmt != 0m)
            ?? throw new RpcException(new Status(StatusCode.NotFound, $"symbol: no open position on {symbol}"));
        return PositionMapping.FromVenue(open, await recordTask.ConfigureAwait(false));
    }
}
