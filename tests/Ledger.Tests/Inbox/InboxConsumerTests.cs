using System.Collections.Concurrent;
using Grpc.Core;
using Grpc.Core.Interceptors;
using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
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
        await WaitUntilAsync(() => inbox.Outcomes.Contains(InboxClaimStatus.AlreadyProcessed), TimeSpan.FromSeconds(10), mustHold: false);
        await Task.Delay(300);

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
        await WaitUntilAsync(() => inbox.Outcomes.Count(o => o == InboxClaimStatus.InProgress) >= 2, TimeSpan.FromSeconds(10), mustHold: false);

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

public sealed record InboxProbe(Guid EventId);

/// <summary>What the probe consumer did: how often the work ran per event, optionally held open or failing once.</summary>
public sealed class ProbeWork
{
    private readonly ConcurrentDictionary<Guid, int> _runs = new();

    public TaskCompletionSource? Gate { get; init; }

    public bool FailFirst { get; init; }

    public string ConsumerName { get; set; } = string.Empty;

    public int Runs(Guid eventId) => _runs.GetValueOrDefault(eventId);

    public async Task RunAsync(Guid eventId)
    {
        var run = _runs.AddOrUpdate(eventId, 1, (_, n) => n + 1);
        if (Gate is not null)
        {
            await Gate.Task.WaitAsync(TimeSpan.FromSeconds(30));
        }

        if (FailFirst && run == 1)
        {
            throw new InvalidOperationException("The work failed.");
        }
    }
}

public sealed class ProbeConsumer(IInbox inbox, ILogger<ProbeConsumer> logger, ProbeWork work) : InboxConsumer<InboxProbe>(inbox, logger)
{
    protected override Task ConsumeOnce(ConsumeContext<InboxProbe> context)
    {
        work.ConsumerName = ConsumerName;
        return work.RunAsync(context.Message.EventId);
    }
}

/// <summary>The Ledger's inbox, counted, and with recording (CompleteInbox and RecordInbox) failing when asked.</summary>
public sealed class ObservedInbox(IInbox inner) : IInbox
{
    private int _lookups;
    private int _recordAttempts;
    private int _releases;

    public bool FailRecording { get; init; }

    public int Lookups => Volatile.Read(ref _lookups);

    public int RecordAttempts => Volatile.Read(ref _recordAttempts);

    public int Releases => Volatile.Read(ref _releases);

    public ConcurrentQueue<InboxClaimStatus> Outcomes { get; } = new();

    public Task<bool> IsProcessedAsync(string consumer, Guid eventId, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _lookups);
        return inner.IsProcessedAsync(consumer, eventId, cancellationToken);
    }

    public Task<bool> MarkProcessedAsync(string consumer, Guid eventId, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _recordAttempts);
        return FailRecording ? Task.FromException<bool>(Unavailable()) : inner.MarkProcessedAsync(consumer, eventId, cancellationToken);
    }

    public async Task<InboxClaim> ClaimAsync(string consumer, Guid eventId, TimeSpan lease, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _lookups);
        var claim = await inner.ClaimAsync(consumer, eventId, lease, cancellationToken);
        Outcomes.Enqueue(claim.Status);
        return claim;
    }

    public async Task<InboxClaim> ClaimAsync(string consumer, Guid eventId, TimeSpan lease, Guid claimToken, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _lookups);
        var claim = await inner.ClaimAsync(consumer, eventId, lease, claimToken, cancellationToken);
        Outcomes.Enqueue(claim.Status);
        return claim;
    }

    public Task<bool> CompleteAsync(string consumer, Guid eventId, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _recordAttempts);
        return FailRecording ? Task.FromException<bool>(Unavailable()) : inner.CompleteAsync(consumer, eventId, cancellationToken);
    }

    public Task ReleaseAsync(string consumer, Guid eventId, InboxClaim claim, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _releases);
        return inner.ReleaseAsync(consumer, eventId, claim, cancellationToken);
    }

    private static RpcException Unavailable() => new(new Status(StatusCode.Unavailable, "The Ledger is unreachable (test)."));
}

/// <summary>The first ClaimInbox reaches the Ledger and is made, and its answer is lost (UNAVAILABLE) on the way back.</summary>
public sealed class ClaimAnswerLost : Grpc.Core.Interceptors.Interceptor
{
    private int _calls;

    public override AsyncUnaryCall<TResponse> AsyncUnaryCall<TRequest, TResponse>(
        TRequest request, ClientInterceptorContext<TRequest, TResponse> context, AsyncUnaryCallContinuation<TRequest, TResponse> continuation)
    {
        if (context.Method.Name != "ClaimInbox" || Interlocked.Increment(ref _calls) > 1)
        {
            return continuation(request, context);
        }

        var call = continuation(request, context);
        var lost = new RpcException(new Status(StatusCode.Unavailable, "The answer was lost (test)."));
        return new AsyncUnaryCall<TResponse>(
            call.ResponseAsync.ContinueWith<TResponse>(_ => throw lost, TaskScheduler.Default),
            Task.FromResult(new Metadata()), () => lost.Status, () => [], call.Dispose);
    }
}

/// <summary>The Ledger's ClaimInbox answering UNAVAILABLE, as a Ledger that is down does, until the outage is over.</summary>
public sealed class ClaimOutage(TimeSpan length) : Grpc.Core.Interceptors.Interceptor
{
    private readonly DateTime _until = DateTime.UtcNow + length;
    private int _refused;

    public int Refused => Volatile.Read(ref _refused);

    public override AsyncUnaryCall<TResponse> AsyncUnaryCall<TRequest, TResponse>(
        TRequest request, ClientInterceptorContext<TRequest, TResponse> context, AsyncUnaryCallContinuation<TRequest, TResponse> continuation)
    {
        if (context.Method.Name != "ClaimInbox" || DateTime.UtcNow >= _until)
        {
            return continuation(request, context);
        }

        Interlocked.Increment(ref _refused);
        var refused = new RpcException(new Status(StatusCode.Unavailable, "The Ledger is unreachable (test)."));
        return new AsyncUnaryCall<TResponse>(
            Task.FromException<TResponse>(refused), Task.FromResult(new Metadata()), () => refused.Status, () => [], () => { });
    }
}

/// <summary>A consuming service with one <see cref="ProbeConsumer"/> endpoint of its own, taking several messages at once.</summary>
public sealed class ProbeHost : IAsyncDisposable
{
    private readonly IHost _host;
    private readonly string _queue;

    private ProbeHost(IHost host, string queue)
    {
        _host = host;
        _queue = queue;
    }

    public static async Task<ProbeHost> StartAsync(string amqpUri, IInbox inbox, ProbeWork work)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:eventbus"] = amqpUri,
            ["Logging:LogLevel:Default"] = "Warning",
        });
        builder.Services.AddSingleton(inbox);
        builder.Services.AddSingleton(work);
        builder.Services.Configure<MassTransitHostOptions>(o =>
        {
            o.WaitUntilStarted = true;
            o.StopTimeout = TimeSpan.FromSeconds(5);
        });
        var queue = "test-inbox-probe-" + Guid.NewGuid().ToString("N")[..8];
        builder.AddEventBus(bus => bus.AddConsumer<ProbeConsumer>().Endpoint(e =>
        {
            e.Name = queue;
            e.ConcurrentMessageLimit = 4;
        }));
        var host = builder.Build();
        await host.StartAsync();
        return new ProbeHost(host, queue);
    }

    public async Task SendAsync(InboxProbe probe)
    {
        var endpoint = await _host.Services.GetRequiredService<ISendEndpointProvider>().GetSendEndpoint(new Uri("queue:" + _queue));
        await endpoint.Send(probe);
    }

    public async ValueTask DisposeAsync()
    {
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await _host.StopAsync(stop.Token);
        _host.Dispose();
    }
}
