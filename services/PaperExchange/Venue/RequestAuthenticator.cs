using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using TradeEngine.PaperExchange.Engine;
using TradeEngine.PaperExchange.Options;

namespace TradeEngine.PaperExchange.Venue;

/// <summary>
/// Checks a SIGNED request as Binance does: the X-MBX-APIKEY header, HMAC-SHA256 of totalParams (the query string
/// concatenated with the body, signature removed) with the secret, and timestamp/recvWindow against server time.
/// </summary>
public sealed class RequestAuthenticator
{
    private readonly byte[] _secret;
    private readonly string _apiKey;

    public RequestAuthenticator(IOptions<PaperOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _apiKey = options.Value.ApiKey;
        _secret = Encoding.UTF8.GetBytes(options.Value.ApiSecret);
    }

    public void Verify(string? apiKey, string query, string body, VenueParams parameters, long serverTime)
    {
        if (string.IsNullOrEmpty(apiKey))
        {
            throw VenueErrors.BadApiKeyFormat();
        }

        if (_apiKey.Length == 0 || !CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(apiKey), Encoding.UTF8.GetBytes(_apiKey)))
        {
            throw VenueErrors.RejectedKey();
        }

        string signed;
        string? signature;
        if (Split(query, out var queryPart, out var querySig))
        {
            signed = queryPart + body;
            signature = querySig;
        }
        else if (Split(body, out var bodyPart, out var bodySig))
        {
            signed = query + bodyPart;
            signature = bodySig;
        }
        else
        {
            throw VenueErrors.Mandatory("signature");
        }

        if (!Matches(signed, signature))
        {
            throw VenueErrors.InvalidSignature();
        }

        var timestamp = parameters.Long("timestamp") ?? throw VenueErrors.Mandatory("timestamp");
        var recvWindow = parameters.Long("recvWindow") ?? 5_000;
        if (recvWindow is <= 0 or > 60_000)
        {
            throw VenueErrors.RecvWindow();
        }

        // Binance: process if timestamp < serverTime + 1000 and serverTime - timestamp <= recvWindow.
        if (!(timestamp < serverTime + 1_000 && serverTime - timestamp <= recvWindow))
        {
            throw VenueErrors.InvalidTimestamp();
        }
    }

    /// <summary>Splits "a=1&amp;b=2&amp;signature=abc" into the signed part and the signature (which must come last).</summary>
    private static bool Split(string raw, out string signedPart, out string signature)
    {
        const string Marker = "signature=";
        var at = raw.StartsWith(Marker, StringComparison.Ordinal) ? 0 : raw.LastIndexOf("&" + Marker, StringComparison.Ordinal) + 1;
        if (at < 0 || (at == 0 && !raw.StartsWith(Marker, StringComparison.Ordinal)))
        {
            signedPart = raw;
            signature = "";
            return false;
        }

        signedPart = at == 0 ? "" : raw[..(at - 1)];
        signature = raw[(at + Marker.Length)..];
        return true;
    }

    private bool Matches(string totalParams, string signature)
    {
        Span<byte> received = stackalloc byte[32];
        if (signature.Length != 64
            || Convert.FromHexString(signature, received, out _, out var written) != System.Buffers.OperationStatus.Done
            || written != 32)
        {
            return false;
        }

        Span<byte> expected = stackalloc byte[32];
        HMACSHA256.HashData(_secret, Encoding.UTF8.GetBytes(totalParams), expected);
        return CryptographicOperations.FixedTimeEquals(expected, received);
    }
}
