using TradeEngine.Domain;
using TradeEngine.Domain.Funding;
using TradeEngine.PaperExchange.Venue;

namespace TradeEngine.PaperExchange.Engine;

/// <summary>What the control API can see of one order (every order ever placed, not only open ones).</summary>
public sealed record OrderSummary(long OrderId, string ClientOrderId, string Symbol, string Side, string Type, string Status, decimal ExecutedQty);

public sealed record MarketSummary(
    string Symbol, decimal MarkPrice, decimal IndexPrice, decimal FundingRate, int FundingIntervalHours, long NextFundingTime,
    decimal FundingRateCap, decimal FundingRateFloor);

public sealed record PositionSummary(string Symbol, decimal Amount, decimal EntryPrice, int Leverage, bool Isolated, decimal IsolatedWallet, decimal? LiquidationPrice);

/// <summary>A transfer booked by <see cref="PaperEngine.Transfer"/>: its income row's tranId, time and type, and the cross wallet after it.</summary>
public sealed record TransferResult(long TranId, long Time, string Asset, decimal Amount, decimal CrossWalletBalance, string IncomeType);

public sealed record EngineSummary(
    long ServerTime,
    double ClockSpeed,
    decimal CrossWalletBalance,
    decimal TakerFeeRate,
    decimal MakerFeeRate,
    decimal SlippageBps,
    IReadOnlyList<MarketSummary> Markets,
    IReadOnlyList<PositionSummary> Positions,
    bool LiquidationPaused);

public sealed partial class PaperEngine
{
    /// <summary>Sets the index and mark price (mark defaults to the index) and runs triggers and liquidation on it.</summary>
    public void SetPrice(string symbol, decimal indexPrice, decimal? markPrice)
    {
        if (indexPrice <= 0m || markPrice <= 0m)
        {
            throw new DomainException("price", "must be greater than 0");
        }

        lock (_lock)
        {
            var now = SyncLocked();
            SetMarketPrice(Market(symbol), indexPrice, markPrice ?? indexPrice, now);
        }
    }

    /// <summary>
    /// Queues prices to replay one per price step as the clock moves; with <paramref name="immediate"/> they are
    /// applied now, one after another, each running triggers and liquidation (a path crossed in a single call).
    /// </summary>
    public void SetPath(string symbol, IReadOnlyList<decimal> prices, bool immediate)
    {
        if (prices.Any(p => p <= 0m))
        {
            throw new DomainException("prices", "must all be greater than 0");
        }

        lock (_lock)
        {
            var now = SyncLocked();
            var market = Market(symbol);
            if (immediate)
            {
                foreach (var price in prices)
                {
                    SetMarketPrice(market, price, price, now);
                }
            }
            else
            {
                market.PendingPath = [.. prices];
                _version++;
            }
        }
    }

    public void SetVolatility(string symbol, decimal volatility)
    {
        if (volatility is < 0m or > 0.1m)
        {
            throw new DomainException("volatility", "must be from 0 to 0.1");
        }

        lock (_lock)
        {
            SyncLocked();
            Market(symbol).Volatility = volatility;
            _version++;
        }
    }

    /// <summary>The rate charged at the symbol's next funding times (positive: longs pay shorts), within its cap and floor.</summary>
    public void SetFundingRate(string symbol, decimal rate)
    {
        lock (_lock)
        {
            SyncLocked();
            var market = Market(symbol);
            if (rate > CapOf(market) || rate < FloorOf(market))
            {
                throw new DomainException("rate", "is outside the symbol's funding cap and floor");
            }

            market.FundingRate = rate;
            _version++;
        }
    }

    /// <summary>
    /// Changes a symbol's funding terms as the venue would announce them in fundingInfo: the interval (the next
    /// funding time moves to the next boundary of the new interval) and the rate cap and floor. Null leaves a term
    /// as it is. The current rate is brought within new bounds at once: Binance's premiumIndex publishes lastFundingRate
    /// within the cap and floor (it published a rate beyond them, which no settlement would charge).
    /// </summary>
    public void SetFundingTerms(string symbol, int? intervalHours, decimal? cap, decimal? floor)
    {
        var schedule = intervalHours is { } hours ? new FundingSchedule(hours) : (FundingSchedule?)null;
        lock (_lock)
        {
            var now = SyncLocked();
            var market = Market(symbol);
            var newCap = cap ?? CapOf(market);
            var newFloor = floor ?? FloorOf(market);
            // Strictly inside (-1, 1), as a funding rate is (FundingMath.ClampRate): a cap of 1 let a rate of 1 in, and the
            // next settlement then threw on every request that synced the engine, until a reset.
            if (newCap < 0m || newFloor > 0m || newCap >= 1m || newFloor <= -1m)
            {
                throw new DomainException("cap", "the cap must be from 0 to less than 1 and the floor from more than -1 to 0");
            }

            market.FundingRateCap = newCap;
            market.FundingRateFloor = newFloor;
            market.FundingRate = FundingMath.ClampRate(market.FundingRate, newCap, newFloor);
            if (schedule is { } s)
            {
                market.FundingIntervalHours = s.IntervalHours;
                market.NextFundingTime = s.NextFundingTime(DateTimeOffset.FromUnixTimeMilliseconds(now)).ToUnixTimeMilliseconds();
            }

            _version++;
        }
    }

    /// <summary>
    /// Holds the liquidation engine back (a venue whose liquidations lag a fast market), so an account can sit at or
    /// below its maintenance margin. Resuming liquidates at once whatever is due at the current mark prices.
    /// </summary>
    public void SetLiquidationPaused(bool paused)
    {
        lock (_lock)
        {
            var now = SyncLocked();
            _liquidationPaused = paused;
            if (!paused)
            {
                CheckLiquidations(now);
            }

            _version++;
        }
    }

    public void SetFees(decimal? makerRate, decimal? takerRate)
    {
        if (makerRate is < 0m or > 0.01m || takerRate is < 0m or > 0.01m)
        {
            throw new DomainException("feeRate", "must be from 0 to 0.01");
        }

        lock (_lock)
        {
            _makerFee = makerRate ?? _makerFee;
            _takerFee = takerRate ?? _takerFee;
            _version++;
        }
    }

    /// <summary>Sets the symbol's contract status (see <see cref="MarketStatuses"/>).</summary>
    public void SetStatus(string symbol, string status)
    {
        if (status is null || !MarketStatuses.All.Contains(status))
        {
            throw new DomainException("status", $"must be one of {string.Join(", ", MarketStatuses.All)}");
        }

        lock (_lock)
        {
            Market(symbol).Status = status;
            _version++;
        }
    }

    /// <summary>The most one market order fills on <paramref name="symbol"/> (null: no limit); see <see cref="MarketState.Depth"/>.</summary>
    public void SetDepth(string symbol, decimal? quantity)
    {
        if (quantity is < 0m)
        {
            throw new DomainException("quantity", "must be zero or more (or null for no limit)");
        }

        lock (_lock)
        {
            if (quantity is { } q && q % _definitions[Market(symbol).Symbol].Filters.StepSize != 0m)
            {
                throw new DomainException("quantity", "must be a whole number of the symbol's steps (a venue never fills off the step)");
            }

            Market(symbol).Depth = quantity;
            _version++;
        }
    }

    public void SetSlippage(decimal bps)
    {
        if (bps is < 0m or > 1000m)
        {
            throw new DomainException("slippageBps", "must be from 0 to 1000");
        }

        lock (_lock)
        {
            _slippageBps = bps;
            _version++;
        }
    }

    /// <summary>Moves the simulated clock forward and settles everything that falls due on the way.</summary>
    public long Advance(TimeSpan delta)
    {
        _clock.Advance(delta);
        lock (_lock)
        {
            return SyncLocked();
        }
    }

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

    public void Reset(decimal? balance)
    {
        lock (_lock)
        {
            ResetLocked(balance ?? _options.StartingBalance);
        }
    }

    public IReadOnlyList<OrderSummary> Orders(string? clientOrderId)
    {
        lock (_lock)
        {
            return _ordersById.Values
                .Where(o => clientOrderId is null || o.ClientOrderId == clientOrderId)
                .OrderBy(o => o.OrderId)
                .Select(o => new OrderSummary(o.OrderId, o.ClientOrderId, o.Symbol, o.Side, o.Type, o.Status, o.ExecutedQty))
                .ToList();
        }
    }

    public EngineSummary Summary()
    {
        lock (_lock)
        {
            var now = SyncLocked();
            return new EngineSummary(
                now,
                _clock.Speed,
                _crossWallet,
                _takerFee,
                _makerFee,
                _slippageBps,
                _markets.Values.Select(m => new MarketSummary(
                    m.Symbol, m.MarkPrice, m.IndexPrice, m.FundingRate, m.FundingIntervalHours, m.NextFundingTime, CapOf(m), FloorOf(m))).ToList(),
                _positions.Values.Where(p => p.Amount != 0m)
                    .Select(p => new PositionSummary(p.Symbol, p.Amount, p.EntryPrice, p.Leverage, p.Isolated, p.IsolatedWallet, LiquidationOf(p) is { HasPrice: true } l ? l.Price : null))
                    .ToList(),
                _liquidationPaused);
        }
    }

    /// <summary>The state serialized under the lock (cheaper than a deep copy).</summary>
    public byte[] SerializeSnapshot()
    {
        lock (_lock)
        {
            return System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(BuildSnapshot(), State.StateJsonContext.Default.EngineSnapshot);
        }
    }

    private EngineSnapshot BuildSnapshot() => new()
    {
        ClockOffsetMs = (long)_clock.OffsetFromReal.TotalMilliseconds,
        ClockSpeed = _clock.Speed,
        LastSync = _lastSync,
        CrossWallet = _crossWallet,
        TakerFeeRate = _takerFee,
        MakerFeeRate = _makerFee,
        SlippageBps = _slippageBps,
        NextOrderId = _nextOrderId,
        NextTradeId = _nextTradeId,
        NextTranId = _nextTranId,
        RandomState = _random,
        Markets = [.. _markets.Values],
        Positions = [.. _positions.Values],
        Orders = [.. _ordersById.Values],
        AlgoOrders = [.. _algoById.Values],
        Trades = _trades,
        Income = _income,
        FundingHistory = _fundingHistory,
    };

    /// <summary>Restores a saved state. The clock keeps its saved offset from real time, so downtime passes as it would on a venue.</summary>
    public void Restore(EngineSnapshot s)
    {
        ArgumentNullException.ThrowIfNull(s);
        lock (_lock)
        {
            ResetLocked(0m);
            _income.Clear();
            _clock.SetOffsetFromReal(TimeSpan.FromMilliseconds(s.ClockOffsetMs));
            _clock.SetSpeed(s.ClockSpeed);
            _crossWallet = s.CrossWallet;
            _takerFee = s.TakerFeeRate;
            _makerFee = s.MakerFeeRate;
            _slippageBps = s.SlippageBps;
            _nextOrderId = s.NextOrderId;
            _nextTradeId = s.NextTradeId;
            // The saved next id, or above the clock when that is higher (a state saved when ids began at a constant).
            _nextTranId = Math.Max(s.NextTranId, _nextTranId);
            _random = s.RandomState;
            _lastSync = s.LastSync;
            foreach (var m in s.Markets.Where(m => _definitions.ContainsKey(m.Symbol)))
            {
                _markets[m.Symbol] = m;
            }

            foreach (var p in s.Positions.Where(p => _definitions.ContainsKey(p.Symbol)))
            {
                _positions[p.Symbol] = p;
            }

            // Oldest first, so an id used by several orders resolves to the newest, as when they were placed.
            foreach (var o in s.Orders.OrderBy(o => o.OrderId))
            {
                Register(o);
                if (o.Status == "NEW")
                {
                    _openOrders.Add(o);
                }
            }

            foreach (var a in s.AlgoOrders.OrderBy(a => a.AlgoId))
            {
                _algoById[a.AlgoId] = a;
                _algoByClientId[a.ClientAlgoId] = a;
                if (a.AlgoStatus == "NEW")
                {
                    _openAlgo.Add(a);
                }
            }

            foreach (var trade in s.Trades)
            {
                AddTrade(trade);
            }

            _income.AddRange(s.Income);
            _fundingHistory.AddRange(s.FundingHistory);
            _version++;
        }
    }
}
