using TradeEngine.Binance.Models;
using TradeEngine.Domain;
using TradeEngine.Domain.Funding;
using TradeEngine.Domain.Instruments;

namespace TradeEngine.Binance.Instruments;

/// <summary>
/// Pure: the three venue reads joined into Domain instruments. A symbol needs filters (exchangeInfo) and brackets
/// (leverageBracket); fundingInfo lists only symbols whose funding was adjusted, so one absent there funds every
/// 8 hours with cap and floor unknown, as Binance documents. A symbol Domain cannot model (text outside A-Z0-9, a
/// bracket table that breaks continuity, an interval that does not divide 24 h) or whose fundingInfo entry was
/// malformed (<see cref="FundingInfoList.Refused"/>) is left out and reported.
/// </summary>
public static class VenueInstrumentBuilder
{
    /// <summary>Binance's default funding interval for a symbol absent from fundingInfo.</summary>
    public const int DefaultFundingIntervalHours = 8;

    public const string BracketSource = "venue GET /fapi/v1/leverageBracket";

    public static IReadOnlyList<Instrument> Build(
        ExchangeInfo exchange,
        IReadOnlyList<SymbolBrackets> brackets,
        IReadOnlyList<FundingInfo> funding,
        DateTimeOffset now,
        ICollection<(string Symbol, string Reason)>? skipped = null)
    {
        ArgumentNullException.ThrowIfNull(exchange);
        ArgumentNullException.ThrowIfNull(brackets);
        ArgumentNullException.ThrowIfNull(funding);
        var bracketsBySymbol = brackets.GroupBy(b => b.Symbol, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        var fundingBySymbol = funding.GroupBy(f => f.Symbol, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        // A symbol whose fundingInfo entry was malformed is left out: taken as absent there, it would fund every 8 hours
        // with no cap or floor, which the venue did not say.
        var refusedFunding = (funding as FundingInfoList)?.Refused
            .GroupBy(r => r.Symbol, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First().Reason, StringComparer.Ordinal);
        var takenAt = DateOnly.FromDateTime(now.UtcDateTime);
        var result = new List<Instrument>(exchange.Symbols.Count);
        foreach (var info in exchange.Symbols)
        {
            if (!Symbol.TryParse(info.Symbol, out var symbol))
            {
                skipped?.Add((info.Symbol, "is not a symbol of A-Z and 0-9"));
                continue;
            }

            if (refusedFunding is not null && refusedFunding.TryGetValue(info.Symbol, out var fundingProblem))
            {
                skipped?.Add((info.Symbol, $"its fundingInfo entry is malformed ({fundingProblem})"));
                continue;
            }

            if (!bracketsBySymbol.TryGetValue(info.Symbol, out var table) || table.Brackets.Count == 0)
            {
                skipped?.Add((info.Symbol, "has no leverage brackets"));
                continue;
            }

            try
            {
                var terms = fundingBySymbol.GetValueOrDefault(info.Symbol);
                result.Add(new Instrument(
                    symbol,
                    info.Filters,
                    new BracketTable(symbol, takenAt, BracketSource, table.Brackets),
                    new FundingSchedule(terms?.FundingIntervalHours ?? DefaultFundingIntervalHours),
                    terms?.AdjustedFundingRateCap,
                    terms?.AdjustedFundingRateFloor)
                {
                    BaseAsset = info.BaseAsset,
                    Status = info.Status,
                    MinPrice = info.MinPrice > 0m ? info.MinPrice : null,
                    MaxPrice = info.MaxPrice > 0m ? info.MaxPrice : null,
                    QuoteAsset = string.IsNullOrEmpty(info.QuoteAsset) ? Money.Usdt : info.QuoteAsset,
                    // As the venue says, empty when it did not: an instrument only states USDT and PERPETUAL when the
                    // venue did (Instrument.NotOpenedReason refuses opens on anything else).
                    MarginAsset = info.MarginAsset,
                    ContractType = info.ContractType,
                });
            }
            catch (DomainException ex)
            {
                skipped?.Add((info.Symbol, ex.Message));
            }
        }

        return result;
    }
}
