using TradeEngine.AppHost.Infrastructure;

namespace TradeEngine.EndToEnd.Tests;

/// <summary>
/// Where the AppHost keeps a local server's data. PostgreSQL and RabbitMQ run as their own users when the AppHost runs
/// as root, so a clone under a folder closed to other users (/root, mode 700) would leave initdb unable to reach its
/// data directory: that data goes to a folder under /var/tmp instead, one per AppHost directory.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class StateDirectoryTests : IDisposable
{
    private readonly string _base = Directory.CreateTempSubdirectory("te-state-").FullName;

    public void Dispose() => Directory.Delete(_base, recursive: true);

    [Fact]
    public void StateDirectory_UnderAFolderClosedToOthers_ServerDataMovesToVarTmpKeyedByTheAppHost()
    {
        var closed = Path.Combine(_base, "home");
        Directory.CreateDirectory(closed);
        File.SetUnixFileMode(closed, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var appHost = Path.Combine(closed, "clone", "AppHost");
        Directory.CreateDirectory(appHost);

        var server = LocalProcess.StateDirectory(appHost, "postgres", forOtherUser: true);
        try
        {
            Assert.StartsWith("/var/tmp/tradeengine-", server, StringComparison.Ordinal);
            Assert.EndsWith("/postgres", server, StringComparison.Ordinal);
            Assert.True(LocalProcess.SearchableByOthers(server));
            // The same AppHost finds the same folder on its next run; the paper venue's own state stays in the clone.
            Assert.Equal(server, LocalProcess.StateDirectory(appHost, "postgres", forOtherUser: true));
            Assert.Equal(Path.Combine(appHost, ".tradeengine", "paper"), LocalProcess.StateDirectory(appHost, "paper"));
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(server)!, recursive: true);
        }
    }

    [Fact]
    public void StateDirectory_UnderFoldersOthersCanPass_StaysInTheClone()
    {
        var appHost = Path.Combine(_base, "clone", "AppHost");
        Directory.CreateDirectory(appHost);
        File.SetUnixFileMode(_base, (UnixFileMode)0b111_101_101);

        Assert.Equal(Path.Combine(appHost, ".tradeengine", "postgres"), LocalProcess.StateDirectory(appHost, "postgres", forOtherUser: true));
    }
}
