using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Google.Protobuf.WellKnownTypes;
using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;
using TradeEngine.Ledger.V1;
using TradeEngine.Messaging;
using TradeEngine.Contracts.Events;
using TradeEngine.Testing.Hosting;
using TradeEngine.Testing.Servers;

namespace TradeEngine.LedgerLoad;

internal static class LoadProgram
{
    public static async Task<int> Main(string[] args)
    {
        // Bounded in count and time: each scenario stops at MaxOperations or MaxDuration, whichever comes first.
        const int Callers = 16;
        const int Warmup = 500;
        var maxOperations = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 20_000;
        var maxDuration = TimeSpan.FromSeconds(args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 15);

        await using var postgres = new PostgresServer();
        await using var rabbit = new RabbitMqServer();
        await Task.WhenAll(postgres.StartAsync(), rabbit.StartAsync());
        Console.WriteLine($"PostgreSQL: {postgres.Source}, RabbitMQ: {rabbit.Source}; {Callers} callers, at most {maxOperations} ops or {maxDuration.TotalSeconds} s each");

        // (a) A bare INSERT + COMMIT of a trade-shaped row.
        var rawDb = await postgres.CreateDatabaseAsync();
        await using var raw = NpgsqlDataSource.Create(rawDb);
        await using (var create = raw.CreateCommand(
            "CREATE TABLE raw_trades (trade_id uuid PRIMARY KEY, client_order_id varchar(64) NOT NULL UNIQUE, venue varchar(32) NOT NULL, " +
            "symbol varchar(32) NOT NULL, price numeric(28,8) NOT NULL, quantity numeric(28,8) NOT NULL, executed_at timestamptz NOT NULL)"))
        {
            await create.ExecuteNonQueryAsync();
        }

        async Task RawInsertAsync()
        {
            await using var connection = await raw.OpenConnectionAsync();
            await using var transaction = await connection.BeginTransactionAsync();
            await using var insert = new NpgsqlCommand(
                "INSERT INTO raw_trades VALUES ($1, $2, 'binance', 'BTCUSDT', 12345678901.12345678, 0.00000001, now())", connection, transaction)
            {
                Parameters = { new() { Value = Guid.NewGuid() }, new() { Value = Guid.NewGuid().ToString("N") } },
            };
            await insert.ExecuteNonQueryAsync();
            await transaction.CommitAsync();
        }

        var rawResult = await RunAsync("(a) Npgsql INSERT + COMMIT", _ => RawInsertAsync());
        Console.WriteLine(rawResult);

        // (b) The Ledger's RecordTrade over gRPC on loopback (idempotency key, trade row and outbox row in one transaction),
        // with a consumer measuring commit-to-delivery latency through the outbox relay and RabbitMQ.
        var received = new ConcurrentDictionary<Guid, long>();
        var consumerBuilder = Host.CreateApplicationBuilder();
        consumerBuilder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:eventbus"] = rabbit.ConnectionString,
            ["Logging:LogLevel:Default"] = "Warning",
        });
        consumerBuilder.Services.AddSingleton(received);
        consumerBuilder.Services.Configure<MassTransitHostOptions>(o => o.WaitUntilStarted = true);
        consumerBuilder.AddEventBus(bus => bus.AddConsumer<LatencyConsumer>());
        using var consumer = consumerBuilder.Build();
        await consumer.StartAsync();

        // Outside a test project WebApplicationFactory cannot guess the service's content root: it is this folder.
        Environment.SetEnvironmentVariable("ASPNETCORE_TEST_CONTENTROOT_TRADEENGINE_LEDGER", AppContext.BaseDirectory);
        await using var ledger = new LoopbackServiceHost<Program>(new Dictionary<string, string?>
        {
            ["ConnectionStrings:ledgerdb"] = await postgres.CreateDatabaseAsync(),
            ["ConnectionStrings:eventbus"] = rabbit.ConnectionString,
            ["Logging:LogLevel:Default"] = "Warning",
        });
        await ledger.StartAsync();
        var client = new LedgerService.LedgerServiceClient(ledger.Channel);
        var committed = new ConcurrentDictionary<Guid, long>();
        var executedAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow);

        var rpcResult = await RunAsync("(b) RecordTrade RPC + outbox row", async i =>
        {
            var response = await client.RecordTradeAsync(new RecordTradeRequest
            {
                ClientOrderId = Guid.NewGuid().ToString("N"), Venue = "binance", ExchangeTradeId = Guid.NewGuid().ToString("N"),
                Symbol = "BTCUSDT", Side = TradeSide.Buy, Price = "12345678901.12345678", Quantity = "0.00000001", Fee = "0.00000001",
                ExecutedAt = executedAt,
            });
            committed[Guid.Parse(response.TradeId)] = Stopwatch.GetTimestamp();
        });
        Console.WriteLine(rpcResult);

        var drainUntil = DateTime.UtcNow.AddSeconds(30);
        while (committed.Keys.Any(k => !received.ContainsKey(k)) && DateTime.UtcNow < drainUntil)
        {
            await Task.Delay(100);
        }

        var latencies = committed
            .Where(c => received.ContainsKey(c.Key))
            .Select(c => Math.Max(0, Stopwatch.GetElapsedTime(c.Value, received[c.Key]).TotalMilliseconds))
            .ToList();
        var delivery = new LoadResult("outbox -> consumer (after commit)", latencies, rpcResult.Elapsed);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"outbox -> consumer                 delivered {latencies.Count}/{committed.Count}  p50={delivery.Percentile(50):F3} ms  p99={delivery.Percentile(99):F3} ms"));
        // Delivery latency when the relay is not saturated: one caller, a write every 5 ms, for at most 5 s.
        committed.Clear();
        var paced = Stopwatch.StartNew();
        for (var i = 0; i < 1000 && paced.Elapsed < TimeSpan.FromSeconds(5); i++)
        {
            var response = await client.RecordTradeAsync(new RecordTradeRequest
            {
                ClientOrderId = Guid.NewGuid().ToString("N"), Venue = "binance", ExchangeTradeId = Guid.NewGuid().ToString("N"),
                Symbol = "BTCUSDT", Side = TradeSide.Sell, Price = "1", Quantity = "1", ExecutedAt = executedAt,
            });
            committed[Guid.Parse(response.TradeId)] = Stopwatch.GetTimestamp();
            await Task.Delay(5);
        }

        await Task.Delay(1000);
        var pacedLatencies = committed.Where(c => received.ContainsKey(c.Key))
            .Select(c => Math.Max(0, Stopwatch.GetElapsedTime(c.Value, received[c.Key]).TotalMilliseconds)).ToList();
        var pacedDelivery = new LoadResult("paced", pacedLatencies, paced.Elapsed);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"outbox -> consumer, paced ~200/s   delivered {pacedLatencies.Count}/{committed.Count}  p50={pacedDelivery.Percentile(50):F3} ms  p99={pacedDelivery.Percentile(99):F3} ms"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"ratio (b) p50 / (a) p50 = {rpcResult.Percentile(50) / rawResult.Percentile(50):F2}   (b) throughput = {rpcResult.Throughput:F0} writes/s"));
        await consumer.StopAsync();
        return 0;

        async Task<LoadResult> RunAsync(string name, Func<int, Task> operation)
        {
            for (var i = 0; i < Warmup; i++)
            {
                await operation(i);
            }

            var latencies = new ConcurrentBag<double>();
            var next = -1;
            var deadline = Stopwatch.StartNew();
            await Task.WhenAll(Enumerable.Range(0, Callers).Select(_ => Task.Run(async () =>
            {
                int i;
                while ((i = Interlocked.Increment(ref next)) < maxOperations && deadline.Elapsed < maxDuration)
                {
                    var started = Stopwatch.GetTimestamp();
                    await operation(i);
                    latencies.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                }
            })));
            return new LoadResult(name, latencies.ToList(), deadline.Elapsed);
        }
    }
}

/// <summary>Notes when each recorded trade's event reached a consumer.</summary>
internal sealed class LatencyConsumer(ConcurrentDictionary<Guid, long> received) : IConsumer<TradeRecorded>
{
    public Task Consume(ConsumeContext<TradeRecorded> context)
    {
        received.TryAdd(context.Message.TradeId, Stopwatch.GetTimestamp());
        return Task.CompletedTask;
    }
}
