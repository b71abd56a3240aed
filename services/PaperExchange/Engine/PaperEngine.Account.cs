using System.Globalization;
using System.Text.Json;
using TradeEngine.PaperExchange.Venue;

namespace TradeEngine.PaperExchange.Engine;

public sealed partial class PaperEngine
{
    private const string AccountAlias = "PaperAcct";

    /// <summary>
    /// POST /fapi/v1/leverage: 1..the symbol's bracket-1 leverage, and the open position must fit under the new cap
    /// (-2027). As on Binance, an open isolated position's leverage is never lowered (-4161: its margin was fixed at the
    /// leverage it was opened at), and an open cross position's only while the available balance stays at or above 0
    /// at the new leverage's initial margin (-2028); a refusal leaves the leverage as it was.
    /// </summary>
    public void ChangeLeverage(VenueParams p, Utf8JsonWriter w)
    {
        lock (_lock)
        {
            var now = SyncLocked();
            var market = Market(p.Required("symbol"));
            var def = _definitions[market.Symbol];
            var leverageValue = p.Long("leverage") ?? throw VenueErrors.Mandatory("leverage");
            var leverage = (int)Math.Clamp(leverageValue, int.MinValue, int.MaxValue);
            if (leverage < 1 || leverage > def.Brackets.MaxLeverage)
            {
                throw VenueErrors.InvalidLeverage(leverage);
            }

            var position = Position(market.Symbol);
            var cap = MaxNotionalAt(def, leverage);
            if (Math.Abs(position.Amount) * market.MarkPrice > cap)
            {
                throw VenueErrors.MaxPositionAtLeverage();
            }

            var lowering = position.Amount != 0m && leverage < position.Leverage;
            if (lowering && position.Isolated)
            {
                throw VenueErrors.IsolatedLeverageReductionWithPosition();
            }

            var previous = position.Leverage;
            position.Leverage = leverage;
            if (lowering && AvailableBalance() < 0m)
            {
                // More initial margin than the cross wallet can hold at the lower leverage.
                position.Leverage = previous;
                throw VenueErrors.LeverageBelowMarginBalance();
            }

            position.UpdateTime = now;
            _version++;
            w.WriteStartObject();
            w.WriteNumber("leverage", leverage);
            w.WriteString("maxNotionalValue", VenueJson.Text(cap));
            w.WriteString("symbol", market.Symbol);
            w.WriteEndObject();
        }
    }

    /// <summary>
    /// POST /fapi/v1/marginType: exactly ISOLATED or CROSSED (anything else -1130); -4046 when unchanged, -4048 with a
    /// position, -4047 with open orders and no position.
    /// </summary>
    public void ChangeMarginType(VenueParams p, Utf8JsonWriter w)
    {
        lock (_lock)
        {
            SyncLocked();
            var market = Market(p.Required("symbol"));
            var isolated = p.Required("marginType") switch
            {
                "ISOLATED" => true,
                "CROSSED" => false,
                _ => throw VenueErrors.IllegalValue("marginType"),
            };
            var position = Position(market.Symbol);
            if (position.Isolated == isolated)
            {
                throw VenueErrors.NoNeedToChangeMarginType();
            }

            if (position.Amount != 0m)
            {
                throw VenueErrors.MarginTypeWithPosition();
            }

            if (_openOrders.Any(o => o.Symbol == market.Symbol))
            {
                throw VenueErrors.MarginTypeWithOpenOrders();
            }

            position.Isolated = isolated;
            _version++;
            VenueJson.CodeMsg(w, 200, "success");
        }
    }

    /// <summary>GET /fapi/v2/positionRisk (every symbol) or /fapi/v3/positionRisk (symbols with a position or open orders).</summary>
    public void PositionRisk(VenueParams p, Utf8JsonWriter w, int version)
    {
        lock (_lock)
        {
            SyncLocked();
            var symbol = p.Get("symbol");
            if (symbol is not null)
            {
                Market(symbol);
            }

            w.WriteStartArray();
            foreach (var m in _markets.Values)
            {
                if (symbol is not null && m.Symbol != symbol)
                {
                    continue;
                }

                var pos = Position(m.Symbol);
                if (version == 3 && pos.Amount == 0m && !_openOrders.Any(o => o.Symbol == m.Symbol))
                {
                    continue;
                }

                if (_dualSide)
                {
                    // Hedge mode: a LONG and a SHORT row a symbol (flat: the account changes mode only when flat, and takes
                    // no order in it here).
                    WritePosition(w, pos, m, version, "LONG");
                    WritePosition(w, pos, m, version, "SHORT");
                }
                else
                {
                    WritePosition(w, pos, m, version, "BOTH");
                }
            }

            w.WriteEndArray();
        }
    }

    private void WritePosition(Utf8JsonWriter w, PositionState pos, MarketState m, int version, string positionSide)
    {
        var def = _definitions[m.Symbol];
        var qtyDecimals = def.Filters.QuantityPrecision;
        var notional = pos.Amount * m.MarkPrice;
        var pnl = UnrealizedPnl(pos);
        var liquidation = LiquidationOf(pos) is { HasPrice: true } liq ? liq.Price : 0m;
        var isolatedMargin = pos.Isolated ? pos.IsolatedWallet + pnl : 0m;
        var maintenance = MaintenanceMargin(pos);
        var initial = Math.Abs(notional) / pos.Leverage;
        var breakEven = pos.Amount == 0m ? 0m : pos.EntryPrice * (1m + (Math.Sign(pos.Amount) * _takerFee));
        w.WriteStartObject();
        w.WriteString("symbol", m.Symbol);
        w.WriteString("positionSide", positionSide);
        w.WriteString("positionAmt", VenueJson.Fixed(pos.Amount, qtyDecimals));
        // The average entry is kept exact (a 28-digit quotient after an add at another price) and printed to 8 places,
        // as breakEvenPrice is: 28 significant digits are more than a client can read exactly.
        w.WriteString("entryPrice", VenueJson.Text(Math.Round(pos.EntryPrice, 8)));
        w.WriteString("breakEvenPrice", VenueJson.Text(Math.Round(breakEven, 8)));
        w.WriteString("markPrice", VenueJson.Fixed(m.MarkPrice, 8));
        w.WriteString("unRealizedProfit", VenueJson.Fixed(pnl, 8));
        w.WriteString("liquidationPrice", VenueJson.Fixed(liquidation, 8));
        w.WriteString("isolatedMargin", VenueJson.Fixed(isolatedMargin, 8));
        w.WriteString("notional", VenueJson.Fixed(notional, 8));
        if (version == 3)
        {
            w.WriteString("marginAsset", Asset);
            w.WriteString("isolatedWallet", VenueJson.Fixed(pos.IsolatedWallet, 8));
            w.WriteString("initialMargin", VenueJson.Fixed(initial, 8));
            w.WriteString("maintMargin", VenueJson.Fixed(maintenance, 8));
            w.WriteString("positionInitialMargin", VenueJson.Fixed(initial, 8));
            w.WriteString("openOrderInitialMargin", "0");
            w.WriteNumber("adl", 0);
            w.WriteString("bidNotional", "0");
            w.WriteString("askNotional", "0");
        }
        else
        {
            w.WriteString("leverage", pos.Leverage.ToString(CultureInfo.InvariantCulture));
            w.WriteString("maxNotionalValue", VenueJson.Text(MaxNotionalAt(def, pos.Leverage)));
            w.WriteString("marginType", pos.Isolated ? "isolated" : "cross");
            w.WriteString("isAutoAddMargin", "false");
            w.WriteString("isolatedWallet", VenueJson.Fixed(pos.IsolatedWallet, 8));
        }

        w.WriteNumber("updateTime", pos.UpdateTime);
        w.WriteEndObject();
    }

    /// <summary>GET /fapi/v2/balance and /fapi/v3/balance.</summary>
    public void Balance(Utf8JsonWriter w)
    {
        lock (_lock)
        {
            var now = SyncLocked();
            var t = Totals();
            w.WriteStartArray();
            w.WriteStartObject();
            w.WriteString("accountAlias", AccountAlias);
            w.WriteString("asset", Asset);
            w.WriteString("balance", VenueJson.Fixed(t.Wallet, 8));
            w.WriteString("crossWalletBalance", VenueJson.Fixed(_crossWallet, 8));
            w.WriteString("crossUnPnl", VenueJson.Fixed(t.CrossPnl, 8));
            w.WriteString("availableBalance", VenueJson.Fixed(t.Available, 8));
            w.WriteString("maxWithdrawAmount", VenueJson.Fixed(Math.Max(0m, Math.Min(t.Available, _crossWallet)), 8));
            w.WriteBoolean("marginAvailable", true);
            w.WriteNumber("updateTime", now);
            w.WriteEndObject();
            if (_bnbWallet != 0m)
            {
                WriteBnbAsset(w, now, balanceShape: true);
            }

            w.WriteEndArray();
        }
    }

    /// <summary>GET /fapi/v3/account (single-asset mode).</summary>
    public void Account(Utf8JsonWriter w)
    {
        lock (_lock)
        {
            var now = SyncLocked();
            var t = Totals();
            var maxWithdraw = Math.Max(0m, Math.Min(t.Available, _crossWallet));
            w.WriteStartObject();
            w.WriteString("totalInitialMargin", VenueJson.Fixed(t.Initial, 8));
            w.WriteString("totalMaintMargin", VenueJson.Fixed(t.Maintenance, 8));
            w.WriteString("totalWalletBalance", VenueJson.Fixed(t.Wallet, 8));
            w.WriteString("totalUnrealizedProfit", VenueJson.Fixed(t.Pnl, 8));
            w.WriteString("totalMarginBalance", VenueJson.Fixed(t.Wallet + t.Pnl, 8));
            w.WriteString("totalPositionInitialMargin", VenueJson.Fixed(t.Initial, 8));
            w.WriteString("totalOpenOrderInitialMargin", "0.00000000");
            w.WriteString("totalCrossWalletBalance", VenueJson.Fixed(_crossWallet, 8));
            w.WriteString("totalCrossUnPnl", VenueJson.Fixed(t.CrossPnl, 8));
            w.WriteString("availableBalance", VenueJson.Fixed(t.Available, 8));
            w.WriteString("maxWithdrawAmount", VenueJson.Fixed(maxWithdraw, 8));
            w.WriteStartArray("assets");
            w.WriteStartObject();
            w.WriteString("asset", Asset);
            w.WriteString("walletBalance", VenueJson.Fixed(t.Wallet, 8));
            w.WriteString("unrealizedProfit", VenueJson.Fixed(t.Pnl, 8));
            w.WriteString("marginBalance", VenueJson.Fixed(t.Wallet + t.Pnl, 8));
            w.WriteString("maintMargin", VenueJson.Fixed(t.Maintenance, 8));
            w.WriteString("initialMargin", VenueJson.Fixed(t.Initial, 8));
            w.WriteString("positionInitialMargin", VenueJson.Fixed(t.Initial, 8));
            w.WriteString("openOrderInitialMargin", "0.00000000");
            w.WriteString("crossWalletBalance", VenueJson.Fixed(_crossWallet, 8));
            w.WriteString("crossUnPnl", VenueJson.Fixed(t.CrossPnl, 8));
            w.WriteString("availableBalance", VenueJson.Fixed(t.Available, 8));
            w.WriteString("maxWithdrawAmount", VenueJson.Fixed(maxWithdraw, 8));
            w.WriteNumber("updateTime", now);
            w.WriteEndObject();
            if (_bnbWallet != 0m)
            {
                WriteBnbAsset(w, now, balanceShape: false);
            }

            w.WriteEndArray();
            w.WriteStartArray("positions");
            foreach (var pos in _positions.Values)
            {
                if (pos.Amount == 0m)
                {
                    continue;
                }

                var m = _markets[pos.Symbol];
                var notional = pos.Amount * m.MarkPrice;
                var def = _definitions[pos.Symbol];
                w.WriteStartObject();
                w.WriteString("symbol", pos.Symbol);
                w.WriteString("positionSide", "BOTH");
                w.WriteString("positionAmt", VenueJson.Fixed(pos.Amount, def.Filters.QuantityPrecision));
                w.WriteString("unrealizedProfit", VenueJson.Fixed(UnrealizedPnl(pos), 8));
                w.WriteString("isolatedMargin", VenueJson.Fixed(pos.Isolated ? pos.IsolatedWallet + UnrealizedPnl(pos) : 0m, 8));
                w.WriteString("notional", VenueJson.Fixed(notional, 8));
                w.WriteString("isolatedWallet", VenueJson.Fixed(pos.IsolatedWallet, 8));
                w.WriteString("initialMargin", VenueJson.Fixed(Math.Abs(notional) / pos.Leverage, 8));
                w.WriteString("maintMargin", VenueJson.Fixed(MaintenanceMargin(pos), 8));
                w.WriteNumber("updateTime", pos.UpdateTime);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }
    }

    private (decimal Wallet, decimal Pnl, decimal CrossPnl, decimal Initial, decimal Maintenance, decimal Available) Totals()
    {
        decimal isolated = 0m, pnl = 0m, crossPnl = 0m, initial = 0m, maintenance = 0m;
        foreach (var pos in _positions.Values)
        {
            if (pos.Amount == 0m)
            {
                continue;
            }

            var u = UnrealizedPnl(pos);
            pnl += u;
            isolated += pos.IsolatedWallet;
            if (!pos.Isolated)
            {
                crossPnl += u;
            }

            initial += Math.Abs(pos.Amount) * _markets[pos.Symbol].MarkPrice / pos.Leverage;
            maintenance += MaintenanceMargin(pos);
        }

        return (_crossWallet + isolated, pnl, crossPnl, initial, maintenance, Math.Max(0m, AvailableBalance()));
    }
}
