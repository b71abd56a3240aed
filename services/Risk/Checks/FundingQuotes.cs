using Grpc.Core;
using TradeEngine.Domain;
using TradeEngine.Domain.Funding;
using TradeEngine.Funding.V1;

namespace TradeEngine.Risk.Checks;

/// <summary>The current funding rate and interval of a symbol, from the Funding service.</summary>
public readonly record struct FundingQuote(decimal Rate, int IntervalHours);

public interface IFundingQuotes
{
    /// <summary>Null when Funding cannot be reached: the preview then leaves its funding fields empty.</summary>
    Task<FundingQuote?> GetAsync(Symbol symbol, CancellationToken cancellationToken);
}

public sealed partial class FundingServiceQuotes(FundingService.FundingServiceClient funding, ILogger<FundingServiceQuotes> logger) : IFundingQuotes
{
    public async Task<FundingQuote?> GetAsync(Symbol symbol, CancellationToken cancellationToken)
    {
        try
        {
            var rate = await funding.GetCurrentRateAsync(new GetCurrentRateRequest { Symbol = symbol.Value }, cancellationToken: cancellationToken)
                .ConfigureAwait(false);
            // Funding's figures are checked here, where they arrive: an interval that is no funding schedule (0, or 5 h)
            // is Funding's fault, not the caller's, and leaves the preview's funding fields empty like an outage does.
            var schedule = new FundingSchedule(rate.FundingIntervalHours);
            // The rate a settlement charges: within the symbol's cap and floor when Funding knows them, as Execution's
            // estimate (Funding's EstimateDailyCost) takes it. The bare rate overstated the preview's cost past the cap.
            var cap = string.IsNullOrEmpty(rate.RateCap) ? (decimal?)null : DecimalText.Parse(rate.RateCap, "rate_cap");
            var floor = string.IsNullOrEmpty(rate.RateFloor) ? (decimal?)null : DecimalText.Parse(rate.RateFloor, "rate_floor");
            return new FundingQuote(FundingMath.ClampRate(DecimalText.Parse(rate.FundingRate, "funding_rate"), cap, floor), schedule.IntervalHours);
        }
        catch (Exception ex) when (ex is RpcException or HttpRequestException or InvalidOperationException or DomainException)
        {
            LogUnavailable(logger, symbol.Value, ex.Message);
            return null;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Funding rate of {Symbol} unavailable for a preview: {Error}")]
    private static partial void LogUnavailable(ILogger logger, string symbol, string error);
}
