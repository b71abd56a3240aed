namespace TradeEngine.Binance.Internal.Http;

/// <summary>The outcome of a request whose effect on the venue is unknown: 5xx, timeout, or a dropped connection.</summary>
internal sealed class OutcomeUnknownException(string endpoint, string reason, Exception? inner = null)
    : Exception($"{endpoint}: outcome unknown ({reason})", inner)
{
    public string Endpoint { get; } = endpoint;

    public string Reason { get; } = reason;
}
