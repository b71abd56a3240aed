namespace TradeEngine.Binance.Internal.Http;

/// <summary>
/// The offset between the venue's clock and ours, from <c>/fapi/v1/time</c>, halfway through the round trip.
/// Signed requests carry <c>timestamp = local now + offset</c>; a -1021 re-syncs it.
/// </summary>
internal sealed class ClockSync(TimeProvider time)
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private long _offsetMs;
    private long _syncedAtTicks = -1;

    public bool IsSynced => Interlocked.Read(ref _syncedAtTicks) >= 0;

    public long OffsetMilliseconds => Interlocked.Read(ref _offsetMs);

    public long ServerNowMilliseconds() => time.GetUtcNow().ToUnixTimeMilliseconds() + OffsetMilliseconds;

    public DateTimeOffset ServerNow() => DateTimeOffset.FromUnixTimeMilliseconds(ServerNowMilliseconds());

    /// <summary>Re-syncs unless another caller did so after <paramref name="observedSyncTicks"/> (no stampede).</summary>
    public async Task SyncAsync(Func<CancellationToken, Task<long>> fetchServerTimeMs, long observedSyncTicks, CancellationToken ct)
    {
        await _gate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            if (Interlocked.Read(ref _syncedAtTicks) != observedSyncTicks)
            {
                return;
            }

            var before = time.GetUtcNow().ToUnixTimeMilliseconds();
            var server = await fetchServerTimeMs(ct).ConfigureAwait(false);
            var after = time.GetUtcNow().ToUnixTimeMilliseconds();
            Interlocked.Exchange(ref _offsetMs, server - ((before + after) / 2));
            Interlocked.Exchange(ref _syncedAtTicks, time.GetTimestamp());
        }
        finally
        {
            _gate.Release();
        }
    }

    public long SyncStamp => Interlocked.Read(ref _syncedAtTicks);
}
