using TradeEngine.Domain;
using TradeEngine.Domain.Funding;
using TradeEngine.Domain.Margin;
using TradeEngine.PaperExchange.Markets;

namespace TradeEngine.PaperExchange.Engine;

public sealed partial class PaperEngine
{
    private void OnMarkChanged(MarketState m, long now)
    {
        FillRestingOrders(m, now);
        TriggerAlgoOrders(m, now);
        CheckLiquidations(now);
        // After the triggers and liquidations (which iterate the algo orders and positions): what they flattened.
        ExpireCloseOrdersOfFlatPositions(now);
    }

    /// <summary>
    /// Funding at a funding time: every open position of the symbol pays or receives signed size × mark price ×
    /// rate (Domain's FundingMath: a positive rate means longs pay). The income row is the account's view, so
    /// it is the negative of Domain's cost.
    /// </summary>
    private void SettleFunding(MarketState m, long time)
    {
        var rate = FundingMath.ClampRate(m.FundingRate, CapOf(m), FloorOf(m));
        if (_positions.TryGetValue(m.Symbol, out var p) && p.Amount != 0m)
        {
            var cost = FundingMath.SettlementAmount(p.Amount, m.MarkPrice, rate);
            if (cost != 0m)
            {
                if (p.Isolated)
                {
                    p.IsolatedWallet -= cost;
                }
                else
                {
                    _crossWallet -= cost;
                }

                AddIncome(m.Symbol, "FUNDING_FEE", -cost, time, "");
            }
        }

        _fundingHistory.Add(new FundingRecordState { Symbol = m.Symbol, FundingRate = rate, FundingTime = time, MarkPrice = m.MarkPrice });
        m.NextFundingTime = time + ((long)m.FundingIntervalHours * 3_600_000L);
        _version++;
        CheckLiquidations(time);
    }

    private decimal CapOf(MarketState m) => m.FundingRateCap ?? _definitions[m.Symbol].FundingRateCap;

    private decimal FloorOf(MarketState m) => m.FundingRateFloor ?? _definitions[m.Symbol].FundingRateFloor;

    private void CheckMargin(MarketDefinition def, PositionState position, int sign, decimal qty, decimal price)
    {
        if (!HasMargin(def, position, sign, qty, price))
        {
            throw VenueErrors.MarginInsufficient();
        }

        var opening = OpeningQuantity(position, sign, qty);
        if (opening > 0m)
        {
            var notional = Math.Abs(position.Amount + (sign * qty)) * price;
            if (notional > MaxNotionalAt(def, position.Leverage))
            {
                throw VenueErrors.MaxPositionAtLeverage();
            }
        }
    }

    /// <summary>The opening part of a fill needs initial margin (notional / leverage) plus the taker fee from the available balance.</summary>
    private bool HasMargin(MarketDefinition def, PositionState position, int sign, decimal qty, decimal price)
    {
        var opening = OpeningQuantity(position, sign, qty);
        if (opening == 0m)
        {
            return true;
        }

        var required = (opening * price / position.Leverage) + (qty * price * _takerFee);
        return required <= AvailableBalance();
    }

    private static decimal OpeningQuantity(PositionState position, int sign, decimal qty) =>
        position.Amount == 0m || Math.Sign(position.Amount) == sign ? qty : Math.Max(0m, qty - Math.Abs(position.Amount));

    /// <summary>Cross wallet + cross unrealized PnL − cross positions' initial margin at the mark price.</summary>
    private decimal AvailableBalance()
    {
        var available = _crossWallet;
        foreach (var p in _positions.Values)
        {
            if (p.Amount == 0m || p.Isolated)
            {
                continue;
            }

            var mark = _markets[p.Symbol].MarkPrice;
            available += UnrealizedPnl(p) - (Math.Abs(p.Amount) * mark / p.Leverage);
        }

        return available;
    }

    private decimal UnrealizedPnl(PositionState p) =>
        p.Amount == 0m ? 0m : p.Amount * (_markets[p.Symbol].MarkPrice - p.EntryPrice);

    private decimal MaintenanceMargin(PositionState p) =>
        p.Amount == 0m ? 0m : MarginMath.MaintenanceMargin(Math.Abs(p.Amount) * _markets[p.Symbol].MarkPrice, _definitions[p.Symbol].Brackets);

    /// <summary>Largest position notional a leverage allows: the cap of the last bracket whose initial leverage reaches it.</summary>
    private static decimal MaxNotionalAt(MarketDefinition def, int leverage)
    {
        var cap = 0m;
        foreach (var b in def.Brackets.Brackets)
        {
            if (b.InitialLeverage >= leverage)
            {
                cap = b.NotionalCap;
            }
        }

        return cap;
    }

    /// <summary>Domain's exchange formula for this position (isolated wallet, or cross wallet with the other cross positions).</summary>
    private LiquidationResult? LiquidationOf(PositionState p)
    {
        if (p.Amount == 0m)
        {
            return null;
        }

        var otherMaintenance = 0m;
        var otherPnl = 0m;
        if (!p.Isolated)
        {
            foreach (var other in _positions.Values)
            {
                if (!ReferenceEquals(other, p) && other.Amount != 0m && !other.Isolated)
                {
                    otherMaintenance += MaintenanceMargin(other);
                    otherPnl += UnrealizedPnl(other);
                }
            }
        }

        var input = new LiquidationInput
        {
            MarginType = p.Isolated ? MarginType.Isolated : MarginType.Cross,
            Side = p.Amount > 0m ? Side.Long : Side.Short,
            Quantity = Math.Abs(p.Amount),
            EntryPrice = p.EntryPrice,
            WalletBalance = p.Isolated ? p.IsolatedWallet : _crossWallet,
            OtherMaintenanceMargin = otherMaintenance,
            OtherUnrealizedPnl = otherPnl,
            Brackets = _definitions[p.Symbol].Brackets,
        };
        return LiquidationPrice.Exchange(in input);
    }

    /// <summary>Liquidates, one at a time, every position whose mark price reached its Domain liquidation price.</summary>
    private void CheckLiquidations(long now)
    {
        if (_liquidationPaused)
        {
            // The control API holds the liquidation engine back (a venue lagging a fast market); resuming catches up.
            return;
        }

        for (var guard = 0; guard < 16; guard++)
        {
            PositionState? victim = null;
            var price = 0m;
            foreach (var p in _positions.Values)
            {
                if (LiquidationOf(p) is not { } liq)
                {
                    continue;
                }

                var mark = _markets[p.Symbol].MarkPrice;
                var reached = liq.Outcome == LiquidationOutcome.Immediate
                    || (liq.Outcome == LiquidationOutcome.AtPrice && (p.Amount > 0m ? mark <= liq.Price : mark >= liq.Price));
                if (reached)
                {
                    victim = p;
                    price = liq.Outcome == LiquidationOutcome.AtPrice ? Math.Round(liq.Price, 8, MidpointRounding.ToEven) : mark;
                    break;
                }
            }

            if (victim is null)
            {
                return;
            }

            Liquidate(victim, price, now);
        }
    }

    /// <summary>
    /// Closes the whole position at the liquidation price. The margin left after the loss goes to the insurance
    /// fund (INSURANCE_CLEAR): all of an isolated position's margin, or the maintenance margin of a cross one.
    /// </summary>
    private void Liquidate(PositionState p, decimal price, long now)
    {
        var maintenance = MaintenanceMargin(p);
        var isolatedBefore = p.IsolatedWallet;
        var qty = Math.Abs(p.Amount);
        // As Fill credits it: to 8 places, half to even (so the clearance below, and the wallet, stay the sum of the rows).
        var realizedLoss = Math.Round(qty * (price - p.EntryPrice) * Math.Sign(p.Amount), 8, MidpointRounding.ToEven);
        var order = new OrderState
        {
            OrderId = _nextOrderId++,
            ClientOrderId = "autoclose-" + now.ToString(System.Globalization.CultureInfo.InvariantCulture),
            Symbol = p.Symbol,
            Side = p.Amount > 0m ? "SELL" : "BUY",
            Type = "MARKET",
            OrigType = "LIQUIDATION",
            OrigQty = qty,
            ReduceOnly = true,
            Time = now,
            UpdateTime = now,
        };
        Register(order);
        Fill(order, qty, price, maker: false, now, liquidation: true);
        ExpireCloseOrdersOfFlatPositions(now);
        var clearance = p.Isolated ? Math.Max(0m, isolatedBefore + realizedLoss) : Math.Max(0m, maintenance);
        clearance = Math.Round(Math.Min(clearance, Math.Max(0m, _crossWallet)), 8, MidpointRounding.ToEven);
        if (clearance > 0m)
        {
            _crossWallet -= clearance;
            AddIncome(p.Symbol, "INSURANCE_CLEAR", -clearance, now, "");
        }

        LogLiquidated(_logger, p.Symbol, price);
    }

    [Microsoft.Extensions.Logging.LoggerMessage(Level = Microsoft.Extensions.Logging.LogLevel.Information, Message = "Liquidated the {Symbol} position at {Price}")]
    private static partial void LogLiquidated(Microsoft.Extensions.Logging.ILogger logger, string symbol, decimal price);
}
