using System.Text.Json;
using TradeEngine.Contracts.Events;

namespace TradeEngine.Ledger.Outbox;

/// <summary>
/// The events the Ledger publishes, by the name stored in <c>outbox.message_type</c>. The relay only ever
/// deserializes these types: a row cannot make it load an arbitrary type.
/// </summary>
public static class OutboxMessageTypes
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.General);

    private static readonly Dictionary<string, Type> ByName = new[]
    {
        typeof(PositionOpened), typeof(PositionReduced), typeof(PositionClosed), typeof(FundingPaid),
        typeof(RiskEventLogged), typeof(KillSwitchTriggered), typeof(TradeRecorded), typeof(PositionAmended),
    }.ToDictionary(t => t.Name, StringComparer.Ordinal);

    public static string NameOf(Type type) =>
        ByName.TryGetValue(type.Name, out var known) && known == type
            ? type.Name
            : throw new InvalidOperationException($"{type.Name} is not an outbox event type.");

    public static Type TypeOf(string name) =>
        ByName.TryGetValue(name, out var type) ? type : throw new InvalidOperationException($"Unknown outbox message type {name}.");
}
