using System.Net;
using System.Net.Sockets;
using TradeEngine.AppHost.Infrastructure;

namespace TradeEngine.EndToEnd.Tests;

/// <summary>
/// The ports the AppHost gives its local PostgreSQL, RabbitMQ and epmd: chosen below the kernel's ephemeral range, so
/// that no outgoing connection or bind(0) of another process (the other test projects run beside the AppHost) can take one
/// between its choice and the server's bind.
/// </summary>
public sealed class LocalPortTests
{
    [Fact]
    public void FreePort_IsBelowTheKernelsEphemeralRange_BindableAndNeverGivenTwice()
    {
        var start = LocalProcess.EphemeralRangeStart();
        Assert.Equal(int.Parse(File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range").Split('\t', ' ')[0], System.Globalization.CultureInfo.InvariantCulture), start);

        var ports = Enumerable.Range(0, 50).Select(_ => LocalProcess.FreePort()).ToList();

        Assert.All(ports, p => Assert.InRange(p, LocalProcess.LowestPort, start - 1));
        Assert.Equal(ports.Count, ports.Distinct().Count());
        using var listener = new TcpListener(IPAddress.Loopback, ports[^1]);
        listener.Start();
    }

    /// <summary>
    /// The tests' own services and servers choose below the AppHost's ports and the ephemeral range too: a service a test
    /// stops and starts again on its port finds it free (no other process's outgoing connection took it meanwhile).
    /// </summary>
    [Fact]
    public void TestsFreePort_IsBelowTheAppHostsPortsAndTheEphemeralRange_BindableAndNeverGivenTwice()
    {
        var end = Math.Min(LocalProcess.LowestPort, LocalProcess.EphemeralRangeStart());

        var ports = Enumerable.Range(0, 50).Select(_ => TradeEngine.Testing.Servers.FreePort.Next()).ToList();

        // A machine whose ephemeral range leaves fewer than 1,000 ports below the AppHost's (a container's 1024-65535)
        // gets the kernel's choice, as the AppHost's own choice does.
        Assert.All(ports, p => Assert.InRange(p, end - 10000 >= 1000 ? 10000 : 1024, end - 10000 >= 1000 ? end - 1 : 65535));
        Assert.Equal(ports.Count, ports.Distinct().Count());
        using var listener = new TcpListener(IPAddress.Loopback, ports[^1]);
        listener.Start();
    }

    [Fact]
    public void FreePort_APortInUse_IsNotGiven()
    {
        // Every port of a small range but one is taken: that one is the answer, whichever the random order.
        var taken = new List<TcpListener>();
        try
        {
            const int Range = 200;
            int first;
            while (true)
            {
                first = Random.Shared.Next(LocalProcess.LowestPort, 32768 - Range);
                taken.Clear();
                if (TryTakeRange(first, Range, taken))
                {
                    break;
                }
            }

            var open = first + Random.Shared.Next(Range);
            var left = taken.Single(l => ((IPEndPoint)l.LocalEndpoint).Port == open);
            left.Stop();
            taken.Remove(left);

            Assert.Equal(open, LocalProcess.FreePortIn(first, first + Range));
        }
        finally
        {
            taken.ForEach(l => l.Stop());
        }
    }

    [Fact]
    public void FreePort_NoRoomBelowTheEphemeralRange_TheKernelChooses()
    {
        var port = LocalProcess.FreePortBelow(LocalProcess.LowestPort + 10);

        Assert.InRange(port, 1024, 65535);
        Assert.False(port is >= LocalProcess.LowestPort and < LocalProcess.LowestPort + 10);
    }

    private static bool TryTakeRange(int first, int count, List<TcpListener> taken)
    {
        for (var port = first; port < first + count; port++)
        {
            var listener = new TcpListener(IPAddress.Loopback, port);
            try
            {
                listener.Start();
                taken.Add(listener);
            }
            catch (SocketException)
            {
                taken.ForEach(l => l.Stop());
                return false;
            }
        }

        return true;
    }
}
