using System.Globalization;
using Grpc.Core;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using TradeEngine.Contracts.Events;
using TradeEngine.Domain;
using TradeEngine.Domain.Margin;
using TradeEngine.Execution.Tests.Support;
using TradeEngine.Execution.V1;
using TradeEngine.Testing;
using TradeEngine.Testing.Servers;
using TradeEngine.Testing.Venue;

namespace TradeEngine.Execution.Tests;

/// <summary>
/// Which of Execution's venue requests are urgent (held back only by the venue's own limits, never by our headroom):
/// what takes risk off (a close, a reduce, a close-all, a margin response, the protection of a filled open) and the
/// margin monitor's read of the account (the priority travels with Risk's call). Everything else is normal, and waits
/// once the IP's weight reaches the service's share.
/// </summary>
[Collection(StackCollection.Name)]
public sealed class VenuePriorityTests(PostgresServer postgres, RabbitMqServer rabbit)
{
    /// <summary>No reconciliation pass after the first (a test runs one itself): its reads would mix with the ones a test looks at.</summary>
    private static readonly Dictionary<string, string?> NoPeriodicReconciliation = new() { ["Execution:ReconcileInterval"] = "01:00:00" };

    [Fact]
    public async Task VenueRequests_ClosesReducesCloseAllAndMarginResponsesUrgent_AnOpenNormalUntilItsOrderIsPlaced()
    {
        var calls = new VenueCalls();
        await using var stack = await ExecutionStack.StartAsync(
            postgres, rabbit, executionSettings: NoPeriodicReconciliation, executionServices: calls.Install);

        // A read a caller waits on, with no priority said: normal. (First: the close-all at the end pulls the kill switch,
        // whose response comes later, urgent.)
        calls.Take();
        await stack.Execution.GetAccountAsync(new GetAccountRequest());
        var account = calls.Take();
        Assert.NotEmpty(account);
        Assert.All(account, c => Assert.Equal(VenuePriority.Normal, c.Priority));

        // An open: normal up to and including its order; what protects the filled position (its stop-loss) is urgent.
        await stack.Execution.OpenPositionAsync(Orders.Open(quantity: "0.01", stopLoss: "90000"));
        var open = calls.Take();
        var order = open.FindIndex(c => c.Method == "PlaceOrderAsync");
        Assert.True(order > 0, "the open read the venue before its order: " + string.Join(", ", open));
        // Its first read, the look-up of an order already under its client order id (which decides a resume), is urgent.
        Assert.Single(open[..order], c => c.Method == "GetOrderAsync");
        Assert.All(open[..(order + 1)], c => Assert.Equal(c.Method == "GetOrderAsync" ? VenuePriority.Urgent : VenuePriority.Normal, c.Priority));
        Assert.Contains(open[(order + 1)..], c => c.Method == "PlaceConditionalOrderAsync");
        Assert.All(open[(order + 1)..], c => Assert.Equal(VenuePriority.Urgent, c.Priority));

        await stack.Execution.ClosePositionAsync(Orders.Close());
        AssertUrgent(calls.Take(), "close");

        await stack.Execution.OpenPositionAsync(Orders.Open(symbol: "ETHUSDT", quantity: "0.4", leverage: 2));

        // A reconciliation pass: its listings (no lock held: the position mode, the positions, the conditional orders)
        // at the caller's priority, each symbol's part under the symbol's lock (a close waits on it; it restores
        // protection) urgent.
        calls.Take();
        await stack.ReconcileAsync();
        var pass = calls.Take();
        Assert.True(pass.Count > 3, "the pass read the symbol: " + string.Join(", ", pass));
        Assert.Equal(["GetOpenConditionalOrdersAsync", "GetPositionModeAsync", "GetPositionsAsync"], pass[..3].Select(c => c.Method).Order(StringComparer.Ordinal).ToArray());
        Assert.All(pass[..3], c => Assert.Equal(VenuePriority.Normal, c.Priority));
        AssertUrgent(pass[3..], "reconciliation's symbol pass");
        await stack.Execution.ReducePositionAsync(new ReducePositionRequest
        {
            ClientOrderId = Orders.NewId("reduce"), Symbol = "ETHUSDT", Fraction = "0.5", Reason = "test reduce",
        });
        AssertUrgent(calls.Take(), "reduce");

        // A margin alert's reduce, through the inbox: the largest position (ETH, 0.2) halves.
        var alert = new MarginAlertRaised(NewId.NextGuid(), DateTimeOffset.UtcNow, MarginAlertAction.Reduce, 1.05m, 100m, 95m, "ratio inside the buffer");
        await stack.ExecutionHost.Services.GetRequiredService<IBus>().Publish(alert);
        await ExecutionStack.WaitUntilAsync(
            async () => await stack.CountAsync("positions WHERE status = 'open' AND symbol = 'ETHUSDT' AND quantity = 0.1") == 1,
            TimeSpan.FromSeconds(30), "the margin alert's reduce");
        AssertUrgent(calls.Take(), "margin alert");

        var answer = await stack.Execution.CloseAllPositionsAsync(new CloseAllPositionsRequest { IdempotencyKey = Orders.NewId("ca"), Reason = "test" });
        Assert.Contains(answer.Results, r => r.Symbol == "ETHUSDT" && r.Closed);
        AssertUrgent(calls.Take(), "close-all");
    }

    /// <summary>
    /// A caller holding the service key may say any priority in the header, but an open (and a change of leverage or
    /// margin type) adds risk: it never goes urgent on the caller's word, so the last of the IP's limits stays for closes.
    /// What protects a filled open is still urgent.
    /// </summary>
    [Fact]
    public async Task OpenAndSettings_CallerSaysUrgent_StillNormalUpToTheOrder()
    {
        var calls = new VenueCalls();
        await using var stack = await ExecutionStack.StartAsync(
            postgres, rabbit, executionSettings: NoPeriodicReconciliation, executionServices: calls.Install);
        var urgent = new Metadata { { VenueRequestPriority.HeaderName, "urgent" } };
        calls.Take();

        await stack.Execution.SetLeverageAsync(new SetLeverageRequest { IdempotencyKey = Orders.NewId("lev"), Symbol = "BTCUSDT", Leverage = 4 }, urgent);
        var leverage = calls.Take();
        Assert.Contains(leverage, c => c.Method == "ChangeLeverageAsync");
        Assert.All(leverage, c => Assert.Equal(VenuePriority.Normal, c.Priority));

        await stack.Execution.OpenPositionAsync(Orders.Open(quantity: "0.01", stopLoss: "90000"), urgent);
        var open = calls.Take();
        var order = open.FindIndex(c => c.Method == "PlaceOrderAsync");
        Assert.True(order > 0, "the open read the venue before its order: " + string.Join(", ", open));
        Assert.All(open[..(order + 1)], c => Assert.Equal(c.Method == "GetOrderAsync" ? VenuePriority.Urgent : VenuePriority.Normal, c.Priority));
        Assert.All(open[(order + 1)..], c => Assert.Equal(VenuePriority.Urgent, c.Priority));

        // A read the caller marks urgent stays urgent (the margin monitor's account read is one).
        await stack.Execution.GetAccountAsync(new GetAccountRequest(), urgent);
        Assert.All(calls.Take(), c => Assert.Equal(VenuePriority.Urgent, c.Priority));
    }

    [Fact]
    public async Task MarginMonitor_ReadsTheAccountThroughExecution_ExecutionsVenueReadsForItAreUrgent()
    {
        var calls = new VenueCalls();
        await using var stack = await ExecutionStack.StartAsync(
            postgres, rabbit, marginMonitor: true, executionSettings: NoPeriodicReconciliation, executionServices: calls.Install);
        calls.Take();

        // The monitor reads the account every second through Execution's GetAccount: the header says urgent.
        var monitored = await Poll.UntilAsync(() => Task.FromResult(calls.Peek()), c => c.Count(x => x.Method == "GetAccountAsync") >= 2,
            TimeSpan.FromSeconds(15), TimeSpan.FromMilliseconds(100));
        Assert.All(monitored, c => Assert.Equal(VenuePriority.Urgent, c.Priority));

        // The same method called by a caller who said nothing is normal.
        calls.Take();
        await stack.Execution.GetAccountAsync(new GetAccountRequest());
        Assert.Contains(calls.Take(), c => c is { Method: "GetAccountAsync", Priority: VenuePriority.Normal });
    }

    [Fact]
    public async Task ClosePosition_IpWeightPastTheServicesShare_GoesAtOnceWhileANormalReadWaitsForTheNextMinute()
    {
        await using var stack = await ExecutionStack.StartAsync(postgres, rabbit, paperSettings: EnforcedWeightLimit, executionSettings: NoPeriodicReconciliation);
        Assert.Empty((await stack.Execution.OpenPositionAsync(Orders.Open(quantity: "0.01"))).Denials);

        await UseUpTheServicesShareAsync(stack);

        // An open would hold ETHUSDT's lock while its reads wait for the next minute: refused at once, nothing sent.
        var started = DateTime.UtcNow;
        var open = await Orders.FailsWith(StatusCode.ResourceExhausted,
            () => stack.Execution.OpenPositionAsync(Orders.Open(symbol: "ETHUSDT", quantity: "0.1", leverage: 2), deadline: DateTime.UtcNow.AddSeconds(10)).ResponseAsync);
        Assert.Contains("not sent", open.Status.Detail, StringComparison.Ordinal);
        Assert.Contains("retry with the same client order id after", open.Status.Detail, StringComparison.Ordinal);
        // The delay is the rest of the venue's minute (the share frees then), never more than a minute.
        Assert.InRange(ServiceDefaults.Grpc.GrpcStatuses.RetryDelay(open)!.Value, TimeSpan.FromMilliseconds(1), TimeSpan.FromSeconds(61));
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(8), "refused at once, not after the wait");
        Assert.DoesNotContain(await stack.Paper.OrdersAsync(), o => o.Symbol == "ETHUSDT");

        // The close takes risk off: it goes at once, within the venue's own limit.
        var closed = await stack.Execution.ClosePositionAsync(Orders.Close(), deadline: DateTime.UtcNow.AddSeconds(10));

        Assert.Equal("0.01", closed.Quantity);
        Assert.All(await stack.Venue().GetPositionsAsync("BTCUSDT"), p => Assert.Equal(0m, p.PositionAmt));
        Assert.InRange(await UsedWeightAsync(stack), 921, 1000);
    }

    /// <summary>
    /// A setting's change under the symbol's lock (SetLeverage, SetMarginType) would hold the lock while it waits for the
    /// next minute, a margin call's close of the symbol waiting behind it: with the service's share used up it is refused
    /// at once (the 2 s hold limit) as RESOURCE_EXHAUSTED, and nothing reaches the venue.
    /// </summary>
    [Fact]
    public async Task SetLeverageAndMarginType_IpWeightPastTheServicesShare_RefusedAtOnceAndNothingSentToTheVenue()
    {
        await using var stack = await ExecutionStack.StartAsync(postgres, rabbit, paperSettings: EnforcedWeightLimit, executionSettings: NoPeriodicReconciliation);
        Assert.Empty((await stack.Execution.OpenPositionAsync(Orders.Open(quantity: "0.01", leverage: 3))).Denials);
        var leverageChanges = await stack.Paper.RequestCountAsync("POST /fapi/v1/leverage");
        var marginTypeChanges = await stack.Paper.RequestCountAsync("POST /fapi/v1/marginType");

        await UseUpTheServicesShareAsync(stack);

        var started = DateTime.UtcNow;
        var leverage = await Orders.FailsWith(StatusCode.ResourceExhausted, () => stack.Execution.SetLeverageAsync(
            new SetLeverageRequest { IdempotencyKey = Orders.NewId("lev"), Symbol = "BTCUSDT", Leverage = 4 }, deadline: DateTime.UtcNow.AddSeconds(10)).ResponseAsync);
        Assert.Contains("not sent", leverage.Status.Detail, StringComparison.Ordinal);
        var marginType = await Orders.FailsWith(StatusCode.ResourceExhausted, () => stack.Execution.SetMarginTypeAsync(
            new SetMarginTypeRequest { IdempotencyKey = Orders.NewId("mt"), Symbol = "ETHUSDT", MarginType = Common.V1.MarginType.Isolated },
            deadline: DateTime.UtcNow.AddSeconds(10)).ResponseAsync);
        Assert.Contains("not sent", marginType.Status.Detail, StringComparison.Ordinal);
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(8), "each refused at once, not after the wait");

        // The venue saw neither change: BTC stays at 3x, ETH at cross margin.
        Assert.Equal(leverageChanges, await stack.Paper.RequestCountAsync("POST /fapi/v1/leverage"));
        Assert.Equal(marginTypeChanges, await stack.Paper.RequestCountAsync("POST /fapi/v1/marginType"));
        var venue = stack.Venue();
        Assert.Equal(3, Assert.Single(await venue.GetPositionsAsync("BTCUSDT")).Leverage);
        Assert.Equal(MarginType.Cross, Assert.Single(await venue.GetPositionsAsync("ETHUSDT")).MarginType);
    }

    /// <summary>
    /// An open retried after a restart with its order already at the venue under its client order id: the look-up that
    /// finds it and the resume (the settings' check, its account read made again when the hold limit refused it, the
    /// protection) are urgent and not bounded by the hold limit, so with the service's share used up the retry still
    /// completes, at once, as the first open's answer, and nothing is placed again.
    /// </summary>
    [Fact]
    public async Task OpenPosition_RetriedWithItsOrderAtTheVenueWhileTheSharesUsedUp_ResumedAtOnceNotRefused()
    {
        await using var stack = await ExecutionStack.StartAsync(postgres, rabbit, paperSettings: EnforcedWeightLimit, executionSettings: NoPeriodicReconciliation);
        var open = Orders.Open(quantity: "0.01", stopLoss: "90000");
        var first = await stack.Execution.OpenPositionAsync(open);
        Assert.Empty(first.Denials);
        // A restart empties Execution's memory of answers: only the venue's order tells the retry that it is a resume.
        await stack.StopExecutionAsync();
        await stack.StartExecutionAsync();
        var requests = await stack.OrderRequestsAsync();

        await UseUpTheServicesShareAsync(stack);

        var started = DateTime.UtcNow;
        var retried = await stack.Execution.OpenPositionAsync(open, deadline: DateTime.UtcNow.AddSeconds(10));

        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(8), "resumed at once, not after the wait");
        Assert.True(retried.Replayed);
        Assert.Equal((first.PositionId, first.EntryPrice, first.Quantity), (retried.PositionId, retried.EntryPrice, retried.Quantity));
        Assert.Equal(requests, await stack.OrderRequestsAsync());
        Assert.Single(await stack.Paper.OrdersAsync(open.ClientOrderId));
        Assert.Equal(90000m, Assert.Single(await stack.Venue().GetOpenConditionalOrdersAsync("BTCUSDT")).TriggerPrice);
    }

    /// <summary>
    /// A kill switch pulled (here by an operator, through Risk and the Ledger's event): Execution's consumer flattens
    /// every position, and each venue request it makes for that (the listing, the protective orders' cancels, the closes)
    /// is urgent, as a margin alert's are.
    /// </summary>
    [Fact]
    public async Task KillSwitchTriggered_FlattenAtUrgentPriority_EveryVenueRequestOfIt()
    {
        var calls = new VenueCalls();
        await using var stack = await ExecutionStack.StartAsync(
            postgres, rabbit, executionSettings: NoPeriodicReconciliation, executionServices: calls.Install);
        Assert.Empty((await stack.Execution.OpenPositionAsync(Orders.Open(quantity: "0.01", stopLoss: "90000"))).Denials);
        Assert.Empty((await stack.Execution.OpenPositionAsync(Orders.Open(symbol: "ETHUSDT", quantity: "0.4", leverage: 2))).Denials);
        calls.Take();

        await stack.Risk.TriggerKillSwitchAsync(new TradeEngine.Risk.V1.TriggerKillSwitchRequest
        {
            IdempotencyKey = Orders.NewId("ks"), Trigger = TradeEngine.Risk.V1.KillSwitchTrigger.Operator, Reason = "operator test", Actor = "tester",
        });
        await ExecutionStack.WaitUntilAsync(async () => await stack.CountAsync("positions WHERE status = 'open'") == 0, TimeSpan.FromSeconds(30),
            "the kill switch's flatten");

        var flatten = calls.Take();
        Assert.True(flatten.Count(c => c.Method == "PlaceOrderAsync") >= 2, "a close of each symbol: " + string.Join(", ", flatten));
        AssertUrgent(flatten, "kill switch's flatten");
        Assert.All(await stack.Venue().GetPositionsAsync(), p => Assert.Equal(0m, p.PositionAmt));
    }

    /// <summary>The venue enforces its weight limit (1,000 a minute) and answers 429 past it.</summary>
    private static readonly Dictionary<string, string?> EnforcedWeightLimit = new()
    {
        ["Paper:EnforceRateLimits"] = "true",
        ["Paper:RequestWeightLimitPerMinute"] = "1000",
    };

    /// <summary>
    /// Uses the IP's weight up past Execution's share (92 % of the limit, the share being 90 %) at the start of a minute
    /// of the venue's clock, and makes sure Execution's client has seen it: a normal read of Execution's then waits for the
    /// next minute, some 50 s away.
    /// </summary>
    private static async Task UseUpTheServicesShareAsync(ExecutionStack stack)
    {
        // Execution's client learns the venue's limits from exchangeInfo, which its instrument catalog reads when a symbol
        // is first looked up (after a restart, not before): read now, so the client knows the limit is 1,000.
        await stack.ExecutionHost.Services.GetRequiredService<Binance.Instruments.VenueInstrumentCatalog>().GetSnapshotAsync();

        // The venue counts the weight per minute of its clock: move it to the start of a minute, so none ends in the test.
        // At least 10 s ahead: the services' clients then find their clocks behind the venue's (-1021) and sync again, so
        // their minute is the venue's.
        var now = await ServerNowAsync(stack);
        var ahead = 60_000 - (now.ToUnixTimeMilliseconds() % 60_000) + 1_000;
        await stack.Paper.AdvanceAsync(TimeSpan.FromMilliseconds(ahead < 10_000 ? ahead + 60_000 : ahead));

        // Another process on the IP uses it to 92 % of the limit (ticker/price without a symbol weighs 2).
        while (await UsedWeightAsync(stack) < 920)
        {
            for (var i = 0; i < 20; i++)
            {
                using var other = await stack.Paper.Http.GetAsync("fapi/v1/ticker/price");
                other.EnsureSuccessStatusCode();
            }
        }

        // A read tells Execution's client where the IP's weight is (every answer does); a normal read then waits for the
        // next minute (the first read may already wait, when the client has seen the weight).
        var held = false;
        for (var attempt = 0; attempt < 2 && !held; attempt++)
        {
            try
            {
                await stack.Execution.GetAccountAsync(new GetAccountRequest(), deadline: DateTime.UtcNow.AddSeconds(3));
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.DeadlineExceeded)
            {
                held = true;
            }
        }

        Assert.True(held, "a normal read past the share waits for the next minute");
    }

    private static void AssertUrgent(List<VenueCall> calls, string what)
    {
        Assert.True(calls.Count > 0, $"the {what} read the venue");
        Assert.All(calls, c => Assert.True(c.Priority == VenuePriority.Urgent, $"{what}: {c.Method} went at {c.Priority}"));
    }

    private static async Task<DateTimeOffset> ServerNowAsync(ExecutionStack stack)
    {
        using var response = await stack.Paper.Http.GetAsync("fapi/v1/time");
        using var body = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return DateTimeOffset.FromUnixTimeMilliseconds(body.RootElement.GetProperty("serverTime").GetInt64());
    }

    /// <summary>The IP's weight used this minute as the venue reports it (the look costs 1 itself).</summary>
    private static async Task<int> UsedWeightAsync(ExecutionStack stack)
    {
        using var response = await stack.Paper.Http.GetAsync("fapi/v1/time");
        return int.Parse(response.Headers.GetValues("X-MBX-USED-WEIGHT-1M").Single(), CultureInfo.InvariantCulture);
    }

    private sealed record VenueCall(string Method, VenuePriority Priority)
    {
        public override string ToString() => $"{Method} ({Priority})";
    }

    /// <summary>Execution's venue client, every call recorded with the priority current when it was made.</summary>
    private sealed class VenueCalls
    {
        private readonly List<VenueCall> _calls = [];

        public void Install(IServiceCollection services) =>
            VenueProxy.Install(services, real => VenueProxy.Wrap(real, (method, _, call) =>
            {
                lock (_calls)
                {
                    _calls.Add(new VenueCall(method.Name, VenueRequestPriority.Current));
                }

                return call();
            }));

        public List<VenueCall> Peek()
        {
            lock (_calls)
            {
                return [.. _calls];
            }
        }

        public List<VenueCall> Take()
        {
            lock (_calls)
            {
                var taken = _calls.ToList();
                _calls.Clear();
                return taken;
            }
        }
    }
}
