using System.Text.Json.Serialization;
using TradeEngine.PaperExchange.Engine;

namespace TradeEngine.PaperExchange.State;

[JsonSourceGenerationOptions(WriteIndented = false, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(EngineSnapshot))]
internal sealed partial class StateJsonContext : JsonSerializerContext;
