using Microsoft.Extensions.Logging;
using TradeEngine.Domain.Funding;
using TradeEngine.PaperExchange.Clock;
using TradeEngine.PaperExchange.Markets;
using TradeEngine.PaperExchange.Options;

namespace TradeEngine.PaperExchange.Engine;

/// <summary>
/// The simulated exchange: one USDT account (one-way mode by default; hedge mode takes no order), a market per symbol, orders, conditional (algo)
/// orders, fills, funding, liquidation and the income ledger. Every public member takes the one lock, first
/// brings the simulation up to the clock (price steps, funding times, triggers), then acts.
/// Trading lives in <c>PaperEngine.Orders.cs</c> (orders), <c>PaperEngine.Conditional.cs</c> (algo orders and their
/// triggers), <c>PaperEngine.Fills.cs</c> and <c>PaperEngine.Validation.cs</c> (the order checks); margin/funding/liquidation
/// in <c>PaperEngine.Risk.cs</c>; read endpoints in <c>PaperEngine.Queries.cs</c> (market data), <c>PaperEngine.OrderQueries.cs</c>
/// and <c>PaperEngine.History.cs</c> (income and trades); the control API in <c>PaperEngine.Control.cs</c>,
/// <c>PaperEngine.Transfers.cs</c>, <c>PaperEngine.Summary.cs</c> and <c>PaperEngine.Snapshot.cs</c>.
/// </summary>
public sealed partial class PaperEngine
{
    private const string Asset = "USDT";
    private const int MaxStepsPerSync = 2_000_000;
    private const long FirstConstantTranId = 9_000_000_001;

    private readonly Lock _lock = new();
    private readonly SimulatedClock _clock;
    private readonly PaperOptions _options;
    private readonly ILogger<PaperEngine> _logger;
    private readonly Dictionary<string, MarketDefinition> _definitions;
    private readonly Dictionary<string, MarketState> _markets = new(StringComparer.Ordinal);
    private readonly Dictionary<string, PositionState> _positions = new(StringComparer.Ordinal);
    private readonly Dictionary<long, OrderState> _ordersById = [];
    private readonly Dictionary<(string Symbol, string ClientId), OrderState> _ordersByClientId = [];
    private readonly List<OrderState> _openOrders = [];
    private readonly Dictionary<long, AlgoOrderState> _algoById = [];
    private readonly Dictionary<string, AlgoOrderState> _algoByClientId = new(StringComparer.Ordinal);
    private readonly List<AlgoOrderState> _openAlgo = [];
    private readonly List<TradeState> _trades = [];

    // The same trades per symbol, in id order, for userTrades: a query reads its symbol's trades from where its window
    // starts instead of every trade of every symbol.
    private readonly Dictionary<string, SymbolTrades> _tradesBySymbol = new(StringComparer.Ordinal);
    private readonly List<IncomeState> _income = [];
    private readonly List<FundingRecordState> _fundingHistory = [];

    private decimal _crossWallet;
    private decimal _takerFee;
    private decimal _makerFee;
    private bool _feeBurn;
    private bool _dualSide;
    private decimal _bnbWallet;
    private decimal _slippageBps;
    private long _nextOrderId;
    private long _nextTradeId;
    private long _nextTranId;
    private long _lastSync;
    private ulong _random;
    private long _version;
    private bool _liquidationPaused;

    public PaperEngine(SimulatedClock clock, PaperOptions options, ILogger<PaperEngine> logger)
    {
        _clock = clock;
        _options = options;
        _logger = logger;
        _definitions = MarketCatalog.Build(options).ToDictionary(d => d.Symbol, StringComparer.Ordinal);
        ResetLocked(options.StartingBalance);
    }

    public SimulatedClock Clock => _clock;

    public IReadOnlyCollection<MarketDefinition> Definitions => _definitions.Values;

    /// <summary>Bumped by every change; the state writer saves when it moved.</summary>
    public long Version => Interlocked.Read(ref _version);

    public long NowMs => _clock.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>Brings the simulation up to the clock (used by the background ticker between requests).</summary>
    public void Sync()
    {
        lock (_lock)
        {
            SyncLocked();
        }
    }

    private long SyncLocked()
    {
        var now = NowMs;
        if (now <= _lastSync)
        {
            return _lastSync;
        }

        var stepMs = Math.Max(1L, (long)_options.PriceStep.TotalMilliseconds);
        var moving = _markets.Values.Any(m => m.Volatility > 0m || m.PendingPath.Count > 0);
        var nextStep = moving ? (_lastSync / stepMs + 1) * stepMs : long.MaxValue;
        if (moving && (now - nextStep) / stepMs > MaxStepsPerSync)
        {
            // A jump longer than the walk can follow: skip ahead, keeping funding times exact.
            nextStep = now - (MaxStepsPerSync * stepMs);
        }

        while (true)
        {
            var nextFunding = long.MaxValue;
            foreach (var m in _markets.Values)
            {
                nextFunding = Math.Min(nextFunding, m.NextFundingTime);
            }

            var t = Math.Min(nextStep, nextFunding);
            if (t > now)
            {
                break;
            }

            if (t == nextStep)
            {
                StepPrices(t);
                nextStep += stepMs;
            }

            if (t == nextFunding)
            {
                foreach (var m in _markets.Values)
                {
                    if (m.NextFundingTime == t)
                    {
                        SettleFunding(m, t);
                    }
                }
            }
        }

        _lastSync = now;
        return now;
    }

    private void StepPrices(long time)
    {
        foreach (var m in _markets.Values)
        {
            decimal next;
            if (m.PendingPath.Count > 0)
            {
                next = m.PendingPath[0];
                m.PendingPath.RemoveAt(0);
            }
            else if (m.Volatility > 0m)
            {
                // Integer draw in [-1000, 1000] → a move of up to ±volatility, in decimal (no binary floating point).
                var k = (long)(NextRandom() % 2001UL) - 1000L;
                next = m.IndexPrice * (1m + (m.Volatility * k / 1000m));
                var def = _definitions[m.Symbol];
                next = Math.Max(def.Filters.TickSize, def.Filters.FloorToTick(next));
            }
            else
            {
                continue;
            }

            SetMarketPrice(m, next, next, time);
        }
    }

    private void SetMarketPrice(MarketState m, decimal index, decimal mark, long time)
    {
        m.IndexPrice = index;
        m.MarkPrice = mark;
        m.LastPriceChange = time;
        _version++;
        OnMarkChanged(m, time);
    }

    private ulong NextRandom()
    {
        // SplitMix64: tiny, deterministic and persistable as one number.
        var z = _random += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    private void ResetLocked(decimal balance)
    {
        var now = NowMs;
        // What the reset moves into or out of the wallet (all of it on a fresh start, where the wallet is 0).
        var moved = balance - _crossWallet;
        _markets.Clear();
        foreach (var d in _definitions.Values)
        {
            _markets[d.Symbol] = new MarketState
            {
                Symbol = d.Symbol,
                IndexPrice = d.InitialPrice,
                MarkPrice = d.InitialPrice,
                FundingRate = d.DefaultFundingRate,
                FundingIntervalHours = d.FundingIntervalHours,
                NextFundingTime = new FundingSchedule(d.FundingIntervalHours).NextFundingTime(DateTimeOffset.FromUnixTimeMilliseconds(now)).ToUnixTimeMilliseconds(),
                Volatility = d.Volatility,
                PendingPath = [.. d.Replay.Skip(1)],
                LastPriceChange = now,
            };
        }

        _positions.Clear();
        _ordersById.Clear();
        _ordersByClientId.Clear();
        _openOrders.Clear();
        _algoById.Clear();
        _algoByClientId.Clear();
        _openAlgo.Clear();
        _trades.Clear();
        _tradesBySymbol.Clear();
        _income.Clear();
        _fundingHistory.Clear();
        _crossWallet = balance;
        _takerFee = _options.TakerFeeRate;
        _makerFee = _options.MakerFeeRate;
        _feeBurn = _options.FeeBurn;
        _dualSide = _options.DualSidePosition;
        _bnbWallet = _options.StartingBnbBalance;
        _slippageBps = _options.SlippageBps;
        _liquidationPaused = false;
        _nextOrderId = 1_000_001;
        _nextTradeId = 5_000_001;
        // Never back: a Ledger that outlives a reset (or a restart with a fresh state) must not see a tranId again
        // with another payload.
        _nextTranId = Math.Max(_nextTranId, FirstTranId());
        _random = (ulong)_options.Seed;
        _lastSync = now;
        _version++;
        // The wallet moved as a transfer would move it, and is booked as one: a reset to the balance the wallet already
        // has books nothing. Booking the whole balance on every reset read, to whatever books the venue's transfers (Funding,
        // into a Ledger that outlives the reset), as a deposit of the whole balance each time: day-start and peak equity in
        // today's money grew by it, and the next check measured it as a loss.
        if (moved != 0m)
        {
            AddIncome("", "TRANSFER", moved, now, "");
        }
    }

    private MarketState Market(string? symbol)
    {
        if (symbol is null || !_markets.TryGetValue(symbol, out var m))
        {
            throw VenueErrors.BadSymbol();
        }

        return m;
    }

    private PositionState Position(string symbol)
    {
        if (!_positions.TryGetValue(symbol, out var p))
        {
            p = new PositionState { Symbol = symbol };
            _positions[symbol] = p;
        }

        return p;
    }

    /// <summary>
    /// The first transaction id of a fresh state: the later of the simulated and the real clock in milliseconds × 1000,
    /// never below 9,000,000,001 (the constant ids began at). A reset or a restart without a state file so starts above
    /// every id an earlier run could have given at up to 1,000 income rows a millisecond, even with a fixed
    /// <c>Paper:StartTime</c>.
    /// </summary>
    private long FirstTranId()
    {
        var ms = Math.Max(NowMs, _clock.RealUtcNow.ToUnixTimeMilliseconds());
        return Math.Max(FirstConstantTranId, ms * 1000);
    }

    private IncomeState AddIncome(string symbol, string type, decimal amount, long time, string tradeId, string asset = Asset)
    {
        var row = new IncomeState
        {
            TranId = _nextTranId++,
            Symbol = symbol,
            IncomeType = type,
            Income = amount,
            Asset = asset,
            Info = type,
            Time = time,
            TradeId = tradeId,
        };
        _income.Add(row);
        return row;
    }
}
