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

    /// <summary>
    /// The quote for an order already at the venue (a resumed open): informational there, so a Funding that fails gives
    /// an empty rate and cost with a warning rather than failing the resume, which records the fill and places the
    /// stop-loss. A fresh open still waits for its quote (nothing is sent without it).
    /// </summary>
    public static async Task<FundingQuote> OrNoneAsync(Task<FundingQuote> quote)
    {
        ArgumentNullException.ThrowIfNull(quote);
        try
        {
            return await quote.ConfigureAwait(false);
        }
        catch (global::Grpc.Core.RpcException ex)
        {
            return new FundingQuote(string.Empty, string.Empty,
                [$"funding: no quote for this order ({ex.StatusCode}: {ex.Status.Detail}); the order was already at the venue, and is recorded and protected without one"]);
        }
    }
}
