namespace TradeEngine.PaperExchange.Clock;

/// <summary>
/// The simulator's clock: real time scaled by <see cref="Speed"/> from an anchor, plus any jumps
/// the control API asks for. Everything in the simulator reads time from here.
/// </summary>
public sealed class SimulatedClock : TimeProvider
{
    private readonly TimeProvider _real;
    private readonly Lock _lock = new();
    private DateTimeOffset _anchorReal;
    private DateTimeOffset _anchorSim;
    private double _speed;

    public SimulatedClock(TimeProvider real, DateTimeOffset? start = null, double speed = 1.0)
    {
        _real = real;
        _anchorReal = real.GetUtcNow();
        _anchorSim = start ?? _anchorReal;
        _speed = speed;
    }

    public double Speed
    {
        get
        {
            lock (_lock)
            {
                return _speed;
            }
        }
    }

    public override DateTimeOffset GetUtcNow()
    {
        lock (_lock)
        {
            return Now();
        }
    }

    /// <summary>The real time this clock runs from (not scaled, not advanced).</summary>
    public DateTimeOffset RealUtcNow => _real.GetUtcNow();

    /// <summary>Simulated minus real time, for persisting the clock across a restart.</summary>
    public TimeSpan OffsetFromReal => GetUtcNow() - _real.GetUtcNow();

    public DateTimeOffset Advance(TimeSpan delta)
    {
        if (delta < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(delta), "the simulated clock never goes back");
        }

        lock (_lock)
        {
            Reanchor();
            _anchorSim += delta;
            return _anchorSim;
        }
    }

    public void SetSpeed(double speed)
    {
        if (speed is < 0 or > 1_000_000 || double.IsNaN(speed))
        {
            throw new ArgumentOutOfRangeException(nameof(speed), "must be from 0 to 1,000,000");
        }

        lock (_lock)
        {
            Reanchor();
            _speed = speed;
        }
    }

    /// <summary>Sets the clock to real time plus <paramref name="offset"/> (restoring a saved clock).</summary>
    public void SetOffsetFromReal(TimeSpan offset)
    {
        lock (_lock)
        {
            _anchorReal = _real.GetUtcNow();
            _anchorSim = _anchorReal + offset;
        }
    }

    /// <summary>Moves the clock to <paramref name="time"/> if that is later than now.</summary>
    public void JumpTo(DateTimeOffset time)
    {
        lock (_lock)
        {
            Reanchor();
            if (time > _anchorSim)
            {
                _anchorSim = time;
            }
        }
    }

    private DateTimeOffset Now()
    {
        var elapsed = _real.GetUtcNow() - _anchorReal;
        return _anchorSim + (_speed == 1.0 ? elapsed : TimeSpan.FromTicks((long)(elapsed.Ticks * _speed)));
    }

    private void Reanchor()
    {
        var now = Now();
        _anchorReal = _real.GetUtcNow();
        _anchorSim = now;
    }
}
