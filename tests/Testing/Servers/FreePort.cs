using System.Net;
using System.Net.Sockets;
using TradeEngine.Infrastructure;

namespace TradeEngine.Testing.Servers;

/// <summary>
/// Free TCP ports on 127.0.0.1 for the tests' services and servers: below the kernel's ephemeral range, from
/// <see cref="LoopbackPorts.TestsLow"/> up to the AppHost's <see cref="LoopbackPorts.AppHostLow"/>
/// (<see cref="LoopbackPorts"/> says why), never given twice by one test process. A stopped service started again on
/// its port (a restart in a test) finds it free unless another process chose it meanwhile; a process choosing the same
/// port at the same moment is still possible (one in ten thousand), and the callers that start servers retry on an
/// address in use.
/// </summary>
public static class FreePort
{
    public static int Next() => LoopbackPorts.FreeBelow(LoopbackPorts.TestsLow, LoopbackPorts.AppHostLow, LoopbackPorts.EphemeralRangeStart());

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
