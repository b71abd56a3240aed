using Npgsql;
using TradeEngine.Ledger.Tests.Support;
using TradeEngine.Testing.Servers;

namespace TradeEngine.Ledger.Tests.Infrastructure;

/// <summary>The shared throwaway servers really start, and the broker survives a stop and start on the same address.</summary>
[Collection(LedgerCollection.Name)]
public sealed class ServerFixtureTests(PostgresServer postgres, RabbitMqServer rabbit)
{
    [Fact]
    public async Task PostgresServer_Started_ANewDatabaseAnswersQueries()
    {
        var connectionString = await postgres.CreateDatabaseAsync();
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        // The new database is the one connected to (the local server's own settings are checked by
        // ServerFixtureIsolationTests, on a server started local whatever the environment offers).
        await using var command = new NpgsqlCommand("SELECT current_database()", connection);
        Assert.Equal(new NpgsqlConnectionStringBuilder(connectionString).Database, (string?)await command.ExecuteScalarAsync());
    }

    [Fact]
    public async Task RabbitMqServer_Started_AcceptsAmqpConnections()
    {
        Assert.True(rabbit.IsRunning);
        await using var connection = await rabbit.ConnectAsync();
        Assert.True(connection.IsOpen);
    }

    [Fact]
    public async Task RabbitMqServer_StoppedAndStarted_AcceptsConnectionsOnSameAddress()
    {
        await using var broker = new RabbitMqServer();
        await broker.StartAsync();
        var address = broker.AmqpUri;
        await broker.StopAsync();
        Assert.False(broker.IsRunning);
        await Assert.ThrowsAnyAsync<Exception>(async () => await (await broker.ConnectAsync()).DisposeAsync());

        await broker.StartAsync();
        await using var connection = await broker.ConnectAsync();
        Assert.True(connection.IsOpen);
        Assert.Equal(address, broker.AmqpUri);
    }
}
