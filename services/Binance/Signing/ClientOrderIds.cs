using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace TradeEngine.Binance.Signing;

/// <summary>
/// Binance's <c>newClientOrderId</c> / <c>clientAlgoId</c>, derived deterministically from the caller's
/// idempotency key, so a retry of the same intent carries the same id and the venue can recognise it.
/// </summary>
public static class ClientOrderIds
{
    public const int MaxLength = 36;
    /// <summary>The start of an id derived by hashing a key that is not a valid id itself.</summary>
    public const string HashedPrefix = "te-";

    /// <summary>
    /// A key that already matches <c>^[\.A-Z\:/a-z0-9_-]{1,36}$</c> is used as it is (it stays readable on the venue);
    /// anything else becomes <c>te-</c> + 32 base64url characters of its SHA-256.
    /// </summary>
    public static string FromIdempotencyKey(string idempotencyKey)
    {
        ArgumentException.ThrowIfNullOrEmpty(idempotencyKey);
        if (IsValid(idempotencyKey) && !idempotencyKey.StartsWith(HashedPrefix, StringComparison.Ordinal))
        {
            return idempotencyKey;
        }

        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes(idempotencyKey), hash);
        // 24 bytes → exactly 32 base64url characters (A-Z a-z 0-9 - _), all inside Binance's pattern.
        return HashedPrefix + Base64Url.EncodeToString(hash[..24]);
    }

    public static bool IsValid(string? id)
    {
        if (string.IsNullOrEmpty(id) || id.Length > MaxLength)
        {
            return false;
        }

        foreach (var c in id)
        {
            var ok = c is (>= 'A' and <= 'Z') or (>= 'a' and <= 'z') or (>= '0' and <= '9') or '.' or ':' or '/' or '_' or '-';
            if (!ok)
            {
                return false;
            }
        }

        return true;
    }
}
