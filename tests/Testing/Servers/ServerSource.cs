namespace TradeEngine.Testing.Servers;

/// <summary>Where a throwaway test server came from.</summary>
public enum ServerSource
{
    /// <summary>An existing server named by an environment variable (<c>TEST_POSTGRES</c>, <c>TEST_RABBITMQ</c>).</summary>
    External,

    /// <summary>A Testcontainers container (a Docker endpoint answered).</summary>
    Container,

    /// <summary>A local server started from the Debian package, in a temporary data directory.</summary>
    Local,
}
