using System.Net.Sockets;

namespace TradeEngine.Testing.Servers;

/// <summary>
/// Does a Docker engine answer (and may the tests use it)? Checked once per test run: <c>DOCKER_HOST</c> (unix or tcp) or the default socket,
/// with a short ping, so a machine without Docker falls back to local servers in milliseconds.
/// </summary>
public static class DockerProbe
{
    private static readonly Lazy<Task<bool>> Answer = new(PingAsync);

    public static Task<bool> IsAvailableAsync() => Answer.Value;

    private static async Task<bool> PingAsync()
    {
        // As the README, the scripts and the AppHost read it: TRADEENGINE_LOCAL_SERVERS=true forces the local servers even
        // where Docker answers. Before, the tests alone ignored it and took containers.
        if (string.Equals(Environment.GetEnvironmentVariable("TRADEENGINE_LOCAL_SERVERS"), "true", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        var host = Environment.GetEnvironmentVariable("DOCKER_HOST");
        try
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            if (string.IsNullOrEmpty(host) || host.StartsWith("unix://", StringComparison.Ordinal))
            {
                var path = string.IsNullOrEmpty(host) ? "/var/run/docker.sock" : host["unix://".Length..];
                if (!File.Exists(path))
                {
                    return false;
                }

                using var handler = new SocketsHttpHandler
                {
                    ConnectCallback = async (_, ct) =>
                    {
                        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                        await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), ct).ConfigureAwait(false);
                        return new NetworkStream(socket, ownsSocket: true);
                    },
                };
                using var client = new HttpClient(handler);
                using var response = await client.GetAsync(new Uri("http://docker/_ping"), cts.Token).ConfigureAwait(false);
                return response.IsSuccessStatusCode;
            }

            if (host.StartsWith("tcp://", StringComparison.Ordinal))
            {
                using var client = new HttpClient();
                using var response = await client.GetAsync(new Uri("http://" + host["tcp://".Length..] + "/_ping"), cts.Token)
                    .ConfigureAwait(false);
                return response.IsSuccessStatusCode;
            }

            return false;
        }
        catch (Exception ex) when (ex is HttpRequestException or SocketException or OperationCanceledException or IOException)
        {
            return false;
        }
    }
}
