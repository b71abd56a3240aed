using System.Globalization;
using System.Text.Json;
using TradeEngine.Binance.Internal.Dto;

namespace TradeEngine.Binance.Internal.Http;

// BinanceTransport's reading of a response: the venue's usage headers, Retry-After and the error body.
internal sealed partial class BinanceTransport
{
    private void ObserveHeaders(HttpResponseMessage response)
    {
        Governor.Observe(Header(response, "X-MBX-USED-WEIGHT-1M"), Header(response, "X-MBX-ORDER-COUNT-10S"), Header(response, "X-MBX-ORDER-COUNT-1M"));
    }

    private static int? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values)
        && int.TryParse(values.FirstOrDefault(), NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : null;

    /// <summary>How long Retry-After asks for. A date is the venue's clock, so it is measured against our estimate of it
    /// (the injected <see cref="TimeProvider"/> plus the synced offset), never the machine's wall clock.</summary>
    private static TimeSpan RetryAfter(HttpResponseMessage response, DateTimeOffset venueNow)
    {
        if (response.Headers.RetryAfter is { } ra)
        {
            if (ra.Delta is { } delta)
            {
                return delta;
            }

            if (ra.Date is { } date)
            {
                var d = date - venueNow;
                return d > TimeSpan.Zero ? d : TimeSpan.Zero;
            }
        }

        // No Retry-After: back off a full minute rather than hammer.
        return TimeSpan.FromMinutes(1);
    }

    private static ErrorDto? TryReadError(byte[] body)
    {
        if (body.Length == 0)
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize(body, VenueJsonContext.Default.ErrorDto);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
