using TradeEngine.Testing;

namespace TradeEngine.Risk.Tests.Support;

/// <summary>An account source that counts the margin monitor's reads of it (one each tick).</summary>
public interface IReadCounting
{
    int Reads { get; }
}

/// <summary>
/// Waits for the margin monitor's ticks by their reads of the account, not by the clock: "nothing more after more ticks"
/// is asserted after ticks that surely ran. Before, the tests slept two or three seconds, and on a loaded machine the
/// monitor may not have ticked at all in that time, so "no alert" held without anything being judged.
/// </summary>
public static class MonitorTicks
{
    /// <summary>
    /// Returns once <paramref name="ticks"/> whole ticks have run after the call: the tick reading now (if one is) may have
    /// read before the call, so one read more is waited for.
    /// </summary>
    public static Task PassAsync(IReadCounting source, int ticks)
    {
        ArgumentNullException.ThrowIfNull(source);
        return Poll.RunsAsync(() => source.Reads, ticks);
    }
}
