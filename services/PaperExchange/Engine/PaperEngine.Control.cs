using TradeEngine.Domain;
using TradeEngine.Domain.Funding;

namespace TradeEngine.PaperExchange.Engine;

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

    public void Reset(decimal? balance)
    {
        lock (_lock)
        {
            ResetLocked(balance ?? _options.StartingBalance);
        }
    }
}
