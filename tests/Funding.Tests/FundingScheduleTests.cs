using TradeEngine.Contracts.Events;
using TradeEngine.Funding.Tests.Support;
using TradeEngine.Funding.V1;
using TradeEngine.Testing;
using TradeEngine.Testing.Broker;
using TradeEngine.Testing.Servers;

namespace TradeEngine.Funding.Tests;

/// <summary>
/// A change of a symbol's funding interval, cap or floor at the venue (PaperExchange's fundingInfo, changed through
/// its control API) reaches Funding through the venue's instrument catalog and is announced once on the real RabbitMQ.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class FundingScheduleTests(PostgresServer postgres, RabbitMqServer rabbit)
{
    // The catalog refreshes after one second of the venue's (frozen, test-driven) clock.
    private static readonly Dictionary<string, string?> FastCatalog = new() { ["Binance:InstrumentCatalogTtl"] = "00:00:01" };

    [Fact]
    public async Task FundingScheduleChanged_IntervalAndCapChangeAtVenue_PublishedOnce()
    {
        await using var listener = await EventListener<FundingScheduleChanged>.StartAsync(rabbit.ConnectionString, "funding-tests-schedule-");
        await using var world = await FundingWorld.StartAsync(postgres, rabbit, funding: FastCatalog);
        var before = await world.Funding.GetCurrentRateAsync(new GetCurrentRateRequest { Symbol = "SOLUSDT" });
        Assert.Equal(4, before.FundingIntervalHours);
        Assert.Equal("0.02", before.RateCap);

        await world.Paper.SetFundingInfoAsync("SOLUSDT", intervalHours: 1, cap: 0.01m, floor: -0.01m);
        await world.Paper.AdvanceAsync(TimeSpan.FromSeconds(2));
        var after = await Poll.UntilAsync(
            () => world.Funding.GetCurrentRateAsync(new GetCurrentRateRequest { Symbol = "SOLUSDT" }).ResponseAsync,
            r => r.FundingIntervalHours == 1);
        await Poll.UntilAsync(() => Task.FromResult(listener.Received.Count), n => n >= 1);
        // More reads and another refresh with the same terms: no second announcement.
        await world.Paper.AdvanceAsync(TimeSpan.FromSeconds(2));
        for (var i = 0; i < 5; i++)
        {
            await world.Funding.GetCurrentRateAsync(new GetCurrentRateRequest { Symbol = "SOLUSDT" });
            await world.Funding.GetCurrentRateAsync(new GetCurrentRateRequest { Symbol = "BTCUSDT" });
            await Task.Delay(200);
        }

        await Task.Delay(TimeSpan.FromSeconds(1));

        Assert.Equal(1, after.FundingIntervalHours);
        Assert.Equal("0.01", after.RateCap);
        Assert.Equal("-0.01", after.RateFloor);
        var change = Assert.Single(listener.Received);
        Assert.Equal("SOLUSDT", change.Symbol);
        Assert.Equal((4, 1), (change.PreviousIntervalHours, change.IntervalHours));
        Assert.Equal((0.02m, 0.01m), (change.PreviousCap, change.Cap));
        Assert.Equal((-0.02m, -0.01m), (change.PreviousFloor, change.Floor));
    }

    /// <summary>
    /// The broker is Funding's only for its schedule-change alerts: with RabbitMQ unreachable Funding stays ready (the
    /// bus is reported Degraded) and quotes rates. Before, the bus's health check made it unready, and callers routed
    /// by readiness lost their funding quotes for the length of a broker outage.
    /// </summary>
    [Fact]
    public async Task Health_BrokerUnreachable_FundingStaysReadyAndQuotes()
    {
        await using var world = await FundingWorld.StartAsync(postgres, rabbit, funding: new Dictionary<string, string?>
        {
            ["ConnectionStrings:eventbus"] = $"amqp://guest:guest@127.0.0.1:{FreePort.Next()}/",
        });
        using var http = world.FundingHost.CreateHttp2Client();

        var health = await http.GetAsync(new Uri("/health", UriKind.Relative));

        Assert.Equal(System.Net.HttpStatusCode.OK, health.StatusCode);
        Assert.NotEmpty((await world.Funding.GetCurrentRateAsync(new GetCurrentRateRequest { Symbol = "BTCUSDT" })).FundingRate);
    }

    /// <summary>
    /// A schedule change seen while the broker is unreachable: the quote that sees it answers at once, with the new
    /// terms; the announcement waits for the broker off the request path. Before, that caller waited for the publish
    /// (15 s, then the alert was dropped).
    /// </summary>
    [Fact]
    public async Task FundingScheduleChanged_BrokerUnreachable_TheQuoteThatSeesItIsNotHeldUp()
    {
        var settings = new Dictionary<string, string?>(FastCatalog) { ["ConnectionStrings:eventbus"] = $"amqp://guest:guest@127.0.0.1:{FreePort.Next()}/" };
        await using var world = await FundingWorld.StartAsync(postgres, rabbit, funding: settings);
        Assert.Equal(4, (await world.Funding.GetCurrentRateAsync(new GetCurrentRateRequest { Symbol = "SOLUSDT" })).FundingIntervalHours);

        await world.Paper.SetFundingInfoAsync("SOLUSDT", intervalHours: 1, cap: 0.01m, floor: -0.01m);
        await world.Paper.AdvanceAsync(TimeSpan.FromSeconds(2));

        // Every read, the one that swaps the catalog's snapshots and announces among them, answers within 5 s.
        var after = await Poll.UntilAsync(
            () => world.Funding.GetCurrentRateAsync(new GetCurrentRateRequest { Symbol = "SOLUSDT" }, deadline: DateTime.UtcNow.AddSeconds(5)).ResponseAsync,
            r => r.FundingIntervalHours == 1);
        Assert.Equal("0.01", after.RateCap);
    }

    [Fact]
    public async Task EstimateDailyCost_SymbolMovedToOneHourAtVenue_ChargedTwentyFourTimes()
    {
        await using var world = await FundingWorld.StartAsync(postgres, rabbit, funding: FastCatalog);
        await world.Funding.GetCurrentRateAsync(new GetCurrentRateRequest { Symbol = "BTCUSDT" });

        await world.Paper.SetFundingInfoAsync("BTCUSDT", intervalHours: 1);
        await world.Paper.AdvanceAsync(TimeSpan.FromSeconds(2));
        var daily = await Poll.UntilAsync(
            () => world.Funding.EstimateDailyCostAsync(new EstimateDailyCostRequest { Symbol = "BTCUSDT", Side = Common.V1.Side.Long, Quantity = "1" }).ResponseAsync,
            r => r.SettlementsPerDay == 24);

        Assert.Equal(24, daily.SettlementsPerDay);
    }
}
