using Npgsql;
using TradeEngine.Ledger.Tests.Support;
using TradeEngine.Testing.Servers;

namespace TradeEngine.Ledger.Tests.Infrastructure;

/// <summary>The shared throwaway servers really start, and the broker survives a stop and start on the same address.</summary>
[Collection(LedgerCollection.Name)]
public sealed class ServerFixtureTests(PostgresServer postgres, RabbitMqServer rabbit)
{
    [Fact]
    public async Task PostgresServer_Started_AnswersQueriesOnLoopback()
    {
        var connectionString = await postgres.CreateDatabaseAsync();
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT inet_server_addr()::text, current_setting('fsync')", connection);
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        if (postgres.Source == ServerSource.Local)
        {
            Assert.Equal("127.0.0.1/32", reader.GetString(0));
            Assert.Equal("off", reader.GetString(1));
            Assert.True(postgres.StartupTime < TimeSpan.FromSeconds(15), $"PostgreSQL took {postgres.StartupTime} to start.");
        }
    }

    [Fact]
    public async Task RabbitMqServer_Started_AcceptsAmqpConnections()
    {
        Assert.True(rabbit.IsRunning);
        await using var connection = await rabbit.ConnectAsync();
        Assert.True(connection.IsOpen);
        Assert.True(rabbit.StartupTime < TimeSpan.FromSeconds(60), $"RabbitMQ took {rabbit.StartupTime} to start.");
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
