using System.Runtime.CompilerServices;
using TradeEngine.Binance.Internal;
using TradeEngine.Binance.Internal.Dto;
using TradeEngine.Binance.Internal.Http;
using TradeEngine.Binance.Models;

namespace TradeEngine.Binance;

public sealed partial class BinanceClient
{
    private const int MaxFundingPage = 1000;

    public async Task<DateTimeOffset> GetServerTimeAsync(CancellationToken ct = default)
    {
        var dto = await _transport.SendAsync(Get("fapi/v1/time", 1), VenueJsonContext.Default.ServerTimeDto, ct).ConfigureAwait(false);
        return BinanceParse.ServerTime(dto);
    }

    public async Task<ExchangeInfo> GetExchangeInfoAsync(CancellationToken ct = default)
    {
        var dto = await _transport.SendAsync(Get("fapi/v1/exchangeInfo", 1), VenueJsonContext.Default.ExchangeInfoDto, ct).ConfigureAwait(false);
        var info = BinanceParse.ExchangeInfo(dto);
        _transport.Governor.ApplyLimits(info.RateLimits);
        _instruments.Store(info);
        return info;
    }

    public async Task<PremiumIndex> GetPremiumIndexAsync(string symbol, CancellationToken ct = default)
    {
        RequireSymbolText(symbol);
        var dto = await _transport.SendAsync(Get("fapi/v1/premiumIndex", 1).Add("symbol", symbol), VenueJsonContext.Default.PremiumIndexDto, ct)
            .ConfigureAwait(false);
        return BinanceParse.PremiumIndex(dto);
    }

    public async Task<IReadOnlyList<PremiumIndex>> GetPremiumIndexesAsync(CancellationToken ct = default)
    {
        var dto = await _transport.SendAsync(Get("fapi/v1/premiumIndex", 10), VenueJsonContext.Default.ListPremiumIndexDto, ct).ConfigureAwait(false);
        return dto.Select(BinanceParse.PremiumIndex).ToList();
    }

    public async Task<IReadOnlyList<FundingRateEntry>> GetFundingRateHistoryAsync(FundingRateQuery query, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        if (query.Limit is < 1 or > MaxFundingPage)
        {
            throw new Errors.BinanceRequestRefusedException(Errors.BinanceErrorKind.InvalidParameter, "limit", "must be 1..1000");
        }

        var request = FundingRoute("fapi/v1/fundingRate")
            .Add("symbol", query.Symbol)
            .Add("startTime", query.StartTime)
            .Add("endTime", query.EndTime)
            .Add("limit", query.Limit);
        var dto = await _transport.SendAsync(request, VenueJsonContext.Default.ListFundingRateDto, ct).ConfigureAwait(false);
        return dto.Select(BinanceParse.FundingRate).ToList();
    }

    /// <summary>Every funding settlement of <paramref name="symbol"/> in [from, to], oldest first, a page at a time.</summary>
    public async IAsyncEnumerable<FundingRateEntry> GetFundingRateHistoryPagedAsync(
        string symbol, DateTimeOffset from, DateTimeOffset to, [EnumeratorCancellation] CancellationToken ct = default)
    {
        RequireSymbolText(symbol);
        var start = from;
        while (start <= to)
        {
            var page = await GetFundingRateHistoryAsync(new FundingRateQuery(symbol, start, to, MaxFundingPage), ct).ConfigureAwait(false);
            foreach (var entry in page)
            {
                yield return entry;
            }

            if (page.Count < MaxFundingPage)
            {
                yield break;
            }

            start = page[^1].FundingTime.AddMilliseconds(1);
        }
    }

    public async Task<FundingInfoList> GetFundingInfoAsync(CancellationToken ct = default)
    {
        var dto = await _transport.SendAsync(FundingRoute("fapi/v1/fundingInfo"), VenueJsonContext.Default.ListFundingInfoDto, ct).ConfigureAwait(false);
        var entries = new List<FundingInfo>(dto.Count);
        var refused = new List<(string Symbol, string Reason)>();
        foreach (var entry in dto)
        {
            try
            {
                entries.Add(BinanceParse.FundingInfo(entry));
            }
            catch (Errors.BinanceProtocolException ex) when (!string.IsNullOrEmpty(entry.Symbol) && ex.Field != "symbol")
            {
                refused.Add((entry.Symbol, ex.Message));
            }
        }

        return new FundingInfoList(entries, refused);
    }

    public async Task<TickerPrice> GetTickerPriceAsync(string symbol, CancellationToken ct = default)
    {
        RequireSymbolText(symbol);
        var dto = await _transport.SendAsync(Get("fapi/v1/ticker/price", 1).Add("symbol", symbol), VenueJsonContext.Default.TickerPriceDto, ct)
            .ConfigureAwait(false);
        return BinanceParse.Ticker(dto);
    }

    private static VenueRequest Get(string path, int weight) => new(HttpMethod.Get, path, signed: false, weight);

    /// <summary>GET fundingRate and fundingInfo: weight 0 on the IP; they share 500 requests per 5 minutes per IP.</summary>
    private static VenueRequest FundingRoute(string path) => new(HttpMethod.Get, path, signed: false, weight: 0, fundingRoute: true);

    private static VenueRequest SignedRequest(HttpMethod method, string path, int weight, bool isOrder = false) =>
        new(method, path, signed: true, weight, isOrder);

    private static void RequireSymbolText(string symbol)
    {
        if (string.IsNullOrWhiteSpace(symbol) || symbol.Length > 32 || !symbol.All(char.IsAsciiLetterOrDigit))
        {
            throw new Errors.BinanceRequestRefusedException(Errors.BinanceErrorKind.InvalidSymbol, "symbol", $"'{symbol}' is not a symbol");
        }
    }
}
