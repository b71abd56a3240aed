using System.Text.Json;
using TradeEngine.PaperExchange.Venue;

namespace TradeEngine.PaperExchange.Engine;

// The BNB fee discount (Binance's "feeBurn"): the setting's two endpoints and the charge of a fill's commission.
public sealed partial class PaperEngine
{
    private const string Bnb = "BNB";
    private const string BnbMarket = "BNBUSDT";

    /// <summary>Binance USD-M's discount on a commission paid in BNB.</summary>
    private const decimal BnbFeeDiscount = 0.10m;

    /// <summary>POST /fapi/v1/feeBurn: feeBurn "true" (discount on) or "false" (off), for every symbol; anything else -1130.</summary>
    public void SetFeeBurn(VenueParams p, Utf8JsonWriter w)
    {
        ArgumentNullException.ThrowIfNull(p);
        lock (_lock)
        {
            SyncLocked();
            _feeBurn = p.Required("feeBurn") switch
            {
                "true" => true,
                "false" => false,
                _ => throw VenueErrors.IllegalValue("feeBurn"),
            };
            _version++;
            VenueJson.CodeMsg(w, 200, "success");
        }
    }

    /// <summary>GET /fapi/v1/feeBurn: <c>{"feeBurn": true}</c> when the BNB fee discount is on.</summary>
    public void FeeBurnStatus(Utf8JsonWriter w)
    {
        ArgumentNullException.ThrowIfNull(w);
        lock (_lock)
        {
            SyncLocked();
            w.WriteStartObject();
            w.WriteBoolean("feeBurn", _feeBurn);
            w.WriteEndObject();
        }
    }

    /// <summary>
    /// Takes a fill's commission of <paramref name="usdt"/> from the account: in BNB when the discount is on and the
    /// wallet holds enough BNB (the USDT figure less 10 %, at BNBUSDT's mark price, rounded to 8 places half to even, as
    /// every commission here), otherwise from the USDT wallet. Returns the amount charged and its asset.
    /// </summary>
    private (decimal Amount, string Asset) ChargeCommission(decimal usdt)
    {
        if (_feeBurn && usdt > 0m && _markets.TryGetValue(BnbMarket, out var bnb) && bnb.MarkPrice > 0m)
        {
            var inBnb = Math.Round(usdt * (1m - BnbFeeDiscount) / bnb.MarkPrice, 8, MidpointRounding.ToEven);
            if (inBnb > 0m && _bnbWallet >= inBnb)
            {
                _bnbWallet -= inBnb;
                return (inBnb, Bnb);
            }
        }

        _crossWallet -= usdt;
        return (usdt, Asset);
    }

    /// <summary>The BNB asset's row in the account's and the balance's asset lists (not margin in single-asset mode).</summary>
    private void WriteBnbAsset(Utf8JsonWriter w, long now, bool balanceShape)
    {
        var amount = VenueJson.Fixed(_bnbWallet, 8);
        w.WriteStartObject();
        if (balanceShape)
        {
            w.WriteString("accountAlias", AccountAlias);
            w.WriteString("asset", Bnb);
            w.WriteString("balance", amount);
            w.WriteString("crossWalletBalance", amount);
            w.WriteString("crossUnPnl", "0.00000000");
            w.WriteString("availableBalance", amount);
            w.WriteString("maxWithdrawAmount", amount);
            w.WriteBoolean("marginAvailable", true);
        }
        else
        {
            w.WriteString("asset", Bnb);
            w.WriteString("walletBalance", amount);
            w.WriteString("unrealizedProfit", "0.00000000");
            w.WriteString("marginBalance", amount);
            w.WriteString("maintMargin", "0.00000000");
            w.WriteString("initialMargin", "0.00000000");
            w.WriteString("positionInitialMargin", "0.00000000");
            w.WriteString("openOrderInitialMargin", "0.00000000");
            w.WriteString("crossWalletBalance", amount);
            w.WriteString("crossUnPnl", "0.00000000");
            w.WriteString("availableBalance", amount);
            w.WriteString("maxWithdrawAmount", amount);
        }

        w.WriteNumber("updateTime", now);
        w.WriteEndObject();
    }
}
