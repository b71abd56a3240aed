using System.Text;

namespace TradeEngine.Binance.Internal.Http;

/// <summary>One REST call as the adapter describes it: parameters in the order they are signed and sent.</summary>
internal sealed class VenueRequest(HttpMethod method, string path, bool signed, int weight, bool isOrder = false, bool fundingRoute = false)
{
    private readonly List<KeyValuePair<string, string>> _parameters = [];

    public HttpMethod Method { get; } = method;

    public string Path { get; } = path;

    public bool Signed { get; } = signed;

    public int Weight { get; } = weight;

    /// <summary>Counts against the order-rate limits (X-MBX-ORDER-COUNT-*).</summary>
    public bool IsOrder { get; } = isOrder;

    /// <summary>GET fundingRate or fundingInfo: no request weight; their own limit of 500 requests per 5 minutes per IP.</summary>
    public bool FundingRoute { get; } = fundingRoute;

    /// <summary>
    /// True from the moment a copy of this request leaves for the venue until a definite answer comes back (a
    /// response, a 4xx with a code that means "refused", a 429). While true, an order may have executed.
    /// </summary>
    public bool MayHaveExecuted { get; set; }

    /// <summary>The <c>timestamp</c> (venue clock, ms) of the last signed copy sent; with recvWindow it bounds when that copy can still execute.</summary>
    public long? LastSentTimestamp { get; set; }

    /// <summary>The endpoint's name for errors, logs and traces; never the query.</summary>
    public string Endpoint => Method.Method + " " + Path;

    public VenueRequest Add(string name, string? value)
    {
        if (value is not null)
        {
            _parameters.Add(new(name, value));
        }

        return this;
    }

    public VenueRequest Add(string name, decimal? value) => value is null ? this : Add(name, VenueText.Format(value.Value));

    public VenueRequest Add(string name, long? value) =>
        value is null ? this : Add(name, value.Value.ToString(System.Globalization.CultureInfo.InvariantCulture));

    public VenueRequest Add(string name, DateTimeOffset? value) => value is null ? this : Add(name, VenueText.Millis(value.Value));

    public string? Get(string name) => _parameters.FirstOrDefault(p => p.Key == name).Value;

    /// <summary>The parameters as sent: <c>name=value</c> pairs, values percent-encoded, joined by '&amp;'.</summary>
    public string BuildQuery(long? timestamp, int recvWindow)
    {
        var sb = new StringBuilder(128);
        foreach (var (key, value) in _parameters)
        {
            Append(sb, key, value);
        }

        if (timestamp is not null)
        {
            Append(sb, "recvWindow", recvWindow.ToString(System.Globalization.CultureInfo.InvariantCulture));
            Append(sb, "timestamp", timestamp.Value.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        return sb.ToString();
    }

    private static void Append(StringBuilder sb, string key, string value)
    {
        if (sb.Length > 0)
        {
            sb.Append('&');
        }

        sb.Append(key).Append('=').Append(Uri.EscapeDataString(value));
    }

    public override string ToString() => Endpoint;
}
