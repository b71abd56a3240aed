namespace TradeEngine.Messaging;

/// <summary>The parts of an amqp URI (<c>amqp://user:password@host:5672/vhost</c>), as Aspire's RabbitMQ resource writes it.</summary>
public sealed record BrokerAddress(string Host, ushort Port, string VirtualHost, string Username, string Password)
{
    public const ushort DefaultPort = 5672;

    public static BrokerAddress Parse(string amqpUri)
    {
        if (!Uri.TryCreate(amqpUri, UriKind.Absolute, out var uri) || uri.Scheme is not ("amqp" or "rabbitmq"))
        {
            // The value may hold a password: name the key, never echo the value.
            throw new InvalidOperationException("ConnectionStrings:eventbus is not an amqp:// URI.");
        }

        var user = "guest";
        var password = "guest";
        if (!string.IsNullOrEmpty(uri.UserInfo))
        {
            var parts = uri.UserInfo.Split(':', 2);
            user = Uri.UnescapeDataString(parts[0]);
            password = parts.Length > 1 ? Uri.UnescapeDataString(parts[1]) : string.Empty;
        }

        var path = uri.AbsolutePath.Trim('/');
        var vhost = path.Length == 0 ? "/" : Uri.UnescapeDataString(path);
        var port = uri.IsDefaultPort || uri.Port <= 0 ? DefaultPort : (ushort)uri.Port;
        return new BrokerAddress(uri.Host, port, vhost, user, password);
    }

    /// <summary>Never prints the password.</summary>
    public override string ToString() => $"amqp://{Username}@{Host}:{Port}/{VirtualHost}";
}
