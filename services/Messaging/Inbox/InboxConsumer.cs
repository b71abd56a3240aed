using System.Collections.Concurrent;
using System.Reflection;
using MassTransit;
using Microsoft.Extensions.Logging;

namespace TradeEngine.Messaging.Inbox;

/// <summary>
/// Base class of every consumer outside the Ledger: the event is handed to <see cref="ConsumeOnce"/> only by the
/// delivery that claims it in the inbox. The event id is the message's <c>EventId</c> property (every contract event
/// has one), else the MassTransit MessageId, which the Ledger's outbox sets to the event id.
/// </summary>
/// <remarks>
/// <para>Claim first, then act: <list type="bullet">
/// <item>ALREADY_PROCESSED: the delivery is acknowledged and nothing runs.</item>
/// <item>IN_PROGRESS (another delivery holds a live claim): <see cref="InboxEventInProgressException"/> is thrown and
/// the endpoint's retry (see <c>AddEventBus</c>) delivers it again later, by when the holder has completed (then it is
/// skipped), released (then it is claimed) or let its lease expire (then it is claimed again).</item>
/// <item>CLAIMED: <see cref="ConsumeOnce"/> runs. On success the claim is completed, retried a few times; on failure
/// the claim is released and the exception rethrown, so the retry runs the work again.</item>
/// </list></para>
/// <para>While the work runs the claim is renewed every third of <see cref="ClaimLease"/>. What remains: a process that
/// dies while acting, or a completion that still fails after its retries, leaves the claim to expire after
/// <see cref="ClaimLease"/>, and a later delivery runs the work again; so does a renewal that cannot reach the inbox for
/// a whole lease. So a handler derives its downstream idempotency keys (client order ids, Ledger keys) from the event
/// id, as Execution's consumers do.</para>
/// </remarks>
public abstract partial class InboxConsumer<TMessage>(IInbox inbox, ILogger logger) : IConsumer<TMessage>
    where TMessage : class
{
    private static readonly ConcurrentDictionary<Type, PropertyInfo?> EventIdProperties = new();
    private static readonly ConcurrentDictionary<Type, string> DefaultNames = new();
    private static readonly TimeSpan[] CompleteRetryDelays = [TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(2)];

    /// <summary>
    /// The name the inbox keys processed events by, unique across services: by default <c>service/Namespace.TypeName</c>,
    /// where service is <c>OTEL_SERVICE_NAME</c> (Aspire sets it to the resource name) or else the entry assembly's
    /// name. It must be the same in every replica of a service and must not change once events are recorded under it.
    /// </summary>
    protected virtual string ConsumerName => DefaultNames.GetOrAdd(GetType(), InboxConsumerName.For);

    /// <summary>How long a claim holds without a completion; longer than the work takes, shorter than the endpoint's in-progress retries.</summary>
    protected virtual TimeSpan ClaimLease => TimeSpan.FromSeconds(60);

    public async Task Consume(ConsumeContext<TMessage> context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var eventId = EventIdOf(context);
        var consumer = ConsumerName;
        // One token for every attempt of this delivery: a claim the inbox made whose answer was lost is this delivery's
        // own, and the next attempt gets it back rather than waiting out its lease as another delivery's. The renewals
        // while the work runs ask with it too.
        var token = Guid.CreateVersion7();
        var claim = await ClaimAsync(consumer, eventId, token, context.CancellationToken).ConfigureAwait(false);
        switch (claim.Status)
        {
            case InboxClaimStatus.AlreadyProcessed:
                LogDuplicate(logger, consumer, eventId);
                return;
            case InboxClaimStatus.InProgress:
                LogInProgress(logger, consumer, eventId);
                throw new InboxEventInProgressException(consumer, eventId, claim.LeaseUntil);
        }

        using var working = new CancellationTokenSource();
        var renewal = RenewWhileWorkingAsync(consumer, eventId, token, working.Token);
        try
        {
            await ConsumeOnce(context).ConfigureAwait(false);
        }
        catch (Exception work)
        {
            await working.CancelAsync().ConfigureAwait(false);
            await renewal.ConfigureAwait(false);
            await ReleaseAsync(consumer, eventId, claim, work).ConfigureAwait(false);
            throw;
        }

        await working.CancelAsync().ConfigureAwait(false);
        await renewal.ConfigureAwait(false);
        await CompleteAsync(consumer, eventId).ConfigureAwait(false);
    }

    /// <summary>
    /// Renews the claim every third of <see cref="ClaimLease"/> while the work runs (the same token: the inbox answers
    /// CLAIMED with a new lease), so work that outlasts one lease (a close-all on a slow venue, its retries) is not run
    /// again meanwhile by a redelivery that found the lease expired. A renewal that fails is logged and tried at the next
    /// interval; one answered otherwise than CLAIMED (the lease had already lapsed and another delivery holds the event)
    /// ends the renewals, with a warning. Never throws.
    /// </summary>
    private async Task RenewWhileWorkingAsync(string consumer, Guid eventId, Guid token, CancellationToken working)
    {
        var every = ClaimLease / 3;
        while (!working.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(every, working).ConfigureAwait(false);
                var renewed = await inbox.ClaimAsync(consumer, eventId, ClaimLease, token, working).ConfigureAwait(false);
                if (renewed.Status != InboxClaimStatus.Claimed)
                {
                    LogClaimLost(logger, consumer, eventId, renewed.Status);
                    return;
                }
            }
            catch (OperationCanceledException) when (working.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                LogRenewalFailed(logger, consumer, eventId, ex.GetType().Name, ex.Message);
            }
        }
    }

    /// <summary>
    /// Between the claims asked while the inbox cannot answer (<see cref="InboxUnavailableException"/>): 1, 2, 5, 10 and
    /// 20 s, then every 30 s, about 15 minutes in all, under RabbitMQ's 30-minute delivery acknowledgement timeout.
    /// </summary>
    public static IReadOnlyList<TimeSpan> InboxUnavailableDelays { get; } =
        [.. new[] { 1.0, 2, 5, 10, 20 }.Concat(Enumerable.Repeat(30.0, 28)).Select(TimeSpan.FromSeconds)];

    /// <summary>
    /// The claim, asked again while the inbox cannot answer: the delivery is held (nothing has run), so a short outage
    /// of the Ledger delays a kill-switch or margin response instead of dropping it to the error queue after the
    /// endpoint's few quick retries. Held here rather than by a retry layer of the bus, whose attempts a consumer's own
    /// <c>GetRetryAttempt</c> would count.
    /// </summary>
    private async Task<InboxClaim> ClaimAsync(string consumer, Guid eventId, Guid token, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                return await inbox.ClaimAsync(consumer, eventId, ClaimLease, token, cancellationToken).ConfigureAwait(false);
            }
            catch (InboxUnavailableException ex) when (attempt < InboxUnavailableDelays.Count)
            {
                LogInboxUnavailable(logger, consumer, eventId, attempt + 1, InboxUnavailableDelays[attempt], ex.InnerException?.Message ?? ex.Message);
                await Task.Delay(InboxUnavailableDelays[attempt], cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// Whether <paramref name="failure"/> ends the delivery's last try (<see cref="EventBusExtensions.RetryLimit"/>), after
    /// which the message goes to the error queue: where a consumer records that its event was not acted on. A claim
    /// another delivery holds is not a failure of the work, nor is the service stopping: a delivery cancelled by the stop
    /// (<see cref="EventBusExtensions.ConsumerStopTimeout"/>) goes back to its queue for the next instance.
    /// </summary>
    protected static bool IsLastDelivery(ConsumeContext context, Exception failure)
    {
        ArgumentNullException.ThrowIfNull(context);
        return failure is not InboxEventInProgressException
               && !(failure is OperationCanceledException && context.CancellationToken.IsCancellationRequested)
               && context.GetRetryAttempt() >= EventBusExtensions.RetryLimit;
    }

    /// <summary>Acts on an event this consumer has claimed (see the remarks on the class for when it may run again).</summary>
    protected abstract Task ConsumeOnce(ConsumeContext<TMessage> context);

    /// <summary>The event id of a message: its <c>Guid EventId</c> property, else the MessageId.</summary>
    public static Guid EventIdOf(ConsumeContext<TMessage> context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var property = EventIdProperties.GetOrAdd(context.Message.GetType(), t =>
        {
            var p = t.GetProperty("EventId", BindingFlags.Public | BindingFlags.Instance);
            return p?.PropertyType == typeof(Guid) ? p : null;
        });
        if (property?.GetValue(context.Message) is Guid id && id != Guid.Empty)
        {
            return id;
        }

        return context.MessageId ?? throw new InvalidOperationException(
            $"{typeof(TMessage).Name} carries neither an EventId nor a MessageId; it cannot be deduplicated.");
    }

    /// <summary>
    /// The work is done: record it. Not cut short by shutdown or the delivery's cancellation. If every attempt fails
    /// the delivery is still acknowledged (retrying it could only run the work again); the claim expires after its lease.
    /// </summary>
    private async Task CompleteAsync(string consumer, Guid eventId)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                await inbox.CompleteAsync(consumer, eventId, CancellationToken.None).ConfigureAwait(false);
                return;
            }
            catch (Exception ex) when (attempt < CompleteRetryDelays.Length)
            {
                LogCompleteRetry(logger, ex, consumer, eventId, attempt + 1);
                await Task.Delay(CompleteRetryDelays[attempt]).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                LogCompleteFailed(logger, ex, consumer, eventId, ClaimLease);
                return;
            }
        }
    }

    private async Task ReleaseAsync(string consumer, Guid eventId, InboxClaim claim, Exception work)
    {
        try
        {
            await inbox.ReleaseAsync(consumer, eventId, claim, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            // The work's exception is what the retry must see; an unreleased claim only waits for its lease.
            LogReleaseFailed(logger, ex, consumer, eventId, work.GetType().Name);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "{Consumer} lost its claim on event {EventId} while working on it (the inbox answered {Status}); another delivery may run it too")]
    private static partial void LogClaimLost(ILogger logger, string consumer, Guid eventId, InboxClaimStatus status);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Consumer} could not renew its claim on event {EventId}; trying again at the next interval: {Error} {Message}")]
    private static partial void LogRenewalFailed(ILogger logger, string consumer, Guid eventId, string error, string message);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Consumer} skipped event {EventId}: already processed")]
    private static partial void LogDuplicate(ILogger logger, string consumer, Guid eventId);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Consumer} deferred event {EventId}: another delivery is processing it")]
    private static partial void LogInProgress(ILogger logger, string consumer, Guid eventId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Consumer} could not claim event {EventId} (attempt {Attempt}): the inbox did not answer; asked again in {Delay}: {Error}")]
    private static partial void LogInboxUnavailable(ILogger logger, string consumer, Guid eventId, int attempt, TimeSpan delay, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Consumer} could not record event {EventId} as processed (attempt {Attempt}); retrying")]
    private static partial void LogCompleteRetry(ILogger logger, Exception exception, string consumer, Guid eventId, int attempt);

    [LoggerMessage(Level = LogLevel.Error,
        Message = "{Consumer} processed event {EventId} but could not record it; a redelivery after the lease ({Lease}) may run it again")]
    private static partial void LogCompleteFailed(ILogger logger, Exception exception, string consumer, Guid eventId, TimeSpan lease);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Consumer} could not release its claim on event {EventId} after {Failure}; it waits for its lease")]
    private static partial void LogReleaseFailed(ILogger logger, Exception exception, string consumer, Guid eventId, string failure);
}
