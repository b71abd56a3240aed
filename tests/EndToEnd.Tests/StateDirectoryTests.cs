using TradeEngine.AppHost.Infrastructure;

namespace TradeEngine.EndToEnd.Tests;

/// <summary>
/// Where the AppHost keeps a local server's data. PostgreSQL and RabbitMQ run as their own users when the AppHost runs
/// as root, so a clone under a folder closed to other users (/root, mode 700) would leave initdb unable to reach its
/// data directory: that data goes under /var/lib/tradeengine instead, one folder per state folder. The tests give the
/// state folder and the fallback base themselves (TRADEENGINE_STATE_DIR is set while the suite runs).
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class StateDirectoryTests : IDisposable
{
    private const UnixFileMode Open = (UnixFileMode)0b111_101_101;
    private const UnixFileMode Closed = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private readonly string _base = Directory.CreateTempSubdirectory("te-state-").FullName;

    public StateDirectoryTests() => File.SetUnixFileMode(_base, Open);

    private string Fallback => Path.Combine(_base, "var-lib-tradeengine");

    public void Dispose() => Directory.Delete(_base, recursive: true);

    [Fact]
    public void StateDirectory_UnderAFolderClosedToOthers_ServerDataMovesToTheFallbackKeyedByTheStateFolder()
    {
        var closed = Path.Combine(_base, "home");
        Directory.CreateDirectory(closed);
        File.SetUnixFileMode(closed, Closed);
        var state = Path.Combine(closed, "clone", "AppHost", ".tradeengine");

        var server = LocalProcess.StateDirectoryIn(state, "postgres", forOtherUser: true, Fallback);

        Assert.StartsWith(Fallback + "/", server, StringComparison.Ordinal);
        Assert.EndsWith("/postgres", server, StringComparison.Ordinal);
        Assert.True(LocalProcess.SearchableByOthers(server));
        // The same state folder finds the same place on its next run; another state folder gets its own.
        Assert.Equal(server, LocalProcess.StateDirectoryIn(state, "postgres", forOtherUser: true, Fallback));
        Assert.NotEqual(server, LocalProcess.StateDirectoryIn(Path.Combine(closed, "other"), "postgres", forOtherUser: true, Fallback));
        // Data the AppHost's own user reads (the paper venue's state) stays where it was put.
        Assert.Equal(Path.Combine(state, "paper"), LocalProcess.StateDirectoryIn(state, "paper", forOtherUser: false, Fallback));
    }

    [Fact]
    public void StateDirectory_UnderFoldersOthersCanPass_StaysInPlace()
    {
        var state = Path.Combine(_base, "clone", "AppHost", ".tradeengine");

        Assert.Equal(Path.Combine(state, "postgres"), LocalProcess.StateDirectoryIn(state, "postgres", forOtherUser: true, Fallback));
        Assert.False(Directory.Exists(Fallback));
    }

    /// <summary>
    /// Root writes configuration into folders the server's user owns: a link that user put at the file's name is
    /// replaced, and what it points to is left alone.
    /// </summary>
    [Fact]
    public void WriteNewFile_OverALink_ReplacesTheLinkNotItsTarget()
    {
        var target = Path.Combine(_base, "target");
        File.WriteAllText(target, "precious");
        var path = Path.Combine(_base, "rabbitmq.conf");
        File.CreateSymbolicLink(path, target);

        LocalProcess.WriteNewFile(path, "written", UnixFileMode.UserRead | UnixFileMode.UserWrite);

        Assert.Equal("precious", File.ReadAllText(target));
        Assert.Null(new FileInfo(path).LinkTarget);
        // Byte for byte: no byte-order mark (RabbitMQ's config parser and initdb's password file take the text as is).
        Assert.Equal("written"u8.ToArray(), File.ReadAllBytes(path));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        Assert.Equal(["rabbitmq.conf", "target"], Directory.GetFiles(_base).Select(Path.GetFileName).Order());
    }

    [Fact]
    public void StateDirectory_CreatedUnderARestrictiveUmask_OpenedForPassing()
    {
        var state = Path.Combine(_base, "clone", ".tradeengine");
        Directory.CreateDirectory(state);
        File.SetUnixFileMode(state, Closed | UnixFileMode.OtherExecute);
        var server = Path.Combine(state, "rabbitmq");
        Directory.CreateDirectory(server, Closed);

        Assert.Equal(server, LocalProcess.StateDirectoryIn(state, "rabbitmq", forOtherUser: true, Fallback));
        Assert.True((File.GetUnixFileMode(server) & UnixFileMode.OtherExecute) != 0);
    }
}
