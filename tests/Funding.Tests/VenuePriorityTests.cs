using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using TradeEngine.Binance.Models;
using TradeEngine.Domain;
using TradeEngine.Funding.Market;
using TradeEngine.Funding.Tests.Support;
using TradeEngine.Funding.V1;
using TradeEngine.Testing;
using TradeEngine.Testing.Servers;
using TradeEngine.Testing.Venue;

namespace TradeEngine.Funding.Tests;

/// <summary>
/// Funding's venue reads at their priority: its pollers' as background work (they stop first when the IP's limits run
/// short), a caller's at normal (an open's quote, Risk's ask to book transfers), and a current rate's read, which every
/// caller waiting for that symbol shares, at least at normal whoever started it.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class VenuePriorityTests(PostgresServer postgres, RabbitMqServer rabbit)
{
    [Fact]
    public async Task VenueReads_ThePollerAsBackgroundWork_CallersAtNormal_ASharedRateReadNeverBelowNormal()
    {
        var calls = new List<(string Method, VenuePriority Priority)>();
        List<(string Method, VenuePriority Priority)> Take()
        {
            lock (calls)
            {
                var taken = calls.ToList();
                calls.Clear();
                return taken;
            }
        }

        await using var world = await FundingWorld.StartAsync(postgres, rabbit,
            funding: new Dictionary<string, string?> { ["Funding:Transfers:Enabled"] = "true" },
            decorateVenue: venue => VenueProxy.Wrap(venue, (method, _, call) =>
            {
                lock (calls)
                {
                    calls.Add((method.Name, VenueRequestPriority.Current));
                }

                return call();
            }));

        // The transfer poller reads the venue's income at start: background work.
        var polled = await Poll.UntilAsync(() => Task.FromResult(Take()), c => c.Any(x => x.Method == "GetIncomeHistoryPagedAsync"),
            TimeSpan.FromSeconds(15), TimeSpan.FromMilliseconds(50));
        Assert.Contains(("GetIncomeHistoryPagedAsync", VenuePriority.Background), polled);
        Assert.DoesNotContain(polled, c => c.Method == "GetIncomeHistoryPagedAsync" && c.Priority != VenuePriority.Background);

        // Callers: an open's quote and Risk's ask to book transfers (a poll may run beside them, in the background).
        await world.Funding.GetCurrentRateAsync(new GetCurrentRateRequest { Symbol = "BTCUSDT" });
        await world.Funding.BookTransfersAsync(new BookTransfersRequest());
        var asked = Take();
        Assert.Equal([VenuePriority.Normal], asked.Where(c => c.Method == "GetPremiumIndexAsync").Select(c => c.Priority));
        Assert.Contains(("GetIncomeHistoryPagedAsync", VenuePriority.Normal), asked);

        // A rate read started by background work is shared with callers who wait for it: it goes at normal.
        var market = world.FundingHost.Services.GetRequiredService<FundingMarketData>();
        using (VenueRequestPriority.Enter(VenuePriority.Background))
        {
            await market.GetCurrentAsync(new Symbol("ETHUSDT"), CancellationToken.None);
        }

        Assert.Equal([VenuePriority.Normal], Take().Where(c => c.Method == "GetPremiumIndexAsync").Select(c => c.Priority));
    }

    /// <summary>
    /// An open's quote comes under the open's hold limit (its symbol's lock held), carried in x-venue-hold-ms: a rate
    /// whose venue read is held back longer is not waited for (RESOURCE_EXHAUSTED at once, nothing more sent), while the
    /// shared read itself is bounded by no caller's limit, goes on, and fills the cache for the retry.
    /// </summary>
    [Fact]
    public async Task GetCurrentRate_UnderAHoldLimitTheRatesReadOutlasts_ResourceExhaustedAtOnceAndTheReadGoesOnForTheRetry()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var reads = new List<TimeSpan?>();
        await using var world = await FundingWorld.StartAsync(postgres, rabbit,
            decorateVenue: venue => VenueProxy.Wrap(venue, (method, args, call) =>
            {
                if (method.Name != "GetPremiumIndexAsync" || (string)args![0]! != "ETHUSDT")
                {
                    return call();
                }

                lock (reads)
                {
                    reads.Add(VenueHoldLimit.Current);
                }

                return HeldAsync(call);
            }));
        await world.Funding.GetCurrentRateAsync(new GetCurrentRateRequest { Symbol = "BTCUSDT" }); // the catalog, read once
        var underLock = new Metadata { { VenueHoldLimit.HeaderName, "1000" } };

        var started = DateTime.UtcNow;
        var refused = await Assert.ThrowsAsync<RpcException>(() => world.Funding.GetCurrentRateAsync(
            new GetCurrentRateRequest { Symbol = "ETHUSDT" }, underLock, deadline: DateTime.UtcNow.AddSeconds(10)).ResponseAsync);

        Assert.Equal(StatusCode.ResourceExhausted, refused.StatusCode);
        Assert.Contains("takes longer than this call may wait (1 s); not waited for", refused.Status.Detail, StringComparison.Ordinal);
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(5), "refused once its limit was out, not at the deadline");
        Assert.Equal(TimeSpan.FromSeconds(1), ServiceDefaults.Grpc.GrpcStatuses.RetryDelay(refused));

        // The read goes on, bounded by no caller's limit; once it lands, the retry is answered from the cache.
        gate.SetResult();
        var rate = await Poll.UntilNotExhaustedAsync(async () =>
            await world.Funding.GetCurrentRateAsync(new GetCurrentRateRequest { Symbol = "ETHUSDT" }, underLock));
        Assert.Equal("ETHUSDT", rate.Symbol);
        lock (reads)
        {
            Assert.Equal([null], reads);
        }

        async Task<PremiumIndex> HeldAsync(Func<object?> call)
        {
            await gate.Task;
            return await (Task<PremiumIndex>)call()!;
        }
    }

    /// <summary>
    /// Funding reads its instrument catalog (the funding terms) as it starts, before any quote asks
    /// (InstrumentCatalogWarmUp): an open's first quote does not make that read under its symbol's lock.
    /// </summary>
    [Fact]
    public async Task Start_TheCatalogIsReadBeforeAnyQuote()
    {
        var reads = 0;
        await using var world = await FundingWorld.StartAsync(postgres, rabbit,
            decorateVenue: venue => VenueProxy.Wrap(venue, (method, _, call) =>
            {
                if (method.Name == "GetFundingInfoAsync")
                {
                    Interlocked.Increment(ref reads);
                }

                return call();
            }));

        // Nothing has asked Funding anything yet.
        await Poll.UntilAsync(() => Task.FromResult(Volatile.Read(ref reads)), n => n >= 1, TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(50));
        await world.Funding.EstimateDailyCostAsync(new EstimateDailyCostRequest { Symbol = "ETHUSDT", Side = Common.V1.Side.Long, Quantity = "0.5" });

        Assert.Equal(1, Volatile.Read(ref reads));
    }

    /// <summary>
    /// An open's quote on a Funding whose instrument catalog is still on its first read (the terms: interval, cap and
    /// floor): under the open's hold limit it is not waited for (RESOURCE_EXHAUSTED once the limit is out, not at the
    /// catalog's own timeout or the call's deadline), the shared read goes on, and the retry is answered once it lands.
    /// </summary>
    [Fact]
    public async Task EstimateDailyCost_UnderAHoldLimitTheCatalogsFirstReadOutlasts_ResourceExhaustedAtOnceAndAnsweredOnTheRetry()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var world = await FundingWorld.StartAsync(postgres, rabbit,
            decorateVenue: venue => VenueProxy.Wrap(venue, (method, _, call) =>
                method.Name == "GetExchangeInfoAsync" ? HeldAsync(call) : call()));
        var underLock = new Metadata { { VenueHoldLimit.HeaderName, "1000" } };
        var request = new EstimateDailyCostRequest { Symbol = "ETHUSDT", Side = Common.V1.Side.Long, Quantity = "0.5" };

        var started = DateTime.UtcNow;
        var refused = await Assert.ThrowsAsync<RpcException>(() => world.Funding.EstimateDailyCostAsync(
            request, underLock, deadline: DateTime.UtcNow.AddSeconds(20)).ResponseAsync);

        Assert.Equal(StatusCode.ResourceExhausted, refused.StatusCode);
        Assert.Contains("instrument list (the funding terms: interval, cap and floor) is still being read and takes longer than this call may wait (1 s)",
            refused.Status.Detail, StringComparison.Ordinal);
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(5), "refused once its limit was out, not at the deadline");
        Assert.Equal(TimeSpan.FromSeconds(1), ServiceDefaults.Grpc.GrpcStatuses.RetryDelay(refused));

        gate.SetResult();
        var estimate = await Poll.UntilNotExhaustedAsync(async () => await world.Funding.EstimateDailyCostAsync(request, underLock));
        Assert.NotEmpty(estimate.FundingRate);

        async Task<ExchangeInfo> HeldAsync(Func<object?> call)
        {
            await gate.Task;
            return await (Task<ExchangeInfo>)call()!;
        }
    }
}
