using System.Runtime.CompilerServices;
using TradeEngine.Binance.Errors;
using TradeEngine.Binance.Internal;
using TradeEngine.Binance.Internal.Dto;
using TradeEngine.Binance.Models;
using MarginType = TradeEngine.Domain.MarginType;

namespace TradeEngine.Binance;

public sealed partial class BinanceClient
{
    public async Task<IReadOnlyList<SymbolBrackets>> GetLeverageBracketsAsync(string? symbol = null, CancellationToken ct = default)
    {
        IReadOnlyList<SymbolBrackets> result;
        if (symbol is null)
        {
            var dto = await _transport.SendAsync(SignedRequest(HttpMethod.Get, "fapi/v1/leverageBracket", 1), VenueJsonContext.Default.ListSymbolBracketsDto, ct)
                .ConfigureAwait(false);
            result = dto.Select(BinanceParse.Brackets).ToList();
        }
        else
        {
            RequireSymbolText(symbol);
            var answer = await _transport.SendAsync(
                SignedRequest(HttpMethod.Get, "fapi/v1/leverageBracket", 1).Add("symbol", symbol), VenueJsonContext.Default.SymbolBracketsAnswerDto, ct)
                .ConfigureAwait(false);
            // One entry, of the symbol asked for: an object as documented, or an array of one as the live API sends.
            if (answer.Items is not [var dto] || !string.Equals(dto.Symbol, symbol, StringComparison.Ordinal))
            {
                throw new BinanceProtocolException("leverageBracket", "symbol",
                    $"expected the brackets of {symbol} alone, got {answer.Items.Count} entr{(answer.Items.Count == 1 ? "y" : "ies")} ({string.Join(", ", answer.Items.Select(i => i.Symbol))})");
            }

            result = [BinanceParse.Brackets(dto)];
        }

        _instruments.Store(result);
        return result;
    }

    /// <summary>Refused before sending when <paramref name="leverage"/> is outside 1..the symbol's top bracket leverage.</summary>
    public async Task<LeverageSetting> ChangeLeverageAsync(string symbol, int leverage, CancellationToken ct = default)
    {
        RequireSymbolText(symbol);
        if (leverage < 1)
        {
            throw new BinanceRequestRefusedException(BinanceErrorKind.InvalidLeverage, "leverage", $"{leverage} is below 1");
        }

        var brackets = await _instruments.BracketsAsync(symbol, token => GetLeverageBracketsAsync(symbol, token), ct).ConfigureAwait(false)
            ?? throw new BinanceRequestRefusedException(BinanceErrorKind.InvalidSymbol, "symbol", $"'{symbol}' has no leverage brackets");
        if (leverage > brackets.MaxLeverage)
        {
            throw new BinanceRequestRefusedException(BinanceErrorKind.InvalidLeverage, "leverage",
                $"{leverage} is above {symbol}'s maximum of {brackets.MaxLeverage}");
        }

        var request = SignedRequest(HttpMethod.Post, "fapi/v1/leverage", 1).Add("symbol", symbol).Add("leverage", leverage);
        var dto = await _transport.SendAsync(request, VenueJsonContext.Default.LeverageDto, ct).ConfigureAwait(false);
        return BinanceParse.Leverage(dto);
    }

    public async Task<MarginTypeChange> ChangeMarginTypeAsync(string symbol, MarginType marginType, CancellationToken ct = default)
    {
        RequireSymbolText(symbol);
        var request = SignedRequest(HttpMethod.Post, "fapi/v1/marginType", 1).Add("symbol", symbol).Add("marginType", VenueText.Margin(marginType));
        try
        {
            await _transport.SendAsync(request, VenueJsonContext.Default.CodeMsgDto, ct).ConfigureAwait(false);
            return new MarginTypeChange(symbol, marginType, Changed: true);
        }
        catch (BinanceApiException e) when (e.Code == BinanceErrors.NoNeedToChangeMarginType)
        {
            return new MarginTypeChange(symbol, marginType, Changed: false);
        }
    }

    public async Task<PositionMode> GetPositionModeAsync(CancellationToken ct = default)
    {
        var dto = await _transport.SendAsync(SignedRequest(HttpMethod.Get, "fapi/v1/positionSide/dual", 30), VenueJsonContext.Default.PositionModeDto, ct)
            .ConfigureAwait(false);
        return BinanceParse.PositionModeOf(dto);
    }

    public async Task<PositionModeChange> ChangePositionModeAsync(PositionMode mode, CancellationToken ct = default)
    {
        var dual = mode switch
        {
            PositionMode.OneWay => "false",
            PositionMode.Hedge => "true",
            _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, "not a position mode"),
        };
        var request = SignedRequest(HttpMethod.Post, "fapi/v1/positionSide/dual", 1).Add("dualSidePosition", dual);
        try
        {
            await _transport.SendAsync(request, VenueJsonContext.Default.CodeMsgDto, ct).ConfigureAwait(false);
            return new PositionModeChange(mode, Changed: true);
        }
        catch (BinanceApiException e) when (e.Code == BinanceErrors.NoNeedToChangePositionSide)
        {
            return new PositionModeChange(mode, Changed: false);
        }
    }

    /// <summary><c>/fapi/v2/positionRisk</c>: leverage, margin type and liquidation price per symbol.</summary>
    public async Task<IReadOnlyList<PositionRisk>> GetPositionsAsync(string? symbol = null, CancellationToken ct = default)
    {
        var request = SignedRequest(HttpMethod.Get, "fapi/v2/positionRisk", 5).Add("symbol", symbol);
        var dto = await _transport.SendAsync(request, VenueJsonContext.Default.ListPositionRiskDto, ct).ConfigureAwait(false);
        return dto.Select(BinanceParse.Position).ToList();
    }

    public async Task<IReadOnlyList<AccountBalance>> GetBalancesAsync(CancellationToken ct = default)
    {
        var dto = await _transport.SendAsync(SignedRequest(HttpMethod.Get, "fapi/v3/balance", 5), VenueJsonContext.Default.ListBalanceDto, ct)
            .ConfigureAwait(false);
        return dto.Select(BinanceParse.Balance).ToList();
    }

    public async Task<AccountInfo> GetAccountAsync(CancellationToken ct = default)
    {
        var dto = await _transport.SendAsync(SignedRequest(HttpMethod.Get, "fapi/v3/account", 5), VenueJsonContext.Default.AccountDto, ct)
            .ConfigureAwait(false);
        return BinanceParse.Account(dto);
    }

    public async Task<IReadOnlyList<IncomeEntry>> GetIncomeHistoryAsync(IncomeQuery query, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        if (query.Limit is < 1 or > 1000)
        {
            throw new BinanceRequestRefusedException(BinanceErrorKind.InvalidParameter, "limit", "must be 1..1000");
        }

        var request = SignedRequest(HttpMethod.Get, "fapi/v1/income", 30)
            .Add("symbol", query.Symbol)
            .Add("incomeType", query.IncomeType is { } t ? VenueText.Income(t) : null)
            .Add("startTime", query.StartTime)
            .Add("endTime", query.EndTime)
            .Add("limit", query.Limit);
        var dto = await _transport.SendAsync(request, VenueJsonContext.Default.ListIncomeDto, ct).ConfigureAwait(false);
        return dto.Select(BinanceParse.Income).ToList();
    }

    /// <summary>The longest span one paged income request covers: the window Binance answers when none is sent (7 days).</summary>
    public static readonly TimeSpan IncomeSpan = TimeSpan.FromDays(7);

    private const int MaxIncomePage = 1000;

    /// <summary>
    /// Every income row of <paramref name="symbol"/> (null: the whole account, e.g. transfer rows, which carry no
    /// symbol) and <paramref name="type"/> (null: every type, in one read rather than one per type: the endpoint weighs
    /// 30) in [from, to], oldest first: in spans of at most <see cref="IncomeSpan"/>, each read 1,000 rows at a time. A
    /// full page may have more behind it; the next request starts at its last row's millisecond (not after it: two rows
    /// may share one), and the rows already given are known by their income type and transaction id (Binance keeps a
    /// tranId unique per income type only, so two types may share one), so none is given twice and none is skipped.
    /// </summary>
    public async IAsyncEnumerable<IncomeEntry> GetIncomeHistoryPagedAsync(
        string? symbol, IncomeType? type, DateTimeOffset from, DateTimeOffset to, [EnumeratorCancellation] CancellationToken ct = default)
    {
        if (symbol is not null)
        {
            RequireSymbolText(symbol);
        }

        var given = new HashSet<(string Type, long TranId)>();
        var start = from;
        while (start <= to)
        {
            var end = start + IncomeSpan < to ? start + IncomeSpan : to;
            var page = await GetIncomeHistoryAsync(new IncomeQuery(symbol, type, start, end, MaxIncomePage), ct).ConfigureAwait(false);
            var fresh = 0;
            foreach (var entry in page)
            {
                if (given.Add((entry.RawIncomeType, entry.TranId)))
                {
                    fresh++;
                    yield return entry;
                }
            }

            // A full page with something new: go on from its last row's millisecond. A full page of nothing new (more
            // than 1,000 rows in one millisecond) moves on past it rather than ask for ever, and the rest of that
            // millisecond is not read. One type's rows never come that thick; every type's can, in principle (one order's
            // fills each give a COMMISSION and a REALIZED_PNL row at the order's time: 500 fills in one millisecond).
            var last = page.Count > 0 ? page.Max(e => e.Time) : end;
            start = page.Count < MaxIncomePage ? end.AddMilliseconds(1) : fresh > 0 ? last : last.AddMilliseconds(1);
        }
    }

    public async Task<IReadOnlyList<UserTrade>> GetUserTradesAsync(UserTradesQuery query, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        RequireSymbolText(query.Symbol);
        if (query.Limit is < 1 or > 1000)
        {
            throw new BinanceRequestRefusedException(BinanceErrorKind.InvalidParameter, "limit", "must be 1..1000");
        }

        if (query.FromId is not null && (query.StartTime is not null || query.EndTime is not null))
        {
            throw new BinanceRequestRefusedException(BinanceErrorKind.InvalidParameter, "fromId", "cannot be sent with startTime or endTime");
        }

        if (query.StartTime is { } start && query.EndTime is { } end && end - start > TimeSpan.FromDays(7))
        {
            throw new BinanceRequestRefusedException(BinanceErrorKind.InvalidParameter, "endTime", "must be at most 7 days after startTime");
        }

        var request = SignedRequest(HttpMethod.Get, "fapi/v1/userTrades", 5)
            .Add("symbol", query.Symbol)
            .Add("orderId", query.OrderId)
            .Add("startTime", query.StartTime)
            .Add("endTime", query.EndTime)
            .Add("fromId", query.FromId)
            .Add("limit", query.Limit);
        var dto = await _transport.SendAsync(request, VenueJsonContext.Default.ListUserTradeDto, ct).ConfigureAwait(false);
        return dto.Select(BinanceParse.Trade).ToList();
    }
}
