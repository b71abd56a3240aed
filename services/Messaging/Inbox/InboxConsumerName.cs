using System.Reflection;
using System.Security.Cryptography;
using System.Text;

namespace TradeEngine.Messaging.Inbox;

/// <summary>The default inbox name of a consumer type: <c>service/Namespace.TypeName</c>, at most 128 characters.</summary>
public static class InboxConsumerName
{
    public const int MaxLength = 128;

    /// <summary>The service part: <c>OTEL_SERVICE_NAME</c>, else the entry assembly's name.</summary>
    public static string Service =>
        Environment.GetEnvironmentVariable("OTEL_SERVICE_NAME") is { Length: > 0 } service ? service
        : Assembly.GetEntryAssembly()?.GetName().Name ?? "unknown";

    public static string For(Type consumerType)
    {
        ArgumentNullException.ThrowIfNull(consumerType);
        // ToString, not FullName: a generic type's FullName carries assembly-qualified arguments.
        var name = $"{Service}/{consumerType}";
        if (name.Length <= MaxLength)
        {
            return name;
        }

        // Too long for the column: keep a readable prefix and make it unique with a hash of the whole.
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(name)))[..16];
        return string.Concat(name.AsSpan(0, MaxLength - hash.Length - 1), "~", hash);
    }
}
