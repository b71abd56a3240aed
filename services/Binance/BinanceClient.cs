using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using TradeEngine.Binance.Internal;
using TradeEngine.Binance.Internal.Http;

namespace TradeEngine.Binance;

/// <summary>
/// Typed client for the Binance USD-M futures REST API (and for PaperExchange, which answers the same way).
/// Market data in <c>BinanceClient.Market.cs</c>, orders in <c>BinanceClient.Orders.cs</c> (their placement without a
/// second order per client id in <c>BinanceClient.Idempotency.cs</c>, the look-ups that settle an unknown outcome in
/// <c>BinanceClient.UnknownOutcome.cs</c>), account in <c>BinanceClient.Account.cs</c>.
/// </summary>
public sealed partial class BinanceClient : IBinanceClient
{
    private readonly BinanceTransport _transport;
    private readonly BinanceOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<BinanceClient> _logger;
    private readonly InstrumentCache _instruments;

    public BinanceClient(HttpClient http, IOptions<BinanceOptions> options, TimeProvider? time = null, ILogger<BinanceClient>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Value;
        _time = time ?? TimeProvider.System;
        _logger = logger ?? NullLogger<BinanceClient>.Instance;
        _transport = new BinanceTransport(http, _options, _time, _logger);
        _instruments = new InstrumentCache(_time, _options.InstrumentCacheTtl);
    }

    /// <summary>The current estimate of the venue's clock (local clock + the offset from the last sync).</summary>
    public DateTimeOffset ServerNow => _transport.Clock.ServerNow();

    /// <summary>
    /// Until when the client holds every request back after a 429/418 (<see cref="DateTimeOffset.MinValue"/> when not); a
    /// 429 of the funding routes' own limit holds back only GET fundingRate and fundingInfo, and is not shown here.
    /// </summary>
    public DateTimeOffset RateLimitedUntil => _transport.Governor.BlockedUntil;

    public override string ToString() => $"BinanceClient {{ {_options} }}";
}
