using Grpc.Core.Interceptors;
using TradeEngine.Ledger.Tests.Support;
using TradeEngine.Ledger.V1;
using TradeEngine.Messaging;
using TradeEngine.Messaging.Inbox;
using TradeEngine.Testing.Servers;

namespace TradeEngine.Ledger.Tests.Inbox;

/// <summary>
/// <see cref="InboxConsumer{TMessage}"/> as a service runs it: MassTransit over a real RabbitMQ (<c>AddEventBus</c>),
/// the inbox kept by a real Ledger over gRPC. The work must run once per event, whatever the deliveries do.
/// </summary>
[Collection(LedgerCollection.Name)]
public sealed class InboxConsumerTests(PostgresServer postgres, RabbitMqServer rabbit) : IAsyncLifetime
{
    private LedgerHost _ledger = null!;

    public async Task InitializeAsync() => _ledger = await LedgerHost.StartAsync(postgres, rabbit, relay: false);

    public async Task DisposeAsync() => await _ledger.DisposeAsync();

    [Fact]
    public async Task Consume_TwoConcurrentDeliveriesOfOneEvent_WorkRunsOnce()
    {
        var inbox = new ObservedInbox(new LedgerInbox(_ledger.Client));
        var work = new ProbeWork { Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously) };
        await using var consumer = await ProbeHost.StartAsync(rabbit.ConnectionString, inbox, work);
        var probe = new InboxProbe(Guid.NewGuid());

        // Both deliveries are in flight together: the first holds the work open until the second has asked the inbox.
        await consumer.SendAsync(probe);
        await consumer.SendAsync(probe);
        await WaitUntilAsync(() => work.Runs(probe.EventId) >= 1 && inbox.Lookups >= 2);
        await Task.Delay(500);
        work.Gate.SetResult();

        // The second delivery is retried until the first has completed, and then skipped.
        await WaitUntilAsync(() => inbox.Outcomes.Contains(InboxClaimStatus.AlreadyProcessed), TimeSpan.FromSeconds(10), mustHold: true);
        await Task.Delay(300);

        Assert.Equal(1, work.Runs(probe.EventId));
        Assert.True((await _ledger.Client.CheckInboxAsync(new CheckInboxRequest { Consumer = work.ConsumerName, EventId = probe.EventId.ToString() })).Processed);
    }

    /// <summary>
    /// Work that outlasts its claim's lease (2 s here; a close-all on a slow venue against the product's 60 s): the claim is
    /// renewed while the work runs, so a redelivery 3.5 s in finds it held (IN_PROGRESS) and, once the work is done,
    /// processed; the work ran once. Before, the lease lapsed under the work and the redelivery ran it a second time.
    /// </summary>
    [Fact]
    public async Task Consume_WorkOutlastsTheLease_ClaimRenewedAndARedeliveryDoesNotRunItAgain()
    {
        var inbox = new ObservedInbox(new LedgerInbox(_ledger.Client));
        var work = new ProbeWork { Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously), Lease = TimeSpan.FromSeconds(2) };
        await using var consumer = await ProbeHost.StartAsync(rabbit.ConnectionString, inbox, work);
        var probe = new InboxProbe(Guid.NewGuid());

        await consumer.SendAsync(probe);
        await WaitUntilAsync(() => work.Runs(probe.EventId) >= 1);
        await Task.Delay(TimeSpan.FromSeconds(3.5));
        await consumer.SendAsync(probe);
        await WaitUntilAsync(() => inbox.Outcomes.Contains(InboxClaimStatus.InProgress), TimeSpan.FromSeconds(10), mustHold: true);
        var runsWhileHeld = work.Runs(probe.EventId);
        work.Gate.SetResult();
        await WaitUntilAsync(() => inbox.Outcomes.Contains(InboxClaimStatus.AlreadyProcessed), TimeSpan.FromSeconds(15), mustHold: true);

        Assert.Equal(1, runsWhileHeld);
        Assert.Equal(1, work.Runs(probe.EventId));
        Assert.True((await _ledger.Client.CheckInboxAsync(new CheckInboxRequest { Consumer = work.ConsumerName, EventId = probe.EventId.ToString() })).Processed);
    }

    [Fact]
    public async Task Consume_RecordingFailsAfterWork_WorkNotRepeatedWhileLeaseHolds()
    {
        var inbox = new ObservedInbox(new LedgerInbox(_ledger.Client)) { FailRecording = true };
        var work = new ProbeWork();
        await using var consumer = await ProbeHost.StartAsync(rabbit.ConnectionString, inbox, work);
        var probe = new InboxProbe(Guid.NewGuid());

        await consumer.SendAsync(probe);
        await WaitUntilAsync(() => work.Runs(probe.EventId) >= 1 && inbox.RecordAttempts >= 4);
        // The event is delivered again (an outbox republish, a redelivery): the claim still holds it.
        await consumer.SendAsync(probe);
        await WaitUntilAsync(() => inbox.Outcomes.Count(o => o == InboxClaimStatus.InProgress) >= 2, TimeSpan.FromSeconds(10), mustHold: true);

        Assert.Equal(1, work.Runs(probe.EventId));
        Assert.Equal(1, await _ledger.CountAsync("inbox WHERE event_id = $1 AND status = 'in_progress'", probe.EventId));
    }

    [Fact]
    public async Task Consume_WorkFails_ClaimReleasedAndRetryRunsIt()
    {
        var inbox = new ObservedInbox(new LedgerInbox(_ledger.Client));
        var work = new ProbeWork { FailFirst = true };
        await using var consumer = await ProbeHost.StartAsync(rabbit.ConnectionString, inbox, work);
        var probe = new InboxProbe(Guid.NewGuid());

        await consumer.SendAsync(probe);
        await WaitUntilAsync(() => work.Runs(probe.EventId) >= 2 && inbox.RecordAttempts >= 1);

        Assert.Equal(2, work.Runs(probe.EventId));
        Assert.Equal(1, inbox.Releases);
        Assert.Equal(1, await _ledger.CountAsync("inbox WHERE event_id = $1 AND status = 'processed'", probe.EventId));
    }

    [Fact]
    public void ConsumerName_Default_ServiceAndNamespaceQualifiedTypeName()
    {
        var name = InboxConsumerName.For(typeof(ProbeConsumer));
        var longName = InboxConsumerName.For(typeof(Dictionary<string, Dictionary<string, Dictionary<string, Dictionary<string, ProbeConsumer>>>>));

        Assert.Equal(InboxConsumerName.Service + "/TradeEngine.Ledger.Tests.Inbox.ProbeConsumer", name);
        Assert.NotEmpty(InboxConsumerName.Service);
        Assert.True(longName.Length <= InboxConsumerName.MaxLength);
        Assert.NotEqual(longName, InboxConsumerName.For(typeof(Dictionary<string, Dictionary<string, Dictionary<string, Dictionary<string, InboxProbe>>>>)));
    }

    /// <summary>
    /// The Ledger (the inbox's store) refuses every claim for 12 s, longer than the ordinary retries last (about 8 s):
    /// the delivery is held and tried again until the inbox answers, and the work then runs once. Before, the fifth
    /// refused claim sent the event to the error queue, and a kill-switch or margin response was never acted on.
    /// </summary>
    [Fact]
    public async Task Consume_InboxUnreachableLongerThanTheOrdinaryRetries_DeliveryHeldAndTheWorkRunsOnceItAnswers()
    {
        var outage = new ClaimOutage(TimeSpan.FromSeconds(12));

        await ProbeThroughOnceAsync(outage, TimeSpan.FromSeconds(45));

        Assert.True(outage.Refused >= 4, $"{outage.Refused} claims refused");
    }

    /// <summary>
    /// The inbox makes the claim but its answer is lost: the delivery asks again under its own token and gets its claim
    /// back, and the work runs at once. Before, the repeat found the claim "in progress" (its own) and the event waited
    /// out the 60 s lease.
    /// </summary>
    [Fact]
    public async Task Consume_ClaimMadeButItsAnswerLost_TheDeliveryGetsItsClaimBackAndRunsAtOnce()
    {
        // Well inside the lease: the first retry comes 1 s after the lost answer.
        var inbox = await ProbeThroughOnceAsync(new ClaimAnswerLost(), TimeSpan.FromSeconds(20));

        Assert.Equal([InboxClaimStatus.Claimed], inbox.Outcomes);
    }

    /// <summary>
    /// The service stops while its consumer is on the event's last try (the endpoint's retries spent): the try is
    /// cancelled after the consumers' stop timeout, which is not a failure of the work. The consumer does not take it for
    /// its last delivery (Execution's consumers log a critical "its last delivery failed" risk event then), the event is
    /// not dead-lettered but back in its queue, and the next instance acts on it.
    /// </summary>
    [Fact]
    public async Task Consume_ServiceStopsDuringTheLastTry_NotTakenForTheLastDeliveryAndTheNextInstanceRunsIt()
    {
        var inbox = new ObservedInbox(new LedgerInbox(_ledger.Client));
        var held = new ProbeWork { HoldLastTry = true };
        var probe = new InboxProbe(Guid.NewGuid());
        // A stop timeout over the consumers' own (10 s) so that theirs, not the whole stop's, cancels the held try.
        var first = await ProbeHost.StartAsync(rabbit.ConnectionString, inbox, held, stopTimeout: TimeSpan.FromSeconds(20));
        var queue = first.Queue;
        try
        {
            await first.SendAsync(probe);
            // The retries before the last come 0.1, 0.5, 2 and 5 s apart.
            await held.LastTryHeld.Task.WaitAsync(TimeSpan.FromSeconds(45));
        }
        finally
        {
            await first.DisposeAsync();
        }

        Assert.Equal(EventBusExtensions.RetryLimit + 1, held.Runs(probe.EventId));
        Assert.Equal(0, held.LastDeliveriesFailed);
        var states = await rabbit.QueueStatesAsync(queue, queue + "_error");
        Assert.Equal(1u, states[0]?.Ready);
        Assert.True(states[1] is null or { Ready: 0 }, $"the error queue holds {states[1]?.Ready} message(s)");

        var work = new ProbeWork();
        await using var next = await ProbeHost.StartAsync(rabbit.ConnectionString, inbox, work, queue);
        await WaitUntilAsync(() => work.Runs(probe.EventId) >= 1);
        Assert.True((await _ledger.Client.CheckInboxAsync(new CheckInboxRequest { Consumer = work.ConsumerName, EventId = probe.EventId.ToString() })).Processed);
        Assert.Equal(0, work.LastDeliveriesFailed);
    }

    /// <summary>
    /// Sends one probe to a consumer whose inbox reaches the Ledger through <paramref name="interceptor"/>; asserts that
    /// the work ran exactly once within <paramref name="within"/> and that the event is recorded processed.
    /// </summary>
    private async Task<ObservedInbox> ProbeThroughOnceAsync(Interceptor interceptor, TimeSpan within)
    {
        var inbox = new ObservedInbox(new LedgerInbox(new LedgerService.LedgerServiceClient(_ledger.Host.Channel.Intercept(interceptor))));
        var work = new ProbeWork();
        await using var consumer = await ProbeHost.StartAsync(rabbit.ConnectionString, inbox, work);
        var probe = new InboxProbe(Guid.NewGuid());

        await consumer.SendAsync(probe);
        await WaitUntilAsync(() => work.Runs(probe.EventId) >= 1, within);
        await Task.Delay(500);

        Assert.Equal(1, work.Runs(probe.EventId));
        Assert.True((await _ledger.Client.CheckInboxAsync(new CheckInboxRequest { Consumer = work.ConsumerName, EventId = probe.EventId.ToString() })).Processed);
        return inbox;
    }

    private static async Task WaitUntilAsync(Func<bool> condition, TimeSpan? timeout = null, bool mustHold = true)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (!condition())
        {
            if (DateTime.UtcNow >= deadline)
            {
                Assert.False(mustHold, "The condition did not hold in time.");
                return;
            }

            await Task.Delay(20);
        }
    }
}
