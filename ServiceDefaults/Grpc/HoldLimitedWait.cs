using TradeEngine.Domain;

namespace TradeEngine.ServiceDefaults.Grpc;

/// <summary>
/// A wait for work shared by many callers (a venue read one caller started and others joined) made by a caller under a
/// hold limit (<see cref="VenueHoldLimit"/>: an open holding its symbol's lock, whose limit travels with its calls): no
/// longer than the limit left, then RESOURCE_EXHAUSTED with a 1 s retry delay. The shared work is not cancelled: it goes
/// on and serves the retry. Without a limit, or once the work is done, an ordinary wait.
/// </summary>
public static class HoldLimitedWait
{
    /// <summary>The retry delay a refused wait names: the shared work is under way, and its result soon cached.</summary>
    public static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(1);

    /// <summary>As <see cref="WaitAsync{T}(Task{T}, string, Action{TimeSpan}?, CancellationToken)"/>; a result already there is returned as it is.</summary>
    public static ValueTask<T> WaitAsync<T>(ValueTask<T> pending, string what, Action<TimeSpan>? refused, CancellationToken cancellationToken) =>
        pending.IsCompletedSuccessfully ? pending : new ValueTask<T>(WaitAsync(pending.AsTask(), what, refused, cancellationToken));

    /// <param name="pending">The shared work.</param>
    /// <param name="what">What is waited for, as the refusal's subject: "{what} takes longer than this call may wait (N s)".</param>
    /// <param name="refused">Called with the limit when the wait is refused (for the caller's log).</param>
    /// <param name="cancellationToken">The caller's own token.</param>
    public static async Task<T> WaitAsync<T>(Task<T> pending, string what, Action<TimeSpan>? refused, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(pending);
        if (pending.IsCompleted || VenueHoldLimit.Current is not { } left)
        {
            return await pending.WaitAsync(cancellationToken).ConfigureAwait(false);
        }

        try
        {
            // Counted against the limit (a later wait of the same call has the rest), in real time: the caller's lock is
            // held in real time, whatever clock the service runs on.
            using var held = VenueHoldLimit.Hold(TimeProvider.System);
            return await pending.WaitAsync(left, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            refused?.Invoke(left);
            throw GrpcStatuses.ResourceExhausted(
                $"{what} takes longer than this call may wait ({left.TotalSeconds:0.#} s); not waited for: retry in a moment", RetryDelay);
        }
    }
}
