using System.ComponentModel.DataAnnotations;
using System.Net;

namespace TradeEngine.Binance;

/// <summary>
/// Bound from the configuration section <c>Binance</c> (<c>Binance__BaseUrl</c>, <c>Binance__ApiKey</c>, ...).
/// </summary>
/// <remarks>
/// The key and secret come from user secrets or the environment, never from a committed file.
/// <see cref="ToString"/> never prints them.
/// The venue is never a default: an empty <see cref="BaseUrl"/> is refused at start unless <see cref="Testnet"/> is set,
/// so a service started without its configuration cannot reach real money. Plain <c>http</c> is taken for a loopback
/// host only (PaperExchange on this machine): the API key travels in a header of every request.
/// </remarks>
public sealed class BinanceOptions : IValidatableObject
{
    public const string SectionName = "Binance";
    public const string LiveBaseUrl = "https://fapi.binance.com";
    public const string TestnetBaseUrl = "https://testnet.binancefuture.com";

    /// <summary>
    /// The venue's REST root: a PaperExchange address, <see cref="TestnetBaseUrl"/>, or <see cref="LiveBaseUrl"/> to
    /// trade real money. Empty: Binance's testnet when <see cref="Testnet"/> is set, otherwise refused at start.
    /// </summary>
    public string? BaseUrl { get; set; }

    public string? ApiKey { get; set; }

    public string? ApiSecret { get; set; }

    public bool Testnet { get; set; }

    /// <summary>Milliseconds after <c>timestamp</c> that a signed request stays valid (Binance's default is 5000).</summary>
    [Range(1, 60_000)]
    public int RecvWindow { get; set; } = 5_000;

    /// <summary>Per-attempt timeout of every outbound call.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The longest <c>Retry-After</c> the client sleeps through by itself; a longer one surfaces as an error.</summary>
    public TimeSpan MaxRetryAfterWait { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How many times an order is sent at most. The default, 1, never resends: after an unknown outcome the client
    /// looks the order up until the first copy can no longer execute (its <c>timestamp</c> + <see cref="RecvWindow"/>
    /// + <see cref="UnknownOutcomeMargin"/> on the venue's clock) and then either returns the order or reports it as
    /// not placed. Above 1, that proven "not placed" is followed by a resend with the same client order id.
    /// </summary>
    [Range(1, 5)]
    public int MaxOrderAttempts { get; set; } = 1;

    /// <summary>
    /// Added to <c>timestamp + recvWindow</c> before an order whose outcome is unknown is taken as never executed:
    /// covers the error of our estimate of the venue's clock.
    /// </summary>
    public TimeSpan UnknownOutcomeMargin { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Fraction of each exchangeInfo rate limit the client allows a request someone waits on (headroom for other processes
    /// on the same IP). An urgent request (<see cref="Domain.VenuePriority.Urgent"/>: a close, a reduce, the margin
    /// monitor's read) may use the whole limit.
    /// </summary>
    [Range(0.1, 1.0)]
    public double RateLimitUsage { get; set; } = 0.9;

    /// <summary>
    /// Fraction of each limit the client allows background work (<see cref="Domain.VenuePriority.Background"/>: pollers,
    /// catalog refreshes), so it stops before it can hold back a request someone waits on. Never more than
    /// <see cref="RateLimitUsage"/>.
    /// </summary>
    [Range(0.1, 1.0)]
    public double BackgroundRateLimitUsage { get; set; } = 0.6;

    /// <summary>
    /// Requests per 5 minutes that GET fundingRate and GET fundingInfo share (Binance documents 500 per IP, reported in
    /// no header and not listed by exchangeInfo); the client allows itself its priority's share of it.
    /// </summary>
    [Range(1, 100_000)]
    public int FundingRouteLimit { get; set; } = 500;

    /// <summary>How long exchangeInfo and leverage brackets are reused for pre-send validation.</summary>
    public TimeSpan InstrumentCacheTtl { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// How long <see cref="Instruments.VenueInstrumentCatalog"/> serves a read of exchangeInfo, leverage brackets and
    /// funding info before it refreshes them in the background (a funding interval or cap change shows within this).
    /// </summary>
    public TimeSpan InstrumentCatalogTtl { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>The venue's REST root with a trailing slash.</summary>
    /// <exception cref="InvalidOperationException">No venue is named, or the address is not one the client may use.</exception>
    public Uri ResolveBaseUri() =>
        CheckBaseUrl() is { } error ? throw new InvalidOperationException(error)
        : new Uri(string.IsNullOrWhiteSpace(BaseUrl) ? TestnetBaseUrl + "/" : BaseUrl.Trim().TrimEnd('/') + "/");

    /// <summary>Why <see cref="BaseUrl"/> cannot be used, or null when it can.</summary>
    public string? CheckBaseUrl()
    {
        if (string.IsNullOrWhiteSpace(BaseUrl))
            return Testnet
                ? null
                : $"Binance:BaseUrl is not set: name the venue (a PaperExchange address such as http://127.0.0.1:5080, {TestnetBaseUrl}, or {LiveBaseUrl} to trade real money). An empty value never means the live venue.";
        if (!Uri.TryCreate(BaseUrl.Trim(), UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp))
            return "Binance:BaseUrl must be an absolute http or https address.";
        if (uri.UserInfo.Length > 0 || uri.Query.Length > 0 || uri.Fragment.Length > 0)
            return "Binance:BaseUrl must not carry user information, a query or a fragment.";
        if (uri.Scheme == Uri.UriSchemeHttp && !IsLoopback(uri))
            return $"Binance:BaseUrl uses plain http for {uri.Host}, which is not this machine: the API key would cross the network unencrypted. Use https.";
        return null;
    }

    IEnumerable<ValidationResult> IValidatableObject.Validate(ValidationContext validationContext)
    {
        if (CheckBaseUrl() is { } error)
            yield return new ValidationResult(error, [nameof(BaseUrl)]);
    }

    private static bool IsLoopback(Uri uri) =>
        uri.IsLoopback || (IPAddress.TryParse(uri.DnsSafeHost, out var address) && IPAddress.IsLoopback(address));

    public bool HasCredentials => !string.IsNullOrEmpty(ApiKey) && !string.IsNullOrEmpty(ApiSecret);

    public override string ToString() =>
        $"BinanceOptions {{ BaseUrl = {(CheckBaseUrl() is null ? ResolveBaseUri().ToString() : "<not usable>")}, Testnet = {Testnet}, RecvWindow = {RecvWindow}, ApiKey = {(string.IsNullOrEmpty(ApiKey) ? "<none>" : "<redacted>")}, ApiSecret = {(string.IsNullOrEmpty(ApiSecret) ? "<none>" : "<redacted>")} }}";
}
