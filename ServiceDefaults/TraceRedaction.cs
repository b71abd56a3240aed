using System.Diagnostics;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;

namespace TradeEngine.ServiceDefaults;

/// <summary>
/// Keeps request signatures out of traces. A signed Binance GET or DELETE carries <c>timestamp</c> and
/// <c>signature</c> (an HMAC made with the API secret, good for a replay within the receive window) in its query
/// string. The runtime redacts a client span's query to <c>?*</c> only by default (DOTNET_SYSTEM_NET_HTTP_DISABLEURIREDACTION
/// switches that off), and ASP.NET Core's server spans keep <c>url.query</c> when Aspire's Development settings turn
/// OpenTelemetry's own redaction off. These enrichers do not depend on either default.
/// </summary>
public static partial class TraceRedaction
{
    /// <summary>The replacement of a redacted value.</summary>
    public const string Redacted = "REDACTED";

    /// <summary>Client spans: <c>url.full</c> without its query (<c>?*</c> marks that there was one), whatever the runtime did.</summary>
    public static void RedactClientUrl(Activity activity, HttpRequestMessage request)
    {
        ArgumentNullException.ThrowIfNull(activity);
        ArgumentNullException.ThrowIfNull(request);
        if (request.RequestUri is { IsAbsoluteUri: true } uri && uri.Query.Length > 0)
        {
            activity.SetTag("url.full", uri.GetLeftPart(UriPartial.Path) + "?*");
        }
    }

    /// <summary>Server spans: the value of a <c>signature</c> parameter in <c>url.query</c> is replaced; the rest is kept for debugging.</summary>
    public static void RedactServerQuery(Activity activity, HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(activity);
        ArgumentNullException.ThrowIfNull(request);
        // One pass: Regex.Replace returns the very same string when nothing matched.
        if (request.QueryString.Value is { Length: > 0 } query && RedactSignature(query) is var redacted && !ReferenceEquals(redacted, query))
        {
            activity.SetTag("url.query", redacted);
        }
    }

    /// <summary><paramref name="query"/> with the value of every <c>signature</c> parameter replaced by <see cref="Redacted"/>.</summary>
    public static string RedactSignature(string query) => SignatureParameter().Replace(query, "${name}" + Redacted);

    [GeneratedRegex(@"(?<name>(?:^|[?&])signature=)[^&]*", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex SignatureParameter();
}
