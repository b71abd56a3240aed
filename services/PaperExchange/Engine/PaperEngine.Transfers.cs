using TradeEngine.Domain;
using TradeEngine.PaperExchange.Venue;

namespace TradeEngine.PaperExchange.Engine;

/// <summary>A transfer booked by <see cref="PaperEngine.Transfer"/>: its income row's tranId, time and type, and the cross wallet after it.</summary>
public sealed record TransferResult(long TranId, long Time, string Asset, decimal Amount, decimal CrossWalletBalance, string IncomeType);

public sealed partial class PaperEngine
{
    /// <summary>
    /// The income types money moves into or out of the futures wallet under on Binance (GET /fapi/v1/income's capital
    /// flows), as <see cref="Transfer"/> books them: TRANSFER (the spot or funding wallet), INTERNAL_TRANSFER (another
    /// account, e.g. a sub-account), CROSS_COLLATERAL_TRANSFER, STRATEGY_UMFUTURES_TRANSFER (a strategy sub-account),
    /// COIN_SWAP_DEPOSIT and COIN_SWAP_WITHDRAW.
    /// </summary>
    public static IReadOnlyList<string> TransferTypes { get; } =
        ["TRANSFER", "INTERNAL_TRANSFER", "CROSS_COLLATERAL_TRANSFER", "STRATEGY_UMFUTURES_TRANSFER", "COIN_SWAP_DEPOSIT", "COIN_SWAP_WITHDRAW"];

    /// <summary>
    /// A transfer into (positive) or out of (negative) the futures account's cross wallet, as a deposit from or a
    /// withdrawal to the spot wallet is on Binance: an income row of <paramref name="type"/> (one of
    /// <see cref="TransferTypes"/>, TRANSFER when null; symbol "", info the type's name, as Binance's documented TRANSFER
    /// row shows) with a fresh tranId. Refused, with nothing changed: another type, zero, more than 8 decimals (Binance
    /// books 8), another asset than the account's (USDT), or a withdrawal above the max withdraw amount the account
    /// endpoints show.
    /// </summary>
    public TransferResult Transfer(decimal amount, string? asset, string? type = null)
    {
        type ??= "TRANSFER";
        if (!TransferTypes.Contains(type, StringComparer.Ordinal))
        {
            throw new DomainException("type", $"must be one of {string.Join(", ", TransferTypes)} (the income types money moves in or out under), not '{type}'");
        }

        if (asset is not null && !string.Equals(asset, Asset, StringComparison.Ordinal))
        {
            throw new DomainException("asset", $"must be {Asset}: the simulated account holds no other asset");
        }

        if (amount == 0m)
        {
            throw new DomainException("amount", "must not be zero (positive deposits, negative withdraws)");
        }

        if (amount != Math.Round(amount, 8))
        {
            throw new DomainException("amount", "has more than 8 decimals");
        }

        lock (_lock)
        {
            var now = SyncLocked();
            var maxWithdraw = Math.Max(0m, Math.Min(Math.Max(0m, AvailableBalance()), _crossWallet));
            if (amount < 0m && -amount > maxWithdraw)
            {
                throw new DomainException(
                    "amount",
                    $"withdraws {VenueJson.Fixed(-amount, 8)} {Asset} but at most {VenueJson.Fixed(maxWithdraw, 8)} may be withdrawn (maxWithdrawAmount)");
            }

            _crossWallet += amount;
            var row = AddIncome("", type, amount, now, "");
            _version++;
            return new TransferResult(row.TranId, row.Time, row.Asset, amount, _crossWallet, row.IncomeType);
        }
    }
}
