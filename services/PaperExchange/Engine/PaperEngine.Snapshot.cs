namespace TradeEngine.PaperExchange.Engine;

public sealed partial class PaperEngine
{
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
        FeeBurn = _feeBurn,
        DualSidePosition = _dualSide,
        BnbWallet = _bnbWallet,
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
            _feeBurn = s.FeeBurn;
            _dualSide = s.DualSidePosition;
            _bnbWallet = s.BnbWallet;
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
