using System.Collections.Concurrent;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using TradeEngine.Binance.DependencyInjection;
using TradeEngine.Binance.Errors;
using TradeEngine.Binance.Models;
using TradeEngine.Binance.Tests.Infrastructure;
using TradeEngine.PaperExchange.Control;

namespace TradeEngine.Binance.Tests.Client;

public class SecretsTests : PaperTest
{
    [Fact]
    public void ToString_OptionsAndClient_NeverShowKeyOrSecret()
    {
        var options = new BinanceOptions { ApiKey = "KEY-123-visible?", ApiSecret = "SECRET-456-visible?" };
        var client = Paper.CreateClient(o => { o.ApiKey = "KEY-123-visible?"; o.ApiSecret = "SECRET-456-visible?"; });
        foreach (var text in new[] { options.ToString(), client.ToString() })
        {
            Assert.DoesNotContain("KEY-123", text, StringComparison.Ordinal);
            Assert.DoesNotContain("SECRET-456", text, StringComparison.Ordinal);
            Assert.Contains("<redacted>", text, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Logs_OfFailuresAndRetries_ContainNoKeySecretOrSignature()
    {
        var sink = new ListLoggerProvider();
        using var loggers = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Trace).AddProvider(sink));
        var client = Paper.CreateClient(loggers: loggers);
        await Paper.InjectFaultAsync(FaultKind.UnknownAfterExecute, "/fapi/v1/order");
        await Paper.InjectFaultAsync(FaultKind.Timestamp, "/fapi/v3/balance");
        await client.PlaceOrderAsync(new NewOrder("BTCUSDT", OrderSide.Buy, OrderType.Market, 0.010m), "logged");
        await client.GetBalancesAsync();
        var e = await Assert.ThrowsAsync<BinanceApiException>(() => client.PlaceOrderAsync(new NewOrder("BTCUSDT", OrderSide.Buy, OrderType.Market, 0.001m), "below-min-notional"));

        Assert.NotEmpty(sink.Messages);
        foreach (var text in sink.Messages.Append(e.ToString()))
        {
            Assert.DoesNotContain(PaperExchangeHost.ApiKey, text, StringComparison.Ordinal);
            Assert.DoesNotContain(PaperExchangeHost.ApiSecret, text, StringComparison.Ordinal);
            Assert.DoesNotContain("signature=", text, StringComparison.OrdinalIgnoreCase);
        }
    }

    [Fact]
    public async Task AddBinanceClient_LogsAtTraceThroughTheDiPath_ContainNoKeySecretOrSignature()
    {
        var sink = new ListLoggerProvider();
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Binance:BaseUrl"] = Paper.Address.ToString(),
            ["Binance:ApiKey"] = PaperExchangeHost.ApiKey,
            ["Binance:ApiSecret"] = PaperExchangeHost.ApiSecret,
        }).Build();
        var services = new ServiceCollection();
        services.AddLogging(b => b.SetMinimumLevel(LogLevel.Trace).AddProvider(sink));
        services.AddBinanceClient(configuration);
        await using var provider = services.BuildServiceProvider();
        var client = provider.GetRequiredService<IBinanceClient>();

        await Paper.InjectFaultAsync(FaultKind.UnknownAfterExecute, "/fapi/v1/order");
        await Paper.InjectFaultAsync(FaultKind.Timestamp, "/fapi/v3/balance");
        await client.GetAccountAsync();
        await client.PlaceOrderAsync(new NewOrder("BTCUSDT", OrderSide.Buy, OrderType.Market, 0.010m), "di-logged");
        await client.GetBalancesAsync();
        await client.GetIncomeHistoryAsync(new IncomeQuery(Symbol: "BTCUSDT"));

        Assert.NotEmpty(sink.Messages);
        foreach (var text in sink.Messages)
        {
            Assert.DoesNotContain(PaperExchangeHost.ApiKey, text, StringComparison.Ordinal);
            Assert.DoesNotContain(PaperExchangeHost.ApiSecret, text, StringComparison.Ordinal);
            Assert.DoesNotContain("signature", text, StringComparison.OrdinalIgnoreCase);
        }
    }

    [Fact]
    public async Task PaperExchange_LoggingRaisedToTrace_ItsRequestLogNeverWritesTheSignature()
    {
        var sink = new ListLoggerProvider();
        await using var paper = await PaperExchangeHost.StartAsync(new Dictionary<string, string?>
        {
            ["Logging:LogLevel:Default"] = "Trace",
            ["Logging:LogLevel:Microsoft.AspNetCore"] = "Trace",
            [$"Logging:LogLevel:{TradeEngine.PaperExchange.Extensions.PaperExchangeExtensions.RequestLogCategory}"] = "Trace",
            [$"Logging:{typeof(ListLoggerProvider).FullName}:LogLevel:{TradeEngine.PaperExchange.Extensions.PaperExchangeExtensions.RequestLogCategory}"] = "Trace",
        });
        paper.Services.GetRequiredService<ILoggerFactory>().AddProvider(sink);
        var client = paper.CreateClient(configure: null);

        await client.GetBalancesAsync();
        await client.PlaceOrderAsync(new NewOrder("BTCUSDT", OrderSide.Buy, OrderType.Market, 0.010m), "trace-logged");

        // Logging did reach the sink at Debug for the requests themselves (routing names each matched endpoint) ...
        Assert.Contains(sink.Messages, m => m.Contains("/fapi/v3/balance", StringComparison.Ordinal));
        Assert.Contains(sink.Messages, m => m.Contains("/fapi/v1/order", StringComparison.Ordinal));
        // ... and no line carries a signature, the key or the secret.
        foreach (var text in sink.Messages)
        {
            Assert.DoesNotContain("signature=", text, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain(PaperExchangeHost.ApiKey, text, StringComparison.Ordinal);
            Assert.DoesNotContain(PaperExchangeHost.ApiSecret, text, StringComparison.Ordinal);
        }
    }

    private sealed class ListLoggerProvider : ILoggerProvider
    {
        public ConcurrentQueue<string> Messages { get; } = new();

        public ILogger CreateLogger(string categoryName) => new ListLogger(Messages);

        public void Dispose()
        {
        }

        private sealed class ListLogger(ConcurrentQueue<string> messages) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                messages.Enqueue(formatter(state, exception) + " " + exception);
        }
    }
}
