using TradeEngine.Execution.Mapping;
using TradeEngine.Execution.V1;
using TradeEngine.ServiceDefaults.Grpc;
using LedgerV1 = TradeEngine.Ledger.V1;

namespace TradeEngine.Execution.Positions;

// FillRecorder's position updates, streamed to StreamPositionUpdates subscribers (PositionUpdateHub).
public sealed partial class FillRecorder
{
    /// <summary>Whether anyone subscribes to the updates: a read made only to build one is skipped without a subscriber.</summary>
    public bool HasSubscribers => updates.SubscriberCount > 0;

    /// <summary>Streams a change from the Ledger's record of it (nothing without one).</summary>
    public void Publish(PositionUpdateKind kind, LedgerV1.PositionRecord? record, decimal price)
    {
        if (record is null || updates.SubscriberCount == 0)
        {
            return;
        }

        Publish(kind, PositionMapping.FromRecord(record, price));
    }

    /// <summary>Streams a change (nothing when it is null).</summary>
    /// <remarks>
    /// The stream's rule: one update per change the venue made to a position, sent when the venue made it, by the request
    /// that made it and under its symbol's lock, so a symbol's updates keep the venue's order. When the Ledger takes the
    /// write within the inline budget, the update is its record. When the write is queued, the update is built from the
    /// fill (<see cref="PositionMapping.FromFill"/>: the size, side and entry the venue now holds; the record's id,
    /// strategy and protective prices where they are known, empty where not), and the write that lands later streams
    /// nothing: it changes the books, not the position. An update then would repeat one already sent or, coming after
    /// changes streamed since, contradict them (a CLOSED after the next position's OPENED). The record's id reaches a
    /// subscriber with the position's next update, or from GetPosition once the write has landed.
    /// </remarks>
    public void Publish(PositionUpdateKind kind, Position? position)
    {
        if (position is null || updates.SubscriberCount == 0)
        {
            return;
        }

        updates.Publish(new PositionUpdate { Kind = kind, At = Wire.Timestamp(time.GetUtcNow()), Position = position });
    }
}
