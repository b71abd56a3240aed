using Microsoft.Extensions.Time.Testing;
using TradeEngine.Binance.Errors;
using TradeEngine.Binance.Internal.Http;
using TradeEngine.Binance.Models;
using TradeEngine.Domain;

namespace TradeEngine.Binance.Tests.Client;

public class RateLimitGovernorTests
{
    private static readonly DateTimeOffset Start = new(2026, 1, 1, 10, 0, 30, TimeSpan.Zero);

    [Fact]
    public async Task WaitTurnAsync_ReportedWeightAtTheLimit_WaitsForTheNextMinute()
    {
        var time = new FakeTimeProvider(Start);
        var governor = new RateLimitGovernor(time, time.GetUtcNow, TimeSpan.FromSeconds(30), usage: 0.9);
        governor.ApplyLimits([new RateLimit("REQUEST_WEIGHT", "MINUTE", 1, 100)]);
        governor.Observe(usedWeight1m: 89, orders10s: null, orders1m: null);

        await governor.WaitTurnAsync(1, isOrder: false, "GET x", CancellationToken.None);
        var blocked = governor.WaitTurnAsync(1, isOrder: false, "GET x", CancellationToken.None);
        time.Advance(TimeSpan.FromSeconds(29));
        Assert.False(blocked.IsCompleted);
        time.Advance(TimeSpan.FromSeconds(2));
        await blocked.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.True(blocked.IsCompletedSuccessfully);
    }

    [Fact]
    public async Task WaitTurnAsync_OrderCountAt10SecondLimit_HoldsOrdersButNotOtherCalls()
    {
        var time = new FakeTimeProvider(Start);
        var governor = new RateLimitGovernor(time, time.GetUtcNow, TimeSpan.FromSeconds(30), usage: 1.0);
        governor.ApplyLimits([new RateLimit("ORDERS", "SECOND", 10, 5)]);
        governor.Observe(null, orders10s: 5, orders1m: 5);
        var order = governor.WaitTurnAsync(0, isOrder: true, "POST order", CancellationToken.None);
        await governor.WaitTurnAsync(1, isOrder: false, "GET x", CancellationToken.None);
        Assert.False(order.IsCompleted);
        time.Advance(TimeSpan.FromSeconds(11));
        await order.WaitAsync(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task WaitTurnAsync_BackOffLongerThanAllowed_ThrowsWithoutWaiting()
    {
        var time = new FakeTimeProvider(Start);
        var governor = new RateLimitGovernor(time, time.GetUtcNow, TimeSpan.FromSeconds(5), usage: 0.9);
        governor.BackOff(429, Start.AddMinutes(2));
        var e = await Assert.ThrowsAsync<BinanceRateLimitException>(() => governor.WaitTurnAsync(1, false, "GET x", CancellationToken.None));
        Assert.Equal(Start.AddMinutes(2), e.RetryAt);
        Assert.Equal(TimeSpan.FromMinutes(2), e.RetryAfter);
    }

    [Fact]
    public async Task WaitTurnAsync_RequestHeavierThanTheWholeBudget_GoesAloneInAFreshWindowInsteadOfWaitingForever()
    {
        var time = new FakeTimeProvider(Start);
        var governor = new RateLimitGovernor(time, time.GetUtcNow, TimeSpan.FromSeconds(30), usage: 0.9);
        governor.ApplyLimits([new RateLimit("REQUEST_WEIGHT", "MINUTE", 1, 100)]);
        governor.Observe(usedWeight1m: 10, orders10s: null, orders1m: null);

        var heavy = governor.WaitTurnAsync(200, isOrder: false, "GET heavy", CancellationToken.None);
        Assert.False(heavy.IsCompleted);
        time.Advance(TimeSpan.FromSeconds(31));
        await heavy.WaitAsync(TimeSpan.FromSeconds(5));
        var next = governor.WaitTurnAsync(1, isOrder: false, "GET x", CancellationToken.None);
        Assert.False(next.IsCompleted);
    }
    [Fact]
    public async Task WaitTurnAsync_ZeroWeightOrderWithTheWeightOverTheBudget_GoesAtOnceWhileAReadWaits()
    {
        var time = new FakeTimeProvider(Start);
        var governor = new RateLimitGovernor(time, time.GetUtcNow, TimeSpan.FromSeconds(30), usage: 0.9);
        governor.ApplyLimits([new RateLimit("REQUEST_WEIGHT", "MINUTE", 1, 100)]);
        governor.Observe(usedWeight1m: 99, orders10s: null, orders1m: null);

        var read = governor.WaitTurnAsync(1, isOrder: false, "GET x", CancellationToken.None);
        var order = governor.WaitTurnAsync(0, isOrder: true, "POST order", CancellationToken.None);
        Assert.True(order.IsCompletedSuccessfully);
        Assert.False(read.IsCompleted);
        time.Advance(TimeSpan.FromSeconds(31));
        await read.WaitAsync(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task WaitTurnAsync_FundingShareUsedUpNearTheWindowsEnd_WaitsForTheNextWindowNotTheWeight()
    {
        // 10:04:50: the 5-minute window ends in 10 s, within the allowed wait.
        var time = new FakeTimeProvider(Start.AddMinutes(4).AddSeconds(20));
        var governor = new RateLimitGovernor(time, time.GetUtcNow, TimeSpan.FromSeconds(30), usage: 0.5, fundingRouteLimit: 4);
        governor.ApplyLimits([new RateLimit("REQUEST_WEIGHT", "MINUTE", 1, 100)]);
        governor.Observe(usedWeight1m: 99, orders10s: null, orders1m: null);

        // Weight 0: the IP's weight (over the budget) does not hold the funding routes back; their own share does.
        await governor.WaitTurnAsync(0, isOrder: false, "GET fundingInfo", CancellationToken.None, fundingRoute: true);
        await governor.WaitTurnAsync(0, isOrder: false, "GET fundingInfo", CancellationToken.None, fundingRoute: true);
        var third = governor.WaitTurnAsync(0, isOrder: false, "GET fundingInfo", CancellationToken.None, fundingRoute: true);
        time.Advance(TimeSpan.FromSeconds(9));
        Assert.False(third.IsCompleted);
        time.Advance(TimeSpan.FromSeconds(2));
        await third.WaitAsync(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task BackOff_FundingRoute429_HoldsOnlyTheFundingRoutesButA418HoldsEverything()
    {
        var time = new FakeTimeProvider(Start);
        var governor = new RateLimitGovernor(time, time.GetUtcNow, TimeSpan.FromSeconds(5), usage: 0.9);
        governor.BackOff(429, Start.AddMinutes(4), fundingRoute: true);

        await governor.WaitTurnAsync(1, isOrder: false, "GET x", CancellationToken.None);
        Assert.Equal(DateTimeOffset.MinValue, governor.BlockedUntil);
        var held = await Assert.ThrowsAsync<BinanceRateLimitException>(
            () => governor.WaitTurnAsync(0, isOrder: false, "GET fundingRate", CancellationToken.None, fundingRoute: true));
        Assert.Equal(Start.AddMinutes(4), held.RetryAt);

        governor.BackOff(418, Start.AddMinutes(2), fundingRoute: true);
        var banned = await Assert.ThrowsAsync<BinanceRateLimitException>(() => governor.WaitTurnAsync(1, isOrder: false, "GET x", CancellationToken.None));
        Assert.True(banned.IsBan);
    }
    [Theory]
    [InlineData(59, VenuePriority.Background, false)]
    [InlineData(60, VenuePriority.Background, true)]
    [InlineData(60, VenuePriority.Normal, false)]
    [InlineData(89, VenuePriority.Normal, false)]
    [InlineData(90, VenuePriority.Normal, true)]
    [InlineData(90, VenuePriority.Urgent, false)]
    [InlineData(99, VenuePriority.Urgent, false)]
    [InlineData(100, VenuePriority.Urgent, true)]
    public async Task WaitTurnAsync_EachPriorityHeldOnlyAtItsOwnShare_UrgentAtTheLimitItself(int used, VenuePriority priority, bool held)
    {
        var time = new FakeTimeProvider(Start);
        var governor = new RateLimitGovernor(time, time.GetUtcNow, TimeSpan.FromSeconds(30), usage: 0.9, backgroundUsage: 0.6);
        governor.ApplyLimits([new RateLimit("REQUEST_WEIGHT", "MINUTE", 1, 100)]);
        governor.Observe(usedWeight1m: used, orders10s: null, orders1m: null);

        var read = governor.WaitTurnAsync(1, isOrder: false, "GET x", CancellationToken.None, priority: priority);

        Assert.Equal(!held, read.IsCompletedSuccessfully);
        time.Advance(TimeSpan.FromSeconds(31));
        await read.WaitAsync(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task WaitTurnAsync_OrderCountsPastTheClientsShare_AnUrgentOrderGoesANormalOneWaits()
    {
        var time = new FakeTimeProvider(Start);
        var governor = new RateLimitGovernor(time, time.GetUtcNow, TimeSpan.FromSeconds(30), usage: 0.9);
        governor.ApplyLimits([new RateLimit("ORDERS", "SECOND", 10, 100)]);
        governor.Observe(null, orders10s: 95, orders1m: 95);

        var normal = governor.WaitTurnAsync(0, isOrder: true, "POST order", CancellationToken.None);
        await governor.WaitTurnAsync(0, isOrder: true, "POST order", CancellationToken.None, priority: VenuePriority.Urgent)
            .WaitAsync(TimeSpan.FromSeconds(5));

        Assert.False(normal.IsCompleted);
        time.Advance(TimeSpan.FromSeconds(11));
        await normal.WaitAsync(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task WaitTurnAsync_HoldLimitShorterThanTheWait_RefusedAtOnceNotSent_AShortWaitStillWaits()
    {
        var time = new FakeTimeProvider(Start);
        var governor = new RateLimitGovernor(time, time.GetUtcNow, TimeSpan.FromSeconds(30), usage: 0.9);
        governor.ApplyLimits([new RateLimit("REQUEST_WEIGHT", "MINUTE", 1, 100)]);
        governor.Observe(usedWeight1m: 90, orders10s: null, orders1m: null);

        // 30 s to the minute's end: longer than the 2 s this request may wait.
        var refused = await Assert.ThrowsAsync<BinanceRateLimitException>(
            () => governor.WaitTurnAsync(1, isOrder: false, "GET x", CancellationToken.None, holdLimit: TimeSpan.FromSeconds(2)));
        Assert.Contains("not sent: this client's normal share of the weight limit is used up for 30 s, longer than this request may wait (2 s)", refused.Message, StringComparison.Ordinal);
        Assert.Equal(Start.AddSeconds(30).AddMilliseconds(1), refused.RetryAt);
        Assert.Equal(TimeSpan.FromSeconds(30).Add(TimeSpan.FromMilliseconds(1)), refused.RetryAfter);

        // 1 s before the minute's end the same wait fits the limit: held, then sent.
        time.Advance(TimeSpan.FromSeconds(29));
        var held = governor.WaitTurnAsync(1, isOrder: false, "GET x", CancellationToken.None, holdLimit: TimeSpan.FromSeconds(2));
        Assert.False(held.IsCompleted);
        time.Advance(TimeSpan.FromSeconds(2));
        await held.WaitAsync(TimeSpan.FromSeconds(5));

        // A back-off longer than the hold limit is refused too.
        governor.BackOff(429, time.GetUtcNow().AddSeconds(10));
        await Assert.ThrowsAsync<BinanceRateLimitException>(
            () => governor.WaitTurnAsync(1, isOrder: false, "GET x", CancellationToken.None, holdLimit: TimeSpan.FromSeconds(2)));
    }

    [Fact]
    public async Task WaitTurnAsync_HoldLimit_CountsEveryWaitOfTheRequestNotEachAlone()
    {
        // 2.5 s before the minute's end, the client's share used up; a back-off of 1.5 s first.
        var time = new FakeTimeProvider(Start.AddSeconds(27.5));
        var governor = new RateLimitGovernor(time, time.GetUtcNow, TimeSpan.FromSeconds(30), usage: 0.9);
        governor.ApplyLimits([new RateLimit("REQUEST_WEIGHT", "MINUTE", 1, 100)]);
        governor.Observe(usedWeight1m: 90, orders10s: null, orders1m: null);
        governor.BackOff(429, time.GetUtcNow().AddSeconds(1.5));

        // The back-off (1.5 s) fits the 2 s; the weight's 1 s after it does not fit the 0.5 s left: refused then.
        var held = governor.WaitTurnAsync(1, isOrder: false, "GET x", CancellationToken.None, holdLimit: TimeSpan.FromSeconds(2));
        Assert.False(held.IsCompleted);
        time.Advance(TimeSpan.FromSeconds(1.5));
        var refused = await Assert.ThrowsAsync<BinanceRateLimitException>(() => held.WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.Contains("share of the weight limit is used up for 1 s, longer than this request may wait (0.5 s)", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void UsageOf_BackgroundConfiguredAboveTheNormalShare_NeverMoreThanIt()
    {
        var time = new FakeTimeProvider(Start);

        var governor = new RateLimitGovernor(time, time.GetUtcNow, TimeSpan.FromSeconds(30), usage: 0.5, backgroundUsage: 0.8);

        Assert.Equal((0.5, 0.5, 1.0), (governor.UsageOf(VenuePriority.Background), governor.UsageOf(VenuePriority.Normal), governor.UsageOf(VenuePriority.Urgent)));
    }

    [Fact]
    public async Task WaitTurnAsync_BackOffAfterA429_HoldsAnUrgentRequestToo()
    {
        var time = new FakeTimeProvider(Start);
        var governor = new RateLimitGovernor(time, time.GetUtcNow, TimeSpan.FromSeconds(30), usage: 0.9);
        governor.BackOff(429, Start.AddSeconds(10));

        var urgent = governor.WaitTurnAsync(1, isOrder: false, "GET x", CancellationToken.None, priority: VenuePriority.Urgent);

        Assert.False(urgent.IsCompleted);
        time.Advance(TimeSpan.FromSeconds(10));
        await urgent.WaitAsync(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task Metrics_HeldThenSentAndRefused_RecordedWithTheirLimitAndReason()
    {
        var measurements = new List<(string Instrument, double Value, string? Limit, string? Reason, string? Priority)>();
        using var listener = new System.Diagnostics.Metrics.MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == "TradeEngine.Binance")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        void Record(System.Diagnostics.Metrics.Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            string? endpoint = null, limit = null, reason = null, priority = null;
            foreach (var tag in tags)
            {
                (endpoint, limit, reason, priority) = tag.Key switch
                {
                    "endpoint" => ((string?)tag.Value, limit, reason, priority),
                    "limit" => (endpoint, (string?)tag.Value, reason, priority),
                    "reason" => (endpoint, limit, (string?)tag.Value, priority),
                    "priority" => (endpoint, limit, reason, (string?)tag.Value),
                    _ => (endpoint, limit, reason, priority),
                };
            }

            if (endpoint is "GET metrics-held" or "GET metrics-refused")
            {
                lock (measurements)
                {
                    measurements.Add((instrument.Name, value, limit, reason, priority));
                }
            }
        }

        listener.SetMeasurementEventCallback<long>((i, v, t, _) => Record(i, v, t));
        listener.SetMeasurementEventCallback<double>((i, v, t, _) => Record(i, v, t));
        listener.Start();

        var time = new FakeTimeProvider(Start);
        var governor = new RateLimitGovernor(time, time.GetUtcNow, TimeSpan.FromSeconds(30), usage: 0.9, fundingRouteLimit: 2);
        governor.ApplyLimits([new RateLimit("REQUEST_WEIGHT", "MINUTE", 1, 100)]);
        governor.Observe(usedWeight1m: 90, orders10s: null, orders1m: null);
        var held = governor.WaitTurnAsync(1, isOrder: false, "GET metrics-held", CancellationToken.None);
        time.Advance(TimeSpan.FromSeconds(31));
        await held.WaitAsync(TimeSpan.FromSeconds(5));

        await governor.WaitTurnAsync(0, isOrder: false, "GET metrics-refused", CancellationToken.None, fundingRoute: true, VenuePriority.Background);
        await Assert.ThrowsAsync<BinanceRateLimitException>(
            () => governor.WaitTurnAsync(0, isOrder: false, "GET metrics-refused", CancellationToken.None, fundingRoute: true, VenuePriority.Background));

        Assert.Equal(
            [("tradeengine.binance.rate_limit.held", 1d, "weight", null, "normal"), ("tradeengine.binance.rate_limit.hold_time", 31d, "weight", null, "normal"),
             ("tradeengine.binance.rate_limit.refused", 1d, null, "funding_share", "background")],
            measurements.Select(m => (m.Instrument, Math.Round(m.Value), m.Limit, m.Reason, m.Priority)).ToList<(string, double, string?, string?, string?)>());
    }
}
