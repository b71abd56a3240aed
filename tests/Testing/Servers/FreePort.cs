using System.Net;
using System.Net.Sockets;

namespace TradeEngine.Testing.Servers;

/// <summary>Free TCP ports on 127.0.0.1, chosen by the kernel. Another process may take one before use; callers retry.</summary>
public static class FreePort
{
    public static int Next()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
