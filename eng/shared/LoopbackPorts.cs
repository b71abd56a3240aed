using System.Net;
using System.Net.Sockets;

namespace TradeEngine.Infrastructure;

/// <summary>
/// Free TCP ports on 127.0.0.1 for a server that binds them a moment later, chosen below the kernel's ephemeral range
/// (<c>net.ipv4.ip_local_port_range</c>, from 32768 by default) rather than by the kernel. A port the kernel picks
/// (<c>bind(0)</c>) comes from that range and is released before the server binds it; in that moment, or while a
/// stopped server is started again on its port, the kernel may hand it to another process's outgoing connection (the
/// test projects make thousands beside each other) and the server's start fails with the address in use. Below the
/// range only a process choosing there itself can take it. Compiled into the AppHost (its local PostgreSQL and
/// RabbitMQ, from <see cref="AppHostLow"/>) and into the tests' support library (its services and servers, from
/// <see cref="TestsLow"/> up to <see cref="AppHostLow"/>), so an AppHost started by the end-to-end tests and the other
/// projects' servers never choose alike. No port is given twice by one assembly.
/// </summary>
internal static class LoopbackPorts
{
    /// <summary>The lowest port the AppHost chooses from (up to the ephemeral range).</summary>
    public const int AppHostLow = 20000;

    /// <summary>The lowest port the tests choose from (up to <see cref="AppHostLow"/> or the ephemeral range).</summary>
    public const int TestsLow = 10000;

    /// <summary>A range narrower than this leaves the choice to the kernel (a machine whose ephemeral range starts low).</summary>
    public const int MinimumRange = 1000;

    private static readonly HashSet<int> Given = [];

    /// <summary>
    /// A port in [<paramref name="low"/>, min(<paramref name="high"/>, <paramref name="ephemeralStart"/>)) that binds now
    /// and was not given before; the kernel's choice when that leaves fewer than <see cref="MinimumRange"/> ports.
    /// </summary>
    public static int FreeBelow(int low, int high, int ephemeralStart)
    {
        var end = Math.Min(high, ephemeralStart);
        if (end - low >= MinimumRange)
        {
            return FreeIn(low, end);
        }

        lock (Given)
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            var chosen = ((IPEndPoint)listener.LocalEndpoint).Port;
            Given.Add(chosen);
            return chosen;
        }
    }

    /// <summary>
    /// A port in [<paramref name="low"/>, <paramref name="high"/>) that binds on 127.0.0.1 now and was not given before:
    /// the range is walked from a random place in it, so two processes choosing at once rarely meet.
    /// </summary>
    public static int FreeIn(int low, int high)
    {
        lock (Given)
        {
            var count = high - low;
            var offset = Random.Shared.Next(count);
            for (var i = 0; i < count; i++)
            {
                var port = low + ((offset + i) % count);
                if (!Given.Contains(port) && CanBind(port))
                {
                    Given.Add(port);
                    return port;
                }
            }
        }

        throw new InvalidOperationException($"No TCP port from {low} to {high - 1} is free on 127.0.0.1.");
    }

    /// <summary>The first port of the kernel's ephemeral range (32768 where it cannot be read).</summary>
    public static int EphemeralRangeStart()
    {
        const int Default = 32768;
        try
        {
            var text = File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range");
            var first = text.Split((char[])[' ', '\t', '\n'], StringSplitOptions.RemoveEmptyEntries).FirstOrDefault();
            return int.TryParse(first, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var start) && start is > 1024 and <= 65535
                ? start
                : Default;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return Default;
        }
    }

    private static bool CanBind(int port)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            socket.Bind(new IPEndPoint(IPAddress.Loopback, port));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
