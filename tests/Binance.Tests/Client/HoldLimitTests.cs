using System.Diagnostics;
using TradeEngine.Binance.Errors;
using TradeEngine.Binance.Models;
using TradeEngine.Binance.Tests.Infrastructure;
using TradeEngine.Domain;
using TradeEngine.PaperExchange.Control;
using TradeEngine.Testing;

namespace TradeEngine.Binance.Tests.Client;

/// <summary>
/// A hold limit (<see cref="VenueHoldLimit"/>) is a budget for everything its scope sends: an open holding its symbol's
/// lock may be held back by the venue's limits for 2 s in all, not 2 s for each of its requests one after another, and
/// not for as long as a clock sync it queues behind takes.
/// </summary>
public class HoldLimitTests : PaperTest
{
    private const string PricePath = "/fapi/v1/ticker/price";

    [Fact]
    public void Enter_Nested_TheInnerBudgetIsNoMoreThanTheOuterHasLeftAndSpendingCountsAgainstBoth()
    {
        Assert.Null(VenueHoldLimit.Current);
        using (VenueHoldLimit.Enter(TimeSpan.FromSeconds(2)))
        {
            VenueHoldLimit.Spend(TimeSpan.FromSeconds(0.5));
            Assert.Equal(TimeSpan.FromSeconds(1.5), VenueHoldLimit.Current);
            using (VenueHoldLimit.Enter(TimeSpan.FromSeconds(3)))
            {
                Assert.Equal(TimeSpan.FromSeconds(1.5), VenueHoldLimit.Current);
                VenueHoldLimit.Spend(TimeSpan.FromSeconds(1));
                Assert.Equal(TimeSpan.FromSeconds(0.5), VenueHoldLimit.Current);
                using (VenueHoldLimit.Enter(null))
                {
                    // Unbounded on purpose (work that must wait as long as it takes): nothing is counted against the outer.
                    VenueHoldLimit.Spend(TimeSpan.FromSeconds(10));
                    Assert.Null(VenueHoldLimit.Current);
                }
            }

            Assert.Equal(TimeSpan.FromSeconds(0.5), VenueHoldLimit.Current);
            VenueHoldLimit.Spend(TimeSpan.FromSeconds(1));
            Assert.Equal(TimeSpan.Zero, VenueHoldLimit.Current);
        }

        Assert.Null(VenueHoldLimit.Current);
    }

    [Fact]
    public void Hold_OverlappingHoldsOfOneFlow_CountOnceNotSummed()
    {
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider();
        using (VenueHoldLimit.Enter(TimeSpan.FromSeconds(2)))
        {
            // Two requests made at once, each held back: 0.5 s alone, 0.5 s together, 0.5 s the second alone.
            var first = VenueHoldLimit.Hold(time);
            time.Advance(TimeSpan.FromSeconds(0.5));
            var second = VenueHoldLimit.Hold(time);
            time.Advance(TimeSpan.FromSeconds(0.5));
            Assert.Equal(TimeSpan.FromSeconds(1), VenueHoldLimit.Current);
            first.Dispose();
            time.Advance(TimeSpan.FromSeconds(0.5));
            second.Dispose();

            // 1.5 s held in all (summed it would be 2 s, nothing left).
            Assert.Equal(TimeSpan.FromSeconds(0.5), VenueHoldLimit.Current);
        }

        // Without a budget a hold counts nothing.
        using (VenueHoldLimit.Hold(time))
        {
            Assert.Null(VenueHoldLimit.Current);
        }
    }

    [Fact]
    public async Task TwoRequestsInOneScope_TheSecondMayOnlyWaitWhatTheFirstLeft()
    {
        await Client.GetTickerPriceAsync("BTCUSDT");
        await Paper.InjectFaultAsync(FaultKind.RateLimit, PricePath, retryAfterSeconds: 1);

        using (VenueHoldLimit.Enter(TimeSpan.FromSeconds(1.5)))
        {
            // Held 1 s after a 429 (within the 1.5 s), then sent again: it succeeds, and 0.5 s of the budget is left.
            var watch = Stopwatch.StartNew();
            await Client.GetTickerPriceAsync("BTCUSDT");
            Assert.True(watch.Elapsed >= TimeSpan.FromMilliseconds(950), $"held only {watch.Elapsed}");
            Assert.InRange(VenueHoldLimit.Current!.Value, TimeSpan.Zero, TimeSpan.FromSeconds(0.55));

            // The next 429 asks for 1 s more than that: refused at once, not sent again (each request alone would have
            // fitted 1.5 s).
            await Paper.InjectFaultAsync(FaultKind.RateLimit, PricePath, retryAfterSeconds: 1);
            watch.Restart();
            await Assert.ThrowsAsync<BinanceRateLimitException>(() => Client.GetTickerPriceAsync("BTCUSDT"));
            Assert.True(watch.Elapsed < TimeSpan.FromMilliseconds(800), $"held {watch.Elapsed} before the refusal");
        }

        Assert.Equal(4, await Paper.RequestCountAsync("GET " + PricePath));
    }

    [Fact]
    public async Task SignedRequest_ClockSyncWouldWaitOutABackOff_RefusedAtOnceNotSent()
    {
        // A fresh client syncs its clock before its first signed request. A 429 on a read (asking for 5 s) backs the
        // client off first; the read itself, with no budget to wait, is refused.
        var client = Paper.CreateClient();
        await Paper.InjectFaultAsync(FaultKind.RateLimit, PricePath, retryAfterSeconds: 5);
        using (VenueHoldLimit.Enter(TimeSpan.Zero))
        {
            await Assert.ThrowsAsync<BinanceRateLimitException>(() => client.GetTickerPriceAsync("BTCUSDT"));
        }

        // The sync (urgent, unbounded: others share it) would wait out the back-off: a signed request that may wait 1 s
        // does not start it, and is refused at once.
        var watch = Stopwatch.StartNew();
        BinanceRateLimitException refused;
        using (VenueHoldLimit.Enter(TimeSpan.FromSeconds(1)))
        {
            refused = await Assert.ThrowsAsync<BinanceRateLimitException>(() => client.GetPositionsAsync("BTCUSDT"));
        }

        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(1), $"held {watch.Elapsed}");
        Assert.Contains("not sent: the clock sync (GET fapi/v1/time) it needs first would be held for", refused.Message, StringComparison.Ordinal);
        Assert.Contains("longer than this request may wait (1 s)", refused.Message, StringComparison.Ordinal);
        Assert.Equal(0, await Paper.RequestCountAsync("GET /fapi/v1/time"));
        Assert.Equal(0, await Paper.RequestCountAsync("GET /fapi/v2/positionRisk"));

        // Unlimited, the same client syncs once the back-off is over and reads.
        Assert.NotNull(await client.GetPositionsAsync("BTCUSDT").WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.True(watch.Elapsed >= TimeSpan.FromSeconds(4), $"the back-off was not waited out ({watch.Elapsed})");
    }

    /// <summary>
    /// A leverage change under a 2 s hold limit is applied, but its answer is lost (a 503 after the venue executed it);
    /// its retry is held 3 s at the venue and then refused on timing alone (-1021), so the client must re-sync its clock
    /// before sending again. While the retry is held, a read of the same client meets a 429 asking for 10 s: the client
    /// backs off, and the sync (which would wait that out) would be held far past the change's 2 s, so it is refused
    /// without being sent. The caller must hear that the change's outcome is unknown (it was applied), not the sync's
    /// "not sent", which a caller reads as nothing done.
    /// </summary>
    [Fact]
    public async Task ChangeLeverage_OutcomeUnknownThenTheResyncRefusedByTheHoldLimit_UnavailableWithTheOutcomeUnknown_NotARateLimit()
    {
        // The clock sync and the symbol's brackets (a leverage change reads them first).
        await Client.ChangeLeverageAsync("BTCUSDT", 5);
        var (syncs, changes) = (await Paper.RequestCountAsync("GET /fapi/v1/time"), await Paper.RequestCountAsync("POST /fapi/v1/leverage"));
        await Paper.InjectFaultAsync(FaultKind.UnknownAfterExecute, "/fapi/v1/leverage");
        await Paper.InjectFaultAsync(FaultKind.Timestamp, "/fapi/v1/leverage", latencyMs: 3_000);
        await Paper.InjectFaultAsync(FaultKind.RateLimit, PricePath, retryAfterSeconds: 10);

        Task<LeverageSetting> change;
        using (VenueHoldLimit.Enter(TimeSpan.FromSeconds(2)))
        {
            change = Client.ChangeLeverageAsync("BTCUSDT", 7);
        }

        // The retry is at the venue (held there): the read's 429 backs the client off before the retry's -1021 comes back.
        await Poll.UntilAsync(() => Paper.RequestCountAsync("POST /fapi/v1/leverage"), n => n == changes + 2, TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(10));
        using (VenueHoldLimit.Enter(TimeSpan.Zero))
        {
            await Assert.ThrowsAsync<BinanceRateLimitException>(() => Client.GetTickerPriceAsync("BTCUSDT"));
        }

        Assert.False(change.IsCompleted, "the retry was answered before the back-off began");
        var refused = await Assert.ThrowsAsync<BinanceUnavailableException>(() => change.WaitAsync(TimeSpan.FromSeconds(20)));

        Assert.Contains("the first attempt's outcome is unknown and its retry was refused", refused.Message, StringComparison.Ordinal);
        var sync = Assert.IsType<BinanceRateLimitException>(refused.InnerException);
        Assert.Contains("not sent: the clock sync (GET fapi/v1/time) it needs first would be held for", sync.Message, StringComparison.Ordinal);
        Assert.Contains("longer than this request may wait (2 s)", sync.Message, StringComparison.Ordinal);
        // The change and its retry reached the venue; the sync did not.
        Assert.Equal(changes + 2, await Paper.RequestCountAsync("POST /fapi/v1/leverage"));
        Assert.Equal(syncs, await Paper.RequestCountAsync("GET /fapi/v1/time"));
        // The first copy applied the leverage the caller was told may have been applied (read by a client not backed off).
        Assert.Equal(7, Assert.Single(await Paper.CreateClient().GetPositionsAsync("BTCUSDT")).Leverage);
    }
}
