using System.Collections.Concurrent;
using System.Threading.Channels;
using TradeEngine.Execution.V1;

namespace TradeEngine.Execution.Streaming;

/// <summary>
/// Fans position changes out to every open StreamPositionUpdates call. Each subscriber has a bounded buffer
/// (<see cref="BufferSize"/> updates); a subscriber too slow to keep up is not allowed to slow trading down, and is not
/// left with a silent gap either: once its buffer is full it is ended with <see cref="SubscriberFellBehindException"/>
/// after the updates it holds (the stream ends ABORTED, and a new subscription starts from a fresh snapshot). Before, it
/// lost its oldest updates without a sign, a CLOSED among them, and went on showing a position that no longer stood.
/// </summary>
public sealed class PositionUpdateHub
{
    /// <summary>The updates a subscriber may have waiting before it is ended as fallen behind.</summary>
    public const int BufferSize = 1024;

    private readonly ConcurrentDictionary<Guid, Channel<PositionUpdate>> _subscribers = new();

    public int SubscriberCount => _subscribers.Count;

    public Subscription Subscribe()
    {
        var id = Guid.NewGuid();
        // Wait mode: a full buffer refuses the write (TryWrite never waits), which ends the subscriber below.
        var channel = Channel.CreateBounded<PositionUpdate>(new BoundedChannelOptions(BufferSize) { FullMode = BoundedChannelFullMode.Wait });
        _subscribers[id] = channel;
        return new Subscription(this, id, channel.Reader);
    }

    public void Publish(PositionUpdate update)
    {
        foreach (var (id, channel) in _subscribers)
        {
            if (!channel.Writer.TryWrite(update) && _subscribers.TryRemove(id, out _))
            {
                channel.Writer.TryComplete(new SubscriberFellBehindException());
            }
        }
    }

    private void Unsubscribe(Guid id)
    {
        if (_subscribers.TryRemove(id, out var channel))
        {
            channel.Writer.TryComplete();
        }
    }

    public sealed class Subscription(PositionUpdateHub hub, Guid id, ChannelReader<PositionUpdate> reader) : IDisposable
    {
        public ChannelReader<PositionUpdate> Reader { get; } = reader;

        public void Dispose() => hub.Unsubscribe(id);
    }
}

/// <summary>A subscriber's buffer filled: it missed updates, and must subscribe again for a fresh snapshot.</summary>
public sealed class SubscriberFellBehindException()
    : Exception($"the stream fell more than {PositionUpdateHub.BufferSize} updates behind and was ended rather than skip any; subscribe again for a fresh snapshot");
