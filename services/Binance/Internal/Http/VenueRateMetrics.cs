using System.Diagnostics;
using System.Diagnostics.Metrics;
using TradeEngine.Domain;

namespace TradeEngine.Binance.Internal.Http;

/// <summary>
/// Meter <c>TradeEngine.Binance</c> (exported by ServiceDefaults with every <c>TradeEngine.*</c> meter): the requests the
/// client held back to stay within its share of the venue's limits and for how long, and the ones it refused without
/// sending, so an operator sees on the dashboard which service is throttled and by which limit. Tags: <c>endpoint</c>
/// (method and path, never the query), <c>priority</c> (background, normal, urgent: the request's
/// <see cref="VenuePriority"/>), <c>limit</c> (weight, orders, funding, back_off) or <c>reason</c> (back_off, ban,
/// funding_share).
/// </summary>
internal static class VenueRateMetrics
{
    public const string MeterName = "TradeEngine.Binance";

    private static readonly Meter Meter = new(MeterName);

    private static readonly Counter<long> HeldCount = Meter.CreateCounter<long>(
        "tradeengine.binance.rate_limit.held", "{request}", "Requests held back before sending to stay within a limit's share.");

    private static readonly Histogram<double> HeldTime = Meter.CreateHistogram<double>(
        "tradeengine.binance.rate_limit.hold_time", "s", "How long a held request waited before it was sent.");

    private static readonly Counter<long> RefusedCount = Meter.CreateCounter<long>(
        "tradeengine.binance.rate_limit.refused", "{request}", "Requests refused without sending (a back-off past the allowed wait, a ban, a used-up share).");

    public static void Held(string endpoint, string limit, VenuePriority priority, TimeSpan waited)
    {
        var tags = new TagList { { "endpoint", endpoint }, { "limit", limit }, { "priority", VenueRequestPriority.ToWire(priority) } };
        HeldCount.Add(1, tags);
        HeldTime.Record(waited.TotalSeconds, tags);
    }

    public static void Refused(string endpoint, string reason, VenuePriority priority) =>
        RefusedCount.Add(1, new TagList { { "endpoint", endpoint }, { "reason", reason }, { "priority", VenueRequestPriority.ToWire(priority) } });
}
