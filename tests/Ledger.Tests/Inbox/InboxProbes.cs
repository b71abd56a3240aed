using System.Collections.Concurrent;
using Grpc.Core;
using Grpc.Core.Interceptors;
using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using TradeEngine.Messaging;
using TradeEngine.Messaging.Inbox;

namespace TradeEngine.Ledger.Tests.Inbox;

public sealed record InboxProbe(Guid EventId);

/// <summary>What the probe consumer did: how often the work ran per event, optionally held open or failing once.</summary>
public sealed class ProbeWork
{
    private readonly ConcurrentDictionary<Guid, int> _runs = new();

    public TaskCompletionSource? Gate { get; init; }

    public bool FailFirst { get; init; }

    /// <summary>The consumer's claim lease (60 s, the product's default, unless given).</summary>
    public TimeSpan Lease { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Every try but the endpoint's last fails; the last waits until its delivery is cancelled (the service stopping).</summary>
    public bool HoldLastTry { get; init; }

    public string ConsumerName { get; set; } = string.Empty;

    /// <summary>Deliveries the consumer judged its event's last (<c>IsLastDelivery</c>), as Execution's consumers record them.</summary>
    public int LastDeliveriesFailed => Volatile.Read(ref _lastDeliveriesFailed);

    /// <summary>Set once the held last try is waiting.</summary>
    public TaskCompletionSource LastTryHeld { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private int _lastDeliveriesFailed;

    public int Runs(Guid eventId) => _runs.GetValueOrDefault(eventId);

    public void LastDeliveryFailed() => Interlocked.Increment(ref _lastDeliveriesFailed);

    public async Task RunAsync(Guid eventId, int retryAttempt, CancellationToken delivery)
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

        if (HoldLastTry)
        {
            if (retryAttempt < EventBusExtensions.RetryLimit)
            {
                throw new InvalidOperationException($"The work failed (try {retryAttempt}).");
            }

            LastTryHeld.TrySetResult();
            await Task.Delay(Timeout.Infinite, delivery);
        }
    }
}

public sealed class ProbeConsumer(IInbox inbox, ILogger<ProbeConsumer> logger, ProbeWork work) : InboxConsumer<InboxProbe>(inbox, logger)
{
    protected override TimeSpan ClaimLease => work.Lease;

    protected override async Task ConsumeOnce(ConsumeContext<InboxProbe> context)
    {
        work.ConsumerName = ConsumerName;
        try
        {
            await work.RunAsync(context.Message.EventId, context.GetRetryAttempt(), context.CancellationToken);
        }
        catch (Exception ex) when (IsLastDelivery(context, ex))
        {
            work.LastDeliveryFailed();
            throw;
        }
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

    private readonly TimeSpan _stopTimeout;

    private ProbeHost(IHost host, string queue, TimeSpan stopTimeout)
    {
        _host = host;
        _queue = queue;
        _stopTimeout = stopTimeout;
    }

    /// <summary>The consumer's queue (named per host unless given, so a second host can take over the first's).</summary>
    public string Queue => _queue;

    /// <param name="stopTimeout">The host's stop timeout (5 s unless given); the consumers' stop timeout is the product's rule under it.</param>
    public static async Task<ProbeHost> StartAsync(string amqpUri, IInbox inbox, ProbeWork work, string? queue = null, TimeSpan? stopTimeout = null)
    {
        var stop = stopTimeout ?? TimeSpan.FromSeconds(5);
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
            o.StopTimeout = stop;
        });
        queue ??= "test-inbox-probe-" + Guid.NewGuid().ToString("N")[..8];
        builder.AddEventBus(bus => bus.AddConsumer<ProbeConsumer>().Endpoint(e =>
        {
            e.Name = queue;
            e.ConcurrentMessageLimit = 4;
        }));
        var host = builder.Build();
        await host.StartAsync();
        return new ProbeHost(host, queue, stop);
    }

    public async Task SendAsync(InboxProbe probe)
    {
        var endpoint = await _host.Services.GetRequiredService<ISendEndpointProvider>().GetSendEndpoint(new Uri("queue:" + _queue));
        await endpoint.Send(probe);
    }

    public async ValueTask DisposeAsync()
    {
        using var stop = new CancellationTokenSource(_stopTimeout + TimeSpan.FromSeconds(5));
        await _host.StopAsync(stop.Token);
        _host.Dispose();
    }
}
