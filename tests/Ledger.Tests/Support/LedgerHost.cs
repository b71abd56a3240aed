using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using TradeEngine.Ledger.V1;
using TradeEngine.Testing.Hosting;
using TradeEngine.Testing.Servers;

namespace TradeEngine.Ledger.Tests.Support;

/// <summary>
/// The real Ledger (its Program) on Kestrel loopback, on its own database, with a gRPC client. The Ledger has
/// <see cref="OperatorKey"/> configured; a SetKillSwitch that turns the switch off passes <see cref="OperatorHeaders"/>.
/// A setting given as null is left out of the configuration (e.g. <c>Ledger:KillSwitch:OperatorKey</c>: not configured).
/// </summary>
public sealed class LedgerHost : IAsyncDisposable
{
    /// <summary>The Ledger's <c>Ledger:KillSwitch:OperatorKey</c> unless a test sets another.</summary>
    public const string OperatorKey = "ledger-test-operator-key-4b1d";

    /// <summary>The metadata a SetKillSwitch with active=false needs: <see cref="OperatorKey"/> as <c>x-operator-key</c>.</summary>
    public static Metadata OperatorHeaders => new() { { "x-operator-key", OperatorKey } };

    private LedgerHost(LoopbackServiceHost<Program> host, string connectionString)
    {
        Host = host;
        ConnectionString = connectionString;
        Client = new LedgerService.LedgerServiceClient(host.Channel);
    }

    public LoopbackServiceHost<Program> Host { get; }

    public string ConnectionString { get; }

    public LedgerService.LedgerServiceClient Client { get; }

    public IServiceProvider Services => Host.Services;

    public static async Task<LedgerHost> StartAsync(
        PostgresServer postgres, RabbitMqServer rabbit, string? connectionString = null, bool relay = true, string? amqpUri = null,
        IReadOnlyDictionary<string, string?>? settings = null, Action<IServiceCollection>? configureServices = null)
    {
        connectionString ??= await postgres.CreateDatabaseAsync();
        var configuration = new Dictionary<string, string?>
        {
            ["ConnectionStrings:ledgerdb"] = connectionString,
            ["ConnectionStrings:eventbus"] = amqpUri ?? rabbit.ConnectionString,
            ["Ledger:Outbox:RelayEnabled"] = relay ? "true" : "false",
            ["Ledger:Outbox:InitialBackoff"] = "00:00:00.050",
            ["Ledger:Outbox:MaxBackoff"] = "00:00:01",
            ["Ledger:Outbox:BacklogRefresh"] = "00:00:00.200",
            ["Ledger:KillSwitch:OperatorKey"] = OperatorKey,
            ["Logging:LogLevel:Default"] = "Warning",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            if (value is null)
            {
                configuration.Remove(key);
            }
            else
            {
                configuration[key] = value;
            }
        }

        var host = new LoopbackServiceHost<Program>(configuration, configureServices);
        try
        {
            await host.StartAsync();
        }
        catch
        {
            await host.DisposeAsync();
            throw;
        }

        return new LedgerHost(host, connectionString);
    }

    public async Task<long> CountAsync(string sqlFrom, params object[] values)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT count(*) FROM " + sqlFrom, connection);
        foreach (var value in values)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = value });
        }

        return (long)(await command.ExecuteScalarAsync())!;
    }

    public async Task ExecuteAsync(string sql, params object[] values)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var value in values)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = value });
        }

        await command.ExecuteNonQueryAsync();
    }

    public async Task<T> ScalarAsync<T>(string sql, params object[] values)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var value in values)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = value });
        }

        return (T)(await command.ExecuteScalarAsync())!;
    }

    public ValueTask DisposeAsync() => Host.DisposeAsync();
}
