using Grpc.Net.Client;
using TradeEngine.ServiceDefaults.Grpc;

namespace TradeEngine.Testing.Hosting;

/// <summary>
/// The service key (<see cref="ServiceKey"/>) the tests' services share: every host started here is given it unless its
/// settings name another, and every channel made here sends it, as the AppHost's parameter does for a deployment.
/// </summary>
public static class TestServiceKey
{
    /// <summary>The tests' key (only ever on 127.0.0.1).</summary>
    public const string Value = "tests-service-key-6b1e9d0f2a7c4e58";

    /// <summary>The configuration key (<c>TradeEngine:ServiceKey</c>) and its environment form.</summary>
    public const string Setting = ServiceKey.Setting;

    /// <summary>The environment variable a service process reads it from.</summary>
    public const string EnvironmentVariable = "TradeEngine__ServiceKey";

    /// <summary><paramref name="settings"/> with the tests' key added, unless they name a key (or its absence, null) already.</summary>
    public static IReadOnlyDictionary<string, string?> With(IReadOnlyDictionary<string, string?> settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (settings.ContainsKey(Setting))
        {
            return settings;
        }

        return new Dictionary<string, string?>(settings) { [Setting] = Value };
    }

    /// <summary>A gRPC channel to <paramref name="address"/> whose every call carries <paramref name="key"/> (the tests' key by default).</summary>
    public static GrpcChannel Channel(Uri address, string key = Value, GrpcChannelOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(address);
        options ??= new GrpcChannelOptions();
        options.HttpHandler = new ServiceKeyHandler(key, options.HttpHandler ?? new SocketsHttpHandler());
        return GrpcChannel.ForAddress(address, options);
    }
}
