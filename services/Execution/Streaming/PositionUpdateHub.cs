using System.Collections.Concurrent;
using System.Threading.Channels;
using TradeEngine.Execution.V1;

namespace TradeEngine.Execution.Streaming;

/// <summary>
/// Fans position changes out to every open StreamPositionUpdates call. Each subscriber has a bounded buffer; a
/// subscriber too slow to keep up loses its oldest updates rather than slowing trading down.
/// </summary>
public sealed class PositionUpdateHub
{
    private readonly ConcurrentDictionary<Guid, Channel<PositionUpdate>> _subscribers = new();

    public int SubscriberCount => _subscribers.Count;

    public Subscription Subscribe()
    {
        var id = Guid.NewGuid();
        var channel = Channel.CreateBounded<PositionUpdate>(new BoundedChannelOptions(1024) { FullMode = BoundedChannelFullMode.DropOldest });
        _subscribers[id] = channel;
        return new Subscription(this, id, channel.Reader);
    }

    public void Publish(PositionUpdate update)
    {
        foreach (var channel in _subscribers.Values)
        {
            channel.Writer.TryWrite(update);
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
