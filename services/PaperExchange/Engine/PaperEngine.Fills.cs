using TradeEngine.PaperExchange.Markets;

namespace TradeEngine.PaperExchange.Engine;

public sealed partial class PaperEngine
{
    /// <summary>A taker fills at the mark price moved against it by the slippage, never beyond a limit price.</summary>
    private decimal TakerPrice(MarketDefinition def, MarketState m, int sign, decimal? limit)
    {
        var slipped = m.MarkPrice * (1m + (sign * _slippageBps / 10_000m));
        var price = sign > 0 ? def.Filters.CeilingToTick(slipped) : def.Filters.FloorToTick(slipped);
        if (limit is { } l)
        {
            price = sign > 0 ? Math.Min(price, l) : Math.Max(price, l);
        }

        return Math.Max(def.Filters.TickSize, price);
    }

    /// <summary>Applies a fill to the position and the wallet, and books the trade, commission and realized PnL.</summary>
    private void Fill(OrderState order, decimal qty, decimal price, bool maker, long now, bool liquidation = false)
    {
        var sign = order.Side == "BUY" ? 1 : -1;
        var position = Position(order.Symbol);
        var realized = 0m;
        var remaining = qty;
        if (position.Amount != 0m && Math.Sign(position.Amount) != sign)
        {
            var closeQty = Math.Min(qty, Math.Abs(position.Amount));
            // To 8 places, half to even, as a commission: the wallet takes what the REALIZED_PNL row and the trade show
            // (the entry after an add at another price has 28 digits), so the wallet stays the sum of its income rows.
            realized = Math.Round(closeQty * (price - position.EntryPrice) * Math.Sign(position.Amount), 8, MidpointRounding.ToEven);
            if (position.Isolated)
            {
                var release = position.IsolatedWallet * closeQty / Math.Abs(position.Amount);
                position.IsolatedWallet -= release;
                _crossWallet += release;
            }

            _crossWallet += realized;
            position.Amount += sign * closeQty;
            remaining -= closeQty;
            if (position.Amount == 0m)
            {
                position.EntryPrice = 0m;
                _crossWallet += position.IsolatedWallet;
                position.IsolatedWallet = 0m;
            }
        }

        if (remaining > 0m)
        {
            var newAmount = position.Amount + (sign * remaining);
            position.EntryPrice = ((Math.Abs(position.Amount) * position.EntryPrice) + (remaining * price)) / Math.Abs(newAmount);
            position.Amount = newAmount;
            if (position.Isolated)
            {
                var margin = remaining * price / position.Leverage;
                _crossWallet -= margin;
                position.IsolatedWallet += margin;
            }
        }

        position.UpdateTime = now;
        var quote = qty * price;
        var (commission, commissionAsset) = ChargeCommission(
            liquidation ? 0m : Math.Round(quote * (maker ? _makerFee : _takerFee), 8, MidpointRounding.ToEven));
        var trade = new TradeState
        {
            Id = _nextTradeId++,
            OrderId = order.OrderId,
            Symbol = order.Symbol,
            Side = order.Side,
            Price = price,
            Qty = qty,
            QuoteQty = quote,
            RealizedPnl = realized,
            Commission = commission,
            CommissionAsset = commissionAsset,
            Maker = maker,
            Time = now,
        };
        AddTrade(trade);
        var tradeId = trade.Id.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (commission != 0m)
        {
            AddIncome(order.Symbol, "COMMISSION", -commission, now, tradeId, commissionAsset);
        }

        if (realized != 0m)
        {
            AddIncome(order.Symbol, "REALIZED_PNL", realized, now, tradeId);
        }

        order.ExecutedQty += qty;
        order.CumQuote += quote;
        order.AvgPrice = order.CumQuote / order.ExecutedQty;
        order.Status = order.ExecutedQty >= order.OrigQty ? "FILLED" : "PARTIALLY_FILLED";
        order.UpdateTime = now;
        _version++;
    }

    /// <summary>Resting LIMIT orders fill as makers at their price once the mark price reaches it.</summary>
    private void FillRestingOrders(MarketState m, long now)
    {
        for (var i = _openOrders.Count - 1; i >= 0; i--)
        {
            var o = _openOrders[i];
            if (o.Symbol != m.Symbol)
            {
                continue;
            }

            var sign = o.Side == "BUY" ? 1 : -1;
            if (sign > 0 ? m.MarkPrice > o.Price : m.MarkPrice < o.Price)
            {
                continue;
            }

            _openOrders.RemoveAt(i);
            var def = _definitions[o.Symbol];
            var position = Position(o.Symbol);
            var qty = o.OrigQty - o.ExecutedQty;
            if (o.ReduceOnly)
            {
                qty = Math.Sign(position.Amount) == -sign ? Math.Min(qty, Math.Abs(position.Amount)) : 0m;
            }

            if (qty <= 0m || !HasMargin(def, position, sign, qty, o.Price))
            {
                o.Status = "EXPIRED";
                o.UpdateTime = now;
                continue;
            }

            Fill(o, qty, o.Price, maker: true, now);
        }
    }
}
