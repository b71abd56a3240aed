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

    /// <summary>True when something accepts TCP connections on 127.0.0.1:<paramref name="port"/> right now.</summary>
    public static bool IsListening(int port)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            // A refused connection on loopback fails at once; the timeout only guards against a wedged listener.
            var connect = socket.ConnectAsync(IPAddress.Loopback, port);
            return connect.Wait(TimeSpan.FromSeconds(1)) && socket.Connected;
        }
        catch (AggregateException ex) when (ex.InnerException is SocketException)
        {
            return false;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
