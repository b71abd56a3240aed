using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using TradeEngine.Binance;
using TradeEngine.Binance.DependencyInjection;
using TradeEngine.Binance.Models;
using TradeEngine.Contracts.Events;
using TradeEngine.Domain;
using TradeEngine.Domain.Instruments;
using TradeEngine.Domain.Margin;
using TradeEngine.Risk.Mapping;
using TradeEngine.Risk.Monitor;
using TradeEngine.Risk.Tests.Support;
using TradeEngine.Risk.V1;
using TradeEngine.Testing.Servers;

namespace TradeEngine.Risk.Tests;

/// <summary>
/// The margin monitor with the real Ledger, the real RabbitMQ and, for the account, PaperExchange read through the
/// Binance client (the venue path Execution's GetAccount takes; the end-to-end version through Execution belongs to
/// the Execution suite).
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class MarginMonitorTests(PostgresServer postgres, RabbitMqServer rabbit)
{
    private static readonly Dictionary<string, string?> MonitorOn = new()
    {
        ["Risk:MarginMonitor:Enabled"] = "true",
        ["Risk:MarginMonitor:IntervalSeconds"] = "1",
    };

    [Fact]
    public async Task MarginMonitor_PriceMovesIntoBuffer_OneReduceAlertAndDailyLossLatch()
    {
        await using var paper = new PaperHost();
        await paper.StartAsync();
        paper.Engine.Reset(1_000m);
        await using var provider = VenueClient(paper);
        var venue = provider.GetRequiredService<IBinanceClient>();
        await venue.ChangeLeverageAsync("BTCUSDT", 20);
        await venue.PlaceOrderAsync(new NewOrder("BTCUSDT", OrderSide.Buy, OrderType.Market, 0.1m), "monitor-open-1");
        var source = new VenueAccountSource(venue);
        var reducePrice = ReducePrice(await source.GetAccountAsync(CancellationToken.None));
        await using var alerts = await AlertListener.StartAsync(rabbit.ConnectionString);
        await using var world = await RiskWorld.StartAsync(postgres, rabbit, MonitorOn, s => s.AddSingleton<IAccountSource>(source));

        await Task.Delay(TimeSpan.FromSeconds(2.5));
        Assert.Empty(alerts.Alerts);

        paper.Engine.SetPrice("BTCUSDT", reducePrice, null);
        await RiskWorld.EventuallyAsync(() => Task.FromResult(alerts.Count(MarginAlertAction.Reduce)), n => n >= 1);
        await Task.Delay(TimeSpan.FromSeconds(3)); // three more ticks in the same state

        var reduce = Assert.Single(alerts.Alerts);
        Assert.Equal(MarginAlertAction.Reduce, reduce.Action);
        Assert.InRange(reduce.MarginRatio!.Value, 1m, 1.15m);
        // Falling to the buffer cost more than the $500 daily limit: the monitor latched the kill switch too.
        var killSwitch = await world.Risk.GetKillSwitchAsync(new GetKillSwitchRequest());
        Assert.True(killSwitch.Active);
        Assert.Equal(KillSwitchTrigger.DailyLoss, killSwitch.Trigger);
    }

    [Fact]
    public async Task MarginMonitor_ReduceThenLiquidateAll_EachAlertOnceAndKillSwitchLatched()
    {
        var source = new ScriptedAccountSource(Account(unrealized: 0m));
        await using var alerts = await AlertListener.StartAsync(rabbit.ConnectionString);
        await using var world = await RiskWorld.StartAsync(postgres, rabbit, MonitorOn, s => s.AddSingleton<IAccountSource>(source));
        await Task.Delay(TimeSpan.FromSeconds(2));

        source.Account = Account(unrealized: -440m); // equity 560 / maintenance 500 = 1.12
        await RiskWorld.EventuallyAsync(() => Task.FromResult(alerts.Count(MarginAlertAction.Reduce)), n => n >= 1);
        await Task.Delay(TimeSpan.FromSeconds(2.5));
        source.Account = Account(unrealized: -500m); // equity 500 = maintenance: ratio 1
        await RiskWorld.EventuallyAsync(() => Task.FromResult(alerts.Count(MarginAlertAction.LiquidateAll)), n => n >= 1);
        await Task.Delay(TimeSpan.FromSeconds(2.5));

        Assert.Equal(1, alerts.Count(MarginAlertAction.Reduce));
        Assert.Equal(1, alerts.Count(MarginAlertAction.LiquidateAll));
        Assert.Equal([MarginAlertAction.Reduce, MarginAlertAction.LiquidateAll], alerts.Alerts.Select(a => a.Action));
        var killSwitch = await world.Risk.GetKillSwitchAsync(new GetKillSwitchRequest());
        Assert.True(killSwitch.Active);
        Assert.Equal(KillSwitchTrigger.LiquidateAll, killSwitch.Trigger);
        var curve = await world.Ledger.GetEquityCurveAsync(new Ledger.V1.GetEquityCurveRequest
        {
            Range = new Common.V1.TimeRange
            {
                Start = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddMinutes(-5)),
                End = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddMinutes(1)),
            },
        });
        Assert.True(curve.Points.Count >= 5, $"one PnL snapshot per tick expected, got {curve.Points.Count}");
    }

    private static AccountView Account(decimal unrealized) => new(1_000m, 0m, unrealized, 1_000m + unrealized, 500m, []);

    /// <summary>A price inside the 15 % buffer but above the exchange liquidation price, checked with Domain.</summary>
    private static decimal ReducePrice(AccountView account)
    {
        var position = Assert.Single(account.Positions);
        var brackets = BracketTables.For(new Symbol("BTCUSDT"));
        var liquidation = LiquidationPrice.Exchange(new LiquidationInput
        {
            MarginType = MarginType.Cross, Side = Side.Long, Quantity = position.SignedSize, EntryPrice = position.EntryPrice,
            WalletBalance = account.WalletBalance, Brackets = brackets,
        });
        var price = Math.Ceiling((liquidation.Price + 5m) * 10m) / 10m;
        var equity = account.WalletBalance + (position.SignedSize * (price - position.EntryPrice));
        var health = MarginHealth.Evaluate(account.WalletBalance, equity - account.WalletBalance, brackets.MaintenanceMargin(position.SignedSize * price));
        Assert.Equal(MarginAction.Reduce, health.Action);
        return price;
    }

    private static ServiceProvider VenueClient(PaperHost paper)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Binance:BaseUrl"] = paper.Address.ToString(),
            ["Binance:ApiKey"] = PaperHost.ApiKey,
            ["Binance:ApiSecret"] = PaperHost.ApiSecret,
        }).Build();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddBinanceClient(configuration);
        return services.BuildServiceProvider();
    }
}
