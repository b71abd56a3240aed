using System.Security.Cryptography;
using System.Text;

namespace TradeEngine.Binance.Signing;

/// <summary>
/// HMAC-SHA256 over Binance's <c>totalParams</c>: the query string concatenated with the request body,
/// exactly as sent, lower-case hex.
/// </summary>
public static class BinanceSigner
{
    public static string Sign(ReadOnlySpan<byte> secret, string totalParams)
    {
        ArgumentNullException.ThrowIfNull(totalParams);
        var maxBytes = Encoding.UTF8.GetMaxByteCount(totalParams.Length);
        byte[]? rented = null;
        Span<byte> data = maxBytes <= 1024 ? stackalloc byte[maxBytes] : (rented = System.Buffers.ArrayPool<byte>.Shared.Rent(maxBytes));
        try
        {
            var length = Encoding.UTF8.GetBytes(totalParams, data);
            Span<byte> mac = stackalloc byte[HMACSHA256.HashSizeInBytes];
            HMACSHA256.HashData(secret, data[..length], mac);
            return Convert.ToHexStringLower(mac);
        }
        finally
        {
            if (rented is not null)
            {
                System.Buffers.ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    public static string Sign(string secret, string totalParams)
    {
        ArgumentNullException.ThrowIfNull(secret);
        return Sign(Encoding.UTF8.GetBytes(secret), totalParams);
    }

    /// <summary>Constant-time check of a received signature (Binance treats it case-insensitively).</summary>
    public static bool Verify(ReadOnlySpan<byte> secret, string totalParams, ReadOnlySpan<char> signature)
    {
        if (signature.Length != HMACSHA256.HashSizeInBytes * 2)
        {
            return false;
        }

        Span<byte> received = stackalloc byte[HMACSHA256.HashSizeInBytes];
        if (Convert.FromHexString(signature, received, out _, out var written) != System.Buffers.OperationStatus.Done
            || written != received.Length)
        {
            return false;
        }

        var maxBytes = Encoding.UTF8.GetMaxByteCount(totalParams.Length);
        byte[]? rented = null;
        Span<byte> data = maxBytes <= 1024 ? stackalloc byte[maxBytes] : (rented = System.Buffers.ArrayPool<byte>.Shared.Rent(maxBytes));
        try
        {
            var length = Encoding.UTF8.GetBytes(totalParams, data);
            Span<byte> expected = stackalloc byte[HMACSHA256.HashSizeInBytes];
            HMACSHA256.HashData(secret, data[..length], expected);
            return CryptographicOperations.FixedTimeEquals(expected, received);
        }
        finally
        {
            if (rented is not null)
            {
                System.Buffers.ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }
}
