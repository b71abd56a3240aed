using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Google.Protobuf.WellKnownTypes;
using Grpc.Health.V1;
using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;
using TradeEngine.Contracts.Events;
using TradeEngine.Ledger.V1;
using TradeEngine.Messaging;
using TradeEngine.Testing.Hosting;
using TradeEngine.Testing.Servers;

namespace TradeEngine.LedgerLoad;

/// <summary>
/// <c>dotnet run -c Release --project bench/TradeEngine.LedgerLoad [maxOps] [maxSeconds] [process|inproc] [warmupSeconds]</c>.
/// In one run on one PostgreSQL: (a) a bare INSERT + COMMIT, (b) the Ledger's RecordTrade over gRPC with its idempotency
/// key and outbox row, and the outbox-to-consumer latency through the relay and RabbitMQ. The Ledger runs in its own
/// process by default (as deployed); <c>inproc</c> hosts it inside this tool, as the tests do.
/// </summary>
internal static class LoadProgram
{
    private const int Callers = 16;

    // The 1-caller comparison runs in this many turns of (a), (c) and (b), each a tenth of the scenario bounds.
    private const int Rounds = 10;

    public static async Task<int> Main(string[] args)
    {
        // Bounded in count and time: each measured scenario stops at maxOps or maxSeconds, whichever comes first.
        var maxOperations = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 20_000;
        var maxDuration = TimeSpan.FromSeconds(args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 15);
        var inProcess = args.Length > 2 && args[2] == "inproc";
        var warmup = TimeSpan.FromSeconds(args.Length > 3 ? int.Parse(args[3], CultureInfo.InvariantCulture) : 20);
        var loadBefore = LoadAverage();

        await using var postgres = new PostgresServer();
        await using var rabbit = new RabbitMqServer();
        await Task.WhenAll(postgres.StartAsync(), rabbit.StartAsync());
        Console.WriteLine($"PostgreSQL: {postgres.Source}, RabbitMQ: {rabbit.Source}; Ledger {(inProcess ? "in this process" : "in its own process")}; " +
                          $"warm-up {warmup.TotalSeconds} s at {Callers} callers, then 1 caller and {Callers} callers, at most {maxOperations} ops " +
                          $"or {maxDuration.TotalSeconds} s each; load average {loadBefore}");
        var runner = new ScenarioRunner(maxOperations, maxDuration);

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

        // The bare insert is short code: a quarter of the warm-up settles it.
        await runner.WarmUpAsync(RawInsertAsync, Callers, warmup / 4);
        var rawMany = await runner.MeasureAsync($"(a) INSERT + COMMIT, {Callers} callers", RawInsertAsync, Callers);
        Console.WriteLine(rawMany);

        // A consumer noting when each TradeRecorded arrives (commit-to-delivery latency through the relay and RabbitMQ).
        var received = new ConcurrentDictionary<Guid, long>();
        using var consumer = await StartConsumerAsync(rabbit.ConnectionString, received);

        var ledgerDb = await postgres.CreateDatabaseAsync();
        await using var ledger = await LedgerUnderTest.StartAsync(inProcess, ledgerDb, rabbit.ConnectionString);
        var client = new LedgerService.LedgerServiceClient(ledger.Channel);
        var committed = new ConcurrentDictionary<Guid, long>();
        var executedAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow);

        async Task RecordAsync(string price)
        {
            var response = await client.RecordTradeAsync(new RecordTradeRequest
            {
                ClientOrderId = Guid.NewGuid().ToString("N"), Venue = "binance", ExchangeTradeId = Guid.NewGuid().ToString("N"),
                Symbol = "BTCUSDT", Side = TradeSide.Buy, Price = price, Quantity = "0.00000001", Fee = "0.00000001",
                ExecutedAt = executedAt,
            });
            committed[Guid.Parse(response.TradeId)] = Stopwatch.GetTimestamp();
        }

        Task RecordTradeAsync() => RecordAsync("12345678901.12345678");
        await runner.WarmUpAsync(RecordTradeAsync, Callers, warmup);

        // The floor under (b): an empty unary gRPC call to the same process (grpc.health.v1 Check answers from memory).
        var health = new Health.HealthClient(ledger.Channel);
        async Task EmptyCallAsync() => await health.CheckAsync(new HealthCheckRequest());
        await runner.WarmUpAsync(EmptyCallAsync, Callers, warmup / 4);
        await runner.WarmUpAsync(RawInsertAsync, 1, warmup / 4);

        // The three 1-caller latencies that the goal compares, measured in turns (see MeasureInTurnsAsync).
        var (inTurns, roundRatios) = await runner.MeasureInTurnsAsync(
        [
            ("(a) INSERT + COMMIT, 1 caller", RawInsertAsync),
            ("(c) empty gRPC call, 1 caller", EmptyCallAsync),
            ("(b) RecordTrade RPC, 1 caller", RecordTradeAsync),
        ], Rounds);
        var (rawOne, emptyOne, rpcOne) = (inTurns[0], inTurns[1], inTurns[2]);
        Console.WriteLine(rawOne);
        Console.WriteLine(emptyOne);
        Console.WriteLine(rpcOne);
        var sortedRatios = roundRatios.Order().ToList();
        var medianRoundRatio = (sortedRatios[(sortedRatios.Count - 1) / 2] + sortedRatios[sortedRatios.Count / 2]) / 2;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"(b)/(a) p50 in each of the {Rounds} rounds: {string.Join(", ", roundRatios.Select(r => r.ToString("F2", CultureInfo.InvariantCulture)))}; median {medianRoundRatio:F2}"));

        var cpu = new CpuMeter(ledger, rabbit.LocalProcessId, postgres.LocalProcessId);
        var rpcMany = await runner.MeasureAsync($"(b) RecordTrade RPC, {Callers} callers", RecordTradeAsync, Callers,
            onMeasureStart: () => { committed.Clear(); cpu.Start(); });
        var rpcCpu = cpu.Stop();
        Console.WriteLine(rpcMany);

        var delivery = await DeliveryAsync("outbox -> consumer under load", committed, received, rpcMany.Elapsed, TimeSpan.FromSeconds(30));
        Console.WriteLine(delivery.Summary);

        // Delivery latency when the relay is not saturated: one caller, a write every 5 ms, for at most 5 s.
        committed.Clear();
        var paced = Stopwatch.StartNew();
        for (var i = 0; i < 1000 && paced.Elapsed < TimeSpan.FromSeconds(5); i++)
        {
            await RecordAsync("1");
            await Task.Delay(5);
        }

        var pacedDelivery = await DeliveryAsync("outbox -> consumer, paced ~150/s", committed, received, paced.Elapsed, TimeSpan.FromSeconds(10));
        Console.WriteLine(pacedDelivery.Summary);
        await consumer.StopAsync();

        // The same write path with no relay at work: a second Ledger on its own database with its relay off, so neither
        // its publishing nor RabbitMQ nor the consumer share these 2 cores. It separates what the RPC costs from what
        // delivering its event costs when everything runs on one small machine.
        await ledger.DisposeAsync();
        await using var quiet = await LedgerUnderTest.StartAsync(inProcess, await postgres.CreateDatabaseAsync(), rabbit.ConnectionString, relay: false);
        var quietClient = new LedgerService.LedgerServiceClient(quiet.Channel);
        async Task RecordQuietAsync() => await quietClient.RecordTradeAsync(new RecordTradeRequest
        {
            ClientOrderId = Guid.NewGuid().ToString("N"), Venue = "binance", ExchangeTradeId = Guid.NewGuid().ToString("N"),
            Symbol = "BTCUSDT", Side = TradeSide.Buy, Price = "12345678901.12345678", Quantity = "0.00000001", Fee = "0.00000001",
            ExecutedAt = executedAt,
        });
        await runner.WarmUpAsync(RecordQuietAsync, Callers, warmup);
        var (quietTurns, _) = await runner.MeasureInTurnsAsync(
            [("(a) INSERT + COMMIT, 1 caller, beside (b')", RawInsertAsync), ("(b') RecordTrade, relay off, 1 caller", RecordQuietAsync)], Rounds);
        var (rawBesideQuiet, quietOne) = (quietTurns[0], quietTurns[1]);
        Console.WriteLine(rawBesideQuiet);
        Console.WriteLine(quietOne);
        var quietCpuMeter = new CpuMeter(quiet, rabbit.LocalProcessId, postgres.LocalProcessId);
        var quietMany = await runner.MeasureAsync($"(b') RecordTrade, relay off, {Callers} callers", RecordQuietAsync, Callers,
            onMeasureStart: quietCpuMeter.Start);
        var quietCpu = quietCpuMeter.Stop();
        Console.WriteLine(quietMany);

        var ratioOne = rpcOne.Percentile(50) / rawOne.Percentile(50);
        var ratioMany = rpcMany.Percentile(50) / rawMany.Percentile(50);
        var writes = Math.Max(1, rpcMany.LatenciesMs.Count);
        Console.WriteLine();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"""
            | measure                                  | p50 ms | p99 ms | throughput | goal |
            | ---------------------------------------- | -----: | -----: | ---------: | ---- |
            | (a) INSERT + COMMIT, 1 caller            | {rawOne.Percentile(50),6:F2} | {rawOne.Percentile(99),6:F2} | {rawOne.Throughput,7:F0}/s |  |
            | (b) RecordTrade RPC, 1 caller            | {rpcOne.Percentile(50),6:F2} | {rpcOne.Percentile(99),6:F2} | {rpcOne.Throughput,7:F0}/s |  |
            | (b)/(a) p50, 1 caller (latency)          | {ratioOne,6:F2} |        | rounds {roundRatios.Min():F2}–{roundRatios.Max():F2}, median {medianRoundRatio:F2} | <= 2 |
            | (c) empty gRPC call, 1 caller            | {emptyOne.Percentile(50),6:F2} | {emptyOne.Percentile(99),6:F2} | {emptyOne.Throughput,7:F0}/s |  |
            | ((c)+(a))/(a) p50: one hop plus one write | {(emptyOne.Percentile(50) + rawOne.Percentile(50)) / rawOne.Percentile(50),6:F2} |        |            | floor of any RPC that commits a row |
            | (a) INSERT + COMMIT, {Callers} callers          | {rawMany.Percentile(50),6:F2} | {rawMany.Percentile(99),6:F2} | {rawMany.Throughput,7:F0}/s |  |
            | (b) RecordTrade RPC, {Callers} callers          | {rpcMany.Percentile(50),6:F2} | {rpcMany.Percentile(99),6:F2} | {rpcMany.Throughput,7:F0}/s | >= 2000/s |
            | (b)/(a) p50, {Callers} callers (queueing)       | {ratioMany,6:F2} |        |            |  |
            | (b') relay off, 1 caller                 | {quietOne.Percentile(50),6:F2} | {quietOne.Percentile(99),6:F2} | {quietOne.Throughput,7:F0}/s | ratio {quietOne.Percentile(50) / rawBesideQuiet.Percentile(50):F2} |
            | (b') relay off, {Callers} callers               | {quietMany.Percentile(50),6:F2} | {quietMany.Percentile(99),6:F2} | {quietMany.Throughput,7:F0}/s | ratio {quietMany.Percentile(50) / rawMany.Percentile(50):F2} |
            | outbox -> consumer, under (b)'s load     | {delivery.Result.Percentile(50),6:F2} | {delivery.Result.Percentile(99),6:F2} | {delivery.Delivered}/{delivery.Committed} |  |
            | outbox -> consumer, paced                | {pacedDelivery.Result.Percentile(50),6:F2} | {pacedDelivery.Result.Percentile(99),6:F2} | {pacedDelivery.Delivered}/{pacedDelivery.Committed} | p99 < 50 ms |
            | CPU per write, {Callers} callers: Ledger / this tool / RabbitMQ / PostgreSQL | (b) {rpcCpu.PerOperation(writes)} | (b') relay off {quietCpu.PerOperation(Math.Max(1, quietMany.LatenciesMs.Count))} | | |
            load average before {loadBefore}, after {LoadAverage()}
            """));
        return 0;
    }

    private static async Task<IHost> StartConsumerAsync(string amqpUri, ConcurrentDictionary<Guid, long> received)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:eventbus"] = amqpUri,
            ["Logging:LogLevel:Default"] = "Warning",
        });
        builder.Services.AddSingleton(received);
        builder.Services.Configure<MassTransitHostOptions>(o => o.WaitUntilStarted = true);
        builder.AddEventBus(bus =>
        {
            bus.AddConsumer<LatencyConsumer>();
            // The consumer does nothing but note a timestamp: let the broker push ahead so delivery is not the bottleneck.
            bus.AddConfigureEndpointsCallback((_, _, endpoint) =>
            {
                if (endpoint is IRabbitMqReceiveEndpointConfigurator rabbitEndpoint)
                {
                    rabbitEndpoint.PrefetchCount = 256;
                }
            });
        });
        var host = builder.Build();
        await host.StartAsync();
        return host;
    }

    private static async Task<Delivery> DeliveryAsync(
        string name, ConcurrentDictionary<Guid, long> committed, ConcurrentDictionary<Guid, long> received, TimeSpan elapsed, TimeSpan drain)
    {
        var until = Stopwatch.StartNew();
        while (committed.Keys.Any(k => !received.ContainsKey(k)) && until.Elapsed < drain)
        {
            await Task.Delay(50);
        }

        // The RPC's response time stamps the commit; the consumer stamps arrival (the same monotonic clock).
        var latencies = committed
            .Where(c => received.ContainsKey(c.Key))
            .Select(c => Math.Max(0, Stopwatch.GetElapsedTime(c.Value, received[c.Key]).TotalMilliseconds))
            .ToList();
        return new Delivery(new LoadResult(name, latencies, elapsed), latencies.Count, committed.Count);
    }

    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";

    private sealed record Delivery(LoadResult Result, int Delivered, int Committed)
    {
        public string Summary => string.Create(CultureInfo.InvariantCulture,
            $"{Result.Name,-34} delivered {Delivered}/{Committed}  p50={Result.Percentile(50):F3} ms  p99={Result.Percentile(99):F3} ms");
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
