using System.Text.Json;
using MassTransit;

namespace TradeEngine.Ledger.Outbox;

// OutboxRelay's publishing: a batch's aggregates in parallel, each row as its message, and the aggregates parked for a row this release cannot publish.
public sealed partial class OutboxRelay
{
    /// <summary>Publishes aggregates in parallel, each aggregate's rows in order; an aggregate stops at its first failure.</summary>
    private async Task<(List<long> Sent, (OutboxRow Row, Exception Error)? Failure)> PublishAsync(
        List<OutboxRow> batch, CancellationToken stoppingToken)
    {
        var sent = new List<long>(batch.Count);
        (OutboxRow, Exception)? failure = null;
        var poison = new List<(OutboxRow Row, Exception Error)>();
        var groups = batch.GroupBy(r => r.AggregateId).Select(async group =>
        {
            foreach (var row in group)
            {
                try
                {
                    await PublishAsync(row, stoppingToken).ConfigureAwait(false);
                    lock (sent)
                    {
                        sent.Add(row.OutboxId);
                    }
                }
                catch (UnpublishableRowException ex)
                {
                    lock (sent)
                    {
                        poison.Add((row, ex));
                    }

                    return;
                }
                catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
                {
                    lock (sent)
                    {
                        failure ??= (row, ex);
                    }

                    return;
                }
                catch (Exception) when (stoppingToken.IsCancellationRequested)
                {
                    // Stopping: this row and the aggregate's next wait for the next start; the rows already published
                    // (in this aggregate and the others) are returned, to be marked (RelayAsync).
                    return;
                }
            }
        });
        await Task.WhenAll(groups).ConfigureAwait(false);
        foreach (var (row, error) in poison)
        {
            _parked[row.AggregateId] = DateTimeOffset.UtcNow + ParkFor;
            LogParked(logger, error, row.OutboxId, row.AggregateId, row.MessageType, ParkFor);
            // Not cut short by a stop: the rows published beside it are still to be marked.
            await RecordFailureAsync(row, error, CancellationToken.None).ConfigureAwait(false);
        }

        return (sent, failure);
    }

    /// <summary>The aggregates left out of the next fetch (those parked until later than now).</summary>
    private string[] Parked()
    {
        if (_parked.Count == 0)
        {
            return [];
        }

        var now = DateTimeOffset.UtcNow;
        foreach (var expired in _parked.Where(p => p.Value <= now).Select(p => p.Key).ToList())
        {
            _parked.Remove(expired);
        }

        return [.. _parked.Keys];
    }

    private async Task PublishAsync(OutboxRow row, CancellationToken stoppingToken)
    {
        object message;
        Type type;
        try
        {
            type = OutboxMessageTypes.TypeOf(row.MessageType);
            message = JsonSerializer.Deserialize(row.Payload, type, OutboxMessageTypes.Json)
                ?? throw new InvalidOperationException($"Outbox row {row.OutboxId} has an empty payload.");
        }
        catch (Exception ex) when (ex is InvalidOperationException or JsonException or NotSupportedException)
        {
            throw new UnpublishableRowException($"Outbox row {row.OutboxId} ({row.MessageType}) cannot be published by this release: {ex.Message}", ex);
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        timeout.CancelAfter(_options.PublishTimeout);
        await bus.Publish(message, type, context => context.MessageId = row.EventId, timeout.Token).ConfigureAwait(false);
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Outbox row {OutboxId} of aggregate {AggregateId} ({MessageType}) cannot be published by this release; the aggregate's rows wait (tried again in {ParkFor}), the others go on")]
    private static partial void LogParked(ILogger logger, Exception exception, long outboxId, string aggregateId, string messageType, TimeSpan parkFor);

    /// <summary>A row this release cannot turn into a message (unknown type, unreadable payload): not a broker failure.</summary>
    private sealed class UnpublishableRowException(string message, Exception inner) : Exception(message, inner);
}
