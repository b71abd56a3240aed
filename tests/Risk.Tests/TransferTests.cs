using Microsoft.Extensions.DependencyInjection;
using GetPeakEquityRequest = TradeEngine.Ledger.V1.GetPeakEquityRequest;
using GetTransfersRequest = TradeEngine.Ledger.V1.GetTransfersRequest;
using TradeEngine.Domain;
using TradeEngine.Risk.Monitor;
using TradeEngine.Risk.Tests.Support;
using TradeEngine.Risk.V1;
using TradeEngine.Testing;
using TradeEngine.Testing.Paper;
using TradeEngine.Testing.Servers;
using TradeEngine.Testing.Venue;

namespace TradeEngine.Risk.Tests;

/// <summary>
/// Transfers into and out of the account are not trading PnL. The real Ledger, the real Funding (which books the venue's
/// transfers, its poller asleep for the test so only Risk's own ask books them) and PaperExchange, whose transfer control
/// moves money as a deposit or a withdrawal does on Binance (a TRANSFER income). The simulator starts with 10,000 USDT.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class TransferTests(PostgresServer postgres, RabbitMqServer rabbit) : IAsyncLifetime
{
    /// <summary>Funding's poller books at start and then sleeps for the test: a transfer made later is booked only when Risk asks.</summary>
    private static readonly Dictionary<string, string?> FundingPollerAsleep = new() { ["Funding:Transfers:PollSeconds"] = "3600" };

    /// <summary>
    /// The Ledger's guard (snapshots within 5 s of a transfer are neither day start nor peak: the venue's clock and ours
    /// differ) is off: these tests write their snapshots and transfers seconds apart, and test Risk's part. The guard is
    /// the Ledger's tests' (TransferGuardTests), and the end-to-end test runs with it on.
    /// </summary>
    private static readonly Dictionary<string, string?> GuardOff = new() { ["Ledger:Transfers:SnapshotGuardSeconds"] = "0" };

    /// <summary>The day's loss is judged by the UTC day: no test here runs across 00:00 UTC.</summary>
    public Task InitializeAsync() => UtcDay.AwayFromMidnightAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    /// <summary>
    /// 1,500 of profit withdrawn, not booked yet when a check comes: measured on the Ledger's figures it is a daily loss of
    /// 1,500 and a drawdown of 1,500 (both past their limits), which latched the kill switch and flattened everything.
    /// Risk asks Funding to book the venue's transfers before it latches, judges again in today's money, and allows.
    /// </summary>
    [Fact]
    public async Task CheckPreTrade_WithdrawalNotBookedYet_BookedBeforeTheLatchAndAllowed()
    {
        await using var world = await RiskWorld.StartAsync(postgres, rabbit, funding: FundingPollerAsleep, ledger: GuardOff,
            beforeRisk: w => w.SnapshotAsync(10_000m, DateTimeOffset.UtcNow));
        await InitialBalanceBookedAsync(world);
        await world.Paper.TransferAsync(-1_500m);
        Assert.Equal(0, await BookedAsync(world, -1_500m));

        var reply = await world.Risk.CheckPreTradeAsync(new CheckPreTradeRequest
        {
            Order = RiskWorld.Order("0.01"),
            Account = RiskWorld.Account(8_500m),
        });

        Assert.True(reply.Allowed, string.Join(", ", reply.Reasons.Select(r => r.Code)));
        Assert.Equal(1, await BookedAsync(world, -1_500m));
        Assert.False((await world.Risk.GetKillSwitchAsync(new GetKillSwitchRequest())).Active);
        Assert.Equal(0, await world.CountAsync("kill_switch_history WHERE active"));
    }

    /// <summary>
    /// The check comes from an open holding its symbol's lock, under what is left of its hold limit (x-venue-hold-ms: 0,
    /// all spent). Risk's ask to book the transfers before a latch is not held to it: a booking refused for the limit would
    /// leave the withdrawal reading as a loss and latch the kill switch. Funding reads the transfers with no hold limit.
    /// </summary>
    [Fact]
    public async Task CheckPreTrade_UnderAnOpensSpentHoldLimit_TheAskToBookTransfersIsNotHeldToItAndNothingLatches()
    {
        var limits = new List<TimeSpan?>();
        await using var world = await RiskWorld.StartAsync(postgres, rabbit, funding: FundingPollerAsleep, ledger: GuardOff,
            beforeRisk: w => w.SnapshotAsync(10_000m, DateTimeOffset.UtcNow),
            fundingServices: s => VenueProxy.Install(s, venue => VenueProxy.Wrap(venue, (method, _, call) =>
            {
                if (method.Name == nameof(Binance.IBinanceClient.GetIncomeHistoryPagedAsync))
                {
                    lock (limits)
                    {
                        limits.Add(VenueHoldLimit.Current);
                    }
                }

                return call();
            })));
        await InitialBalanceBookedAsync(world);
        // Risk's instrument catalog read once: a check under a spent limit does not wait for its first read.
        await world.RiskServices.GetRequiredService<Binance.Instruments.IInstrumentSource>().GetAsync(new Symbol("BTCUSDT"));
        await world.Paper.TransferAsync(-1_500m);
        lock (limits)
        {
            limits.Clear();
        }

        var reply = await world.Risk.CheckPreTradeAsync(
            new CheckPreTradeRequest { Order = RiskWorld.Order("0.01"), Account = RiskWorld.Account(8_500m) },
            new Grpc.Core.Metadata { { VenueHoldLimit.HeaderName, "0" } });

        Assert.True(reply.Allowed, string.Join(", ", reply.Reasons.Select(r => r.Code)));
        Assert.Equal(1, await BookedAsync(world, -1_500m));
        lock (limits)
        {
            Assert.NotEmpty(limits);
            Assert.All(limits, l => Assert.Null(l));
        }

        Assert.False((await world.Risk.GetKillSwitchAsync(new GetKillSwitchRequest())).Active);
    }

    /// <summary>
    /// The withdrawal booked by Funding's poller after Risk read its state, and before the check: Risk's own ask books
    /// nothing (it is booked), and judging on the state it holds latched the switch. The check judges again on a read of
    /// the Ledger made after its ask, whoever booked the transfer.
    /// </summary>
    [Fact]
    public async Task CheckPreTrade_WithdrawalBookedByThePollerAfterTheStateWasRead_JudgedOnALaterReadAndAllowed()
    {
        await using var world = await RiskWorld.StartAsync(
            postgres, rabbit,
            risk: new Dictionary<string, string?> { ["Risk:StateRefreshSeconds"] = "60", ["Risk:StateMaxAgeSeconds"] = "60" },
            funding: new Dictionary<string, string?> { ["Funding:Transfers:PollSeconds"] = "1" }, ledger: GuardOff,
            beforeRisk: w => w.SnapshotAsync(10_000m, DateTimeOffset.UtcNow));
        await InitialBalanceBookedAsync(world);
        var before = await world.Risk.CheckPreTradeAsync(new CheckPreTradeRequest { Order = RiskWorld.Order("0.01"), Account = RiskWorld.Account(10_000m) });
        Assert.True(before.Allowed);

        await world.Paper.TransferAsync(-1_500m);
        await Poll.UntilAsync(() => BookedAsync(world, -1_500m), n => n == 1);
        var reply = await world.Risk.CheckPreTradeAsync(new CheckPreTradeRequest
        {
            Order = RiskWorld.Order("0.01"),
            Account = RiskWorld.Account(8_500m),
        });

        Assert.True(reply.Allowed, string.Join(", ", reply.Reasons.Select(r => r.Code)));
        Assert.False((await world.Risk.GetKillSwitchAsync(new GetKillSwitchRequest())).Active);
    }

    /// <summary>
    /// 1,000 deposited (booked), then 600 lost: the account's equity, 10,400, is above the day's first 10,000, and before
    /// transfers were taken out that read as a gain of 400. In today's money the day started at 11,000: a loss of 600,
    /// past the 500 limit, refused and latched.
    /// </summary>
    [Fact]
    public async Task CheckPreTrade_DepositBookedThenALoss_LossNotHiddenRefusedAndLatched()
    {
        await using var world = await RiskWorld.StartAsync(postgres, rabbit, funding: FundingPollerAsleep, ledger: GuardOff,
            beforeRisk: w => w.SnapshotAsync(10_000m, DateTimeOffset.UtcNow));
        await InitialBalanceBookedAsync(world);
        await world.Paper.TransferAsync(1_000m);
        var booked = await world.Funding.BookTransfersAsync(new Funding.V1.BookTransfersRequest());
        Assert.Equal(1, booked.Booked);
        Assert.Equal("1000", booked.BookedNet);

        var reply = await world.Risk.CheckPreTradeAsync(new CheckPreTradeRequest
        {
            Order = RiskWorld.Order("0.01"),
            Account = RiskWorld.Account(10_400m),
        });

        Assert.False(reply.Allowed);
        Assert.Contains(reply.Reasons, r => r.Code == RiskReasonCode.DailyLossLimitBreached);
        var killSwitch = await world.Risk.GetKillSwitchAsync(new GetKillSwitchRequest());
        Assert.True(killSwitch.Active);
        Assert.Equal(KillSwitchTrigger.DailyLoss, killSwitch.Trigger);
    }

    /// <summary>
    /// The margin monitor, reading the account from the venue every second, sees 1,500 withdrawn: a drawdown and a daily
    /// loss of 1,500 on the Ledger's figures. It asks Funding to book the transfer, judges again, and latches nothing, on
    /// that tick or the later ones (whose snapshots carry the withdrawal).
    /// </summary>
    [Fact]
    public async Task MarginMonitor_WithdrawalOfProfit_BookedAndNoLatch()
    {
        await using var paper = await PaperExchangeHost.StartAsync();
        await using var provider = new ServiceCollection().AddSingleton(paper.CreateClient()).BuildServiceProvider();
        var source = new VenueAccountSource(provider.GetRequiredService<Binance.BinanceClient>());
        await using var world = await RiskWorld.StartAsync(postgres, rabbit, new Dictionary<string, string?>
        {
            ["Risk:MarginMonitor:Enabled"] = "true",
            ["Risk:MarginMonitor:IntervalSeconds"] = "1",
        }, s => s.AddSingleton<IAccountSource>(source), paper: paper, funding: FundingPollerAsleep, ledger: GuardOff);
        // The monitor's snapshots at 10,000 are the day's start and the peak.
        await Poll.UntilAsync(() => world.CountAsync("pnl_snapshots"), n => n >= 2);
        await InitialBalanceBookedAsync(world);

        await paper.TransferAsync(-1_500m);
        await Poll.UntilAsync(() => BookedAsync(world, -1_500m), n => n == 1);
        var snapshots = await world.CountAsync("pnl_snapshots");
        await Poll.UntilAsync(() => world.CountAsync("pnl_snapshots"), n => n >= snapshots + 3);

        Assert.False((await world.Risk.GetKillSwitchAsync(new GetKillSwitchRequest())).Active);
        Assert.Equal(0, await world.CountAsync("kill_switch_history WHERE active"));
        var peak = await world.Ledger.GetPeakEquityAsync(new GetPeakEquityRequest());
        Assert.Equal(8_500m, decimal.Parse(peak.PeakEquity, System.Globalization.CultureInfo.InvariantCulture)
            + decimal.Parse(peak.TransfersSincePeak, System.Globalization.CultureInfo.InvariantCulture));
    }

    /// <summary>
    /// The monitor's ask to book transfers before a latch is part of its tick, which is urgent: the call says so
    /// (<c>x-venue-priority: urgent</c>), and Funding reads the venue's transfers for it at urgent priority, held back only
    /// by the venue's own limits. At normal priority a used-up share would leave the withdrawal unbooked, read as a loss,
    /// and latch the kill switch (the check fails closed). Funding's poller reads at start in the background, then sleeps.
    /// </summary>
    [Fact]
    public async Task MarginMonitor_AsksFundingToBookTransfersBeforeALatch_FundingReadsTheVenueForItAtUrgentPriority()
    {
        var reads = new List<VenuePriority>();
        List<VenuePriority> Take()
        {
            lock (reads)
            {
                var taken = reads.ToList();
                reads.Clear();
                return taken;
            }
        }

        await using var paper = await PaperExchangeHost.StartAsync();
        await using var provider = new ServiceCollection().AddSingleton(paper.CreateClient()).BuildServiceProvider();
        var source = new VenueAccountSource(provider.GetRequiredService<Binance.BinanceClient>());
        await using var world = await RiskWorld.StartAsync(postgres, rabbit, new Dictionary<string, string?>
        {
            ["Risk:MarginMonitor:Enabled"] = "true",
            ["Risk:MarginMonitor:IntervalSeconds"] = "1",
        }, s => s.AddSingleton<IAccountSource>(source), paper: paper, funding: FundingPollerAsleep, ledger: GuardOff,
            fundingServices: s => VenueProxy.Install(s, venue => VenueProxy.Wrap(venue, (method, _, call) =>
            {
                if (method.Name == nameof(Binance.IBinanceClient.GetIncomeHistoryPagedAsync))
                {
                    lock (reads)
                    {
                        reads.Add(VenueRequestPriority.Current);
                    }
                }

                return call();
            })));
        await Poll.UntilAsync(() => world.CountAsync("pnl_snapshots"), n => n >= 2);
        await InitialBalanceBookedAsync(world);
        var polled = Take();
        Assert.NotEmpty(polled);
        Assert.All(polled, p => Assert.Equal(VenuePriority.Background, p));

        await paper.TransferAsync(-1_500m);
        await Poll.UntilAsync(() => BookedAsync(world, -1_500m), n => n == 1);

        var asked = Take();
        Assert.NotEmpty(asked);
        Assert.All(asked, p => Assert.Equal(VenuePriority.Urgent, p));
        Assert.False((await world.Risk.GetKillSwitchAsync(new GetKillSwitchRequest())).Active);
    }

    /// <summary>
    /// The simulator's starting 10,000 (a TRANSFER at its start, before every snapshot) booked by Funding's first poll:
    /// after it the poller sleeps, so a transfer the test makes is booked only when asked.
    /// </summary>
    private static Task InitialBalanceBookedAsync(RiskWorld world) => Poll.UntilAsync(() => BookedAsync(world, 10_000m), n => n == 1);

    /// <summary>How many transfers of <paramref name="amount"/> the Ledger has booked.</summary>
    private static async Task<int> BookedAsync(RiskWorld world, decimal amount)
    {
        var transfers = await world.Ledger.GetTransfersAsync(new GetTransfersRequest
        {
            Range = new Common.V1.TimeRange
            {
                Start = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddDays(-1)),
                End = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddDays(1)),
            },
        });
        return transfers.Transfers.Count(t => decimal.Parse(t.Amount, System.Globalization.CultureInfo.InvariantCulture) == amount);
    }
}
