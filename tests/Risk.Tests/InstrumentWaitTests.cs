using Grpc.Core;
using TradeEngine.Binance.Models;
using TradeEngine.Domain;
using TradeEngine.PaperExchange.Control;
using TradeEngine.Risk.Tests.Support;
using TradeEngine.Risk.V1;
using TradeEngine.ServiceDefaults.Grpc;
using TradeEngine.Testing;
using TradeEngine.Testing.Paper;
using TradeEngine.Testing.Servers;
using TradeEngine.Testing.Venue;

namespace TradeEngine.Risk.Tests;

/// <summary>
/// Risk's check while its instrument catalog is on its first read: an open's check (its symbol's lock held, its hold
/// limit in x-venue-hold-ms) is not kept waiting past the limit, and a read the venue's rate limit holds back is
/// RESOURCE_EXHAUSTED with the delay, not UNAVAILABLE. Either way nothing passes on guessed filters.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class InstrumentWaitTests(PostgresServer postgres, RabbitMqServer rabbit)
{
    /// <summary>
    /// Risk reads its instrument catalog as it starts, before any check asks (InstrumentCatalogWarmUp): an open's first
    /// check does not make that read under its symbol's lock, and under a spent hold limit it is judged once the read is in.
    /// </summary>
    [Fact]
    public async Task Start_TheCatalogIsReadBeforeAnyCheck_AFirstCheckUnderASpentLimitIsJudged()
    {
        var reads = 0;
        await using var world = await RiskWorld.StartAsync(postgres, rabbit,
            riskServices: s => VenueProxy.Install(s, venue => VenueProxy.Wrap(venue, (method, _, call) =>
            {
                if (method.Name == "GetExchangeInfoAsync")
                {
                    Interlocked.Increment(ref reads);
                }

                return call();
            })));

        // Nothing has asked Risk anything yet.
        await Poll.UntilAsync(() => Task.FromResult(Volatile.Read(ref reads)), n => n >= 1, TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(50));
        var spent = new Metadata { { VenueHoldLimit.HeaderName, "0" } };
        var check = await Poll.UntilNotExhaustedAsync(async () => await world.Risk.CheckPreTradeAsync(
            new CheckPreTradeRequest { Order = RiskWorld.Order("0.01"), Account = RiskWorld.Account(10_000m) }, spent));

        Assert.True(check.Allowed, string.Join("; ", check.Reasons.Select(r => r.Code + ": " + r.Message)));
        Assert.Equal(1, Volatile.Read(ref reads));
    }

    [Fact]
    public async Task CheckPreTrade_UnderAHoldLimitTheCatalogsFirstReadOutlasts_ResourceExhaustedAtOnceAndJudgedOnTheRetry()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var world = await RiskWorld.StartAsync(postgres, rabbit,
            riskServices: s => VenueProxy.Install(s, venue => VenueProxy.Wrap(venue, (method, _, call) =>
                method.Name == "GetExchangeInfoAsync" ? HeldAsync(call) : call())));
        var underLock = new Metadata { { VenueHoldLimit.HeaderName, "1000" } };
        var request = new CheckPreTradeRequest { Order = RiskWorld.Order("0.01"), Account = RiskWorld.Account(10_000m) };

        var started = DateTime.UtcNow;
        var refused = await Assert.ThrowsAsync<RpcException>(() =>
            world.Risk.CheckPreTradeAsync(request, underLock, deadline: DateTime.UtcNow.AddSeconds(20)).ResponseAsync);

        Assert.Equal(StatusCode.ResourceExhausted, refused.StatusCode);
        Assert.Contains("instrument list is still being read and takes longer than this call may wait (1 s)", refused.Status.Detail, StringComparison.Ordinal);
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(5), "refused once its limit was out, not at the deadline");
        Assert.Equal(TimeSpan.FromSeconds(1), GrpcStatuses.RetryDelay(refused));

        gate.SetResult();
        var check = await Poll.UntilNotExhaustedAsync(async () => await world.Risk.CheckPreTradeAsync(request, underLock));
        Assert.True(check.Allowed, string.Join("; ", check.Reasons.Select(r => r.Code + ": " + r.Message)));

        async Task<ExchangeInfo> HeldAsync(Func<object?> call)
        {
            await gate.Task;
            return await (Task<ExchangeInfo>)call()!;
        }
    }

    [Fact]
    public async Task CheckPreTrade_CatalogsFirstReadHeldBackByTheVenuesRateLimit_ResourceExhaustedWithTheDelay()
    {
        var paper = await PaperExchangeHost.StartAsync();
        await paper.InjectFaultAsync(FaultKind.RateLimit, "/fapi/v1/exchangeInfo", retryAfterSeconds: 120);
        await using var world = await RiskWorld.StartAsync(postgres, rabbit, paper: paper);
        try
        {
            var ex = await Assert.ThrowsAsync<RpcException>(() => world.Risk.CheckPreTradeAsync(
                new CheckPreTradeRequest { Order = RiskWorld.Order("0.01"), Account = RiskWorld.Account(10_000m) },
                deadline: DateTime.UtcNow.AddSeconds(30)).ResponseAsync);

            Assert.Equal(StatusCode.ResourceExhausted, ex.StatusCode);
            Assert.Contains("rate limit holds the instruments' read back (nothing was sent); retry after", ex.Status.Detail, StringComparison.Ordinal);
            Assert.InRange(GrpcStatuses.RetryDelay(ex)!.Value, TimeSpan.FromSeconds(100), TimeSpan.FromSeconds(120));
        }
        finally
        {
            await paper.DisposeAsync();
        }
    }
}
