using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;
using TradeEngine.Ledger.Tests.Support;
using TradeEngine.Testing.Hosting;
using TradeEngine.Testing.Servers;

namespace TradeEngine.Ledger.Tests;

[Collection(LedgerCollection.Name)]
public sealed class HealthTests(PostgresServer postgres, RabbitMqServer rabbit)
{
    [Fact]
    public async Task Health_PostgresReachableThenRefusingConnections_ReadyThenUnready()
    {
        var database = await postgres.CreateDatabaseAsync();
        await using var ledger = await LedgerHost.StartAsync(postgres, rabbit, database, relay: false);
        using var http = ledger.Host.CreateHttp2Client();
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(new Uri("/health", UriKind.Relative))).StatusCode);

        await SetConnectionsAllowedAsync(new NpgsqlConnectionStringBuilder(database).Database!, allowed: false);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await http.GetAsync(new Uri("/health", UriKind.Relative))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(new Uri("/alive", UriKind.Relative))).StatusCode);
    }

    /// <summary>
    /// PostgreSQL refusing the Ledger's connections: a write and a read answer UNAVAILABLE (retry with the same key), not
    /// INTERNAL, and the status names no server, database or user; once connections are allowed again the same write
    /// lands under its key, once. Before, both were INTERNAL ("Internal error."), which no caller's retry policy retries.
    /// </summary>
    [Fact]
    public async Task Rpcs_PostgresRefusingConnections_UnavailableThenTheSameWriteLandsOnce()
    {
        var database = await postgres.CreateDatabaseAsync();
        await using var ledger = await LedgerHost.StartAsync(postgres, rabbit, database, relay: false);
        var name = new NpgsqlConnectionStringBuilder(database).Database!;
        await SetConnectionsAllowedAsync(name, allowed: false);
        var trade = Requests.Trade();
        try
        {
            var write = await Assert.ThrowsAsync<Grpc.Core.RpcException>(() => ledger.Client.RecordTradeAsync(trade).ResponseAsync);
            var read = await Assert.ThrowsAsync<Grpc.Core.RpcException>(() => ledger.Client.GetKillSwitchAsync(new V1.GetKillSwitchRequest()).ResponseAsync);

            Assert.All(new[] { write, read }, e =>
            {
                Assert.Equal(Grpc.Core.StatusCode.Unavailable, e.StatusCode);
                Assert.Contains("Retry with the same idempotency key", e.Status.Detail, StringComparison.Ordinal);
                Assert.DoesNotContain(name, e.Status.Detail, StringComparison.Ordinal);
            });
        }
        finally
        {
            await SetConnectionsAllowedAsync(name, allowed: true);
        }

        var recorded = await ledger.Client.RecordTradeAsync(trade);
        Assert.Equal(recorded.TradeId, (await ledger.Client.RecordTradeAsync(trade)).TradeId);
        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync();
        await using var count = new NpgsqlCommand("SELECT count(*) FROM trades", connection);
        Assert.Equal(1L, await count.ExecuteScalarAsync());
    }

    private async Task SetConnectionsAllowedAsync(string name, bool allowed)
    {
        await using (var admin = new NpgsqlConnection(postgres.ConnectionString))
        {
            await admin.OpenAsync();
            await using var change = new NpgsqlCommand($"ALTER DATABASE {name} ALLOW_CONNECTIONS {(allowed ? "true" : "false")}", admin);
            await change.ExecuteNonQueryAsync();
            if (!allowed)
            {
                await using var terminate = new NpgsqlCommand("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", admin);
                terminate.Parameters.Add(new NpgsqlParameter { Value = name });
                await terminate.ExecuteNonQueryAsync();
            }
        }

        NpgsqlConnection.ClearAllPools();
    }

    [Fact]
    public async Task Start_ConnectionStringsWithPasswords_NeverLogged()
    {
        const string Secret = "s3cr3t-Pa55word";
        var database = new NpgsqlConnectionStringBuilder(await postgres.CreateDatabaseAsync()) { Password = Secret }.ConnectionString;
        var logs = new CapturingLoggerProvider();
        await using (var host = new LoopbackServiceHost<Program>(
            new Dictionary<string, string?>
            {
                ["ConnectionStrings:ledgerdb"] = database,
                ["ConnectionStrings:eventbus"] = rabbit.ConnectionString.Replace("guest:guest", "guest:" + Secret, StringComparison.Ordinal),
                ["Logging:LogLevel:Default"] = "Trace",
            },
            services => services.AddSingleton<ILoggerProvider>(logs)))
        {
            await host.StartAsync();
            var client = new V1.LedgerService.LedgerServiceClient(host.Channel);
            await client.RecordTradeAsync(Requests.Trade());
        }

        Assert.NotEmpty(logs.Messages);
        Assert.DoesNotContain(logs.Messages, m => m.Contains(Secret, StringComparison.Ordinal));
    }

    private sealed class CapturingLoggerProvider : ILoggerProvider
    {
        private readonly List<string> _messages = [];

        public IReadOnlyList<string> Messages
        {
            get
            {
                lock (_messages)
                {
                    return _messages.ToList();
                }
            }
        }

        public ILogger CreateLogger(string categoryName) => new Capturing(this);

        public void Dispose()
        {
        }

        private sealed class Capturing(CapturingLoggerProvider owner) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                lock (owner._messages)
                {
                    owner._messages.Add(formatter(state, exception) + exception);
                }
            }
        }
    }
}
