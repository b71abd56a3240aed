using TradeEngine.Common.V1;
using TradeEngine.Funding.V1;
using TradeEngine.ServiceDefaults.Grpc;

namespace TradeEngine.Execution.Positions;

/// <summary>The funding rate (within the symbol's cap and floor) and the estimated daily cost of a position (positive when we pay), with Funding's warnings.</summary>
public sealed record FundingQuote(string Rate, string DailyCost, IReadOnlyList<string> Warnings)
{
    public static async Task<FundingQuote> GetAsync(
        FundingService.FundingServiceClient funding, string symbol, Side side, decimal quantity, CancellationToken ct)
    {
        // One call: the estimate carries the rate it was computed at (the current rate within the symbol's cap and floor).
        var daily = await funding.EstimateDailyCostAsync(
            new EstimateDailyCostRequest { Symbol = symbol, Side = side, Quantity = Wire.Format(quantity) }, cancellationToken: ct).ConfigureAwait(false);
        var warnings = new List<string>(daily.Warnings);
        if (daily.HighFundingWarning && warnings.Count == 0)
        {
            warnings.Add($"High funding cost: estimated {daily.DailyCost} USDT a day at rate {daily.FundingRate} (threshold {daily.WarningThreshold})");
        }

        return new FundingQuote(daily.FundingRate, daily.DailyCost, warnings);
    }
}
