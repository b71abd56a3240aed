using Grpc.Core;
using Microsoft.Extensions.Logging.Abstractions;
using TradeEngine.Domain;
using TradeEngine.Funding.V1;
using TradeEngine.Risk.Checks;

namespace TradeEngine.Risk.Tests.Checks;

/// <summary>
/// Funding's answer as the preview reads it. Funding is our own service, so these feed its client a canned answer
/// rather than start it: the point is what Risk does with figures Funding should never send.
/// </summary>
public sealed class FundingServiceQuotesTests
{
    [Theory]
    [InlineData(8)]
    [InlineData(4)]
    [InlineData(1)]
    public async Task GetAsync_AFundingSchedule_IsTheQuote(int hours)
    {
        var quote = await QuotesAnswering(hours).GetAsync(Symbol.Parse("BTCUSDT"), CancellationToken.None);

        Assert.Equal(new FundingQuote(0.0001m, hours), quote);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-8)]
    [InlineData(5)]
    [InlineData(48)]
    public async Task GetAsync_AnIntervalThatIsNoFundingSchedule_IsNoQuoteNotTheCallersError(int hours)
    {
        // Before, the interval went through unchecked and the preview refused the caller's request over it.
        var quote = await QuotesAnswering(hours).GetAsync(Symbol.Parse("BTCUSDT"), CancellationToken.None);

        Assert.Null(quote);
    }

    /// <summary>
    /// The rate a settlement charges is the symbol's rate within its cap and floor, as Execution's estimate takes it.
    /// Before, the preview costed the bare rate: 0.003 under a 0.001 cap showed three times what a settlement charges.
    /// </summary>
    [Theory]
    [InlineData("0.003", "0.001", "-0.001", "0.001")]
    [InlineData("-0.003", "0.001", "-0.001", "-0.001")]
    [InlineData("0.0005", "0.001", "-0.001", "0.0005")]
    [InlineData("0.003", "", "", "0.003")]
    public async Task GetAsync_ARateBeyondTheCapOrFloor_IsTheBoundASettlementCharges(string rate, string cap, string floor, string expected)
    {
        var quote = await QuotesAnswering(8, rate, cap, floor).GetAsync(Symbol.Parse("BTCUSDT"), CancellationToken.None);

        Assert.Equal(decimal.Parse(expected, System.Globalization.CultureInfo.InvariantCulture), quote!.Value.Rate);
    }

    private static FundingServiceQuotes QuotesAnswering(int intervalHours, string rate = "0.00010000", string cap = "", string floor = "") =>
        new(new FundingService.FundingServiceClient(new CannedAnswer(new GetCurrentRateResponse
        {
            Symbol = "BTCUSDT", FundingRate = rate, FundingIntervalHours = intervalHours, RateCap = cap, RateFloor = floor,
        })), NullLogger<FundingServiceQuotes>.Instance);

    /// <summary>Answers every unary call with one message.</summary>
    private sealed class CannedAnswer(GetCurrentRateResponse answer) : CallInvoker
    {
        public override AsyncUnaryCall<TResponse> AsyncUnaryCall<TRequest, TResponse>(
            Method<TRequest, TResponse> method, string? host, CallOptions options, TRequest request) =>
            new(Task.FromResult((TResponse)(object)answer.Clone()), Task.FromResult(new Metadata()), () => Status.DefaultSuccess, () => [], () => { });

        public override TResponse BlockingUnaryCall<TRequest, TResponse>(Method<TRequest, TResponse> method, string? host, CallOptions options, TRequest request) =>
            throw new NotSupportedException();

        public override AsyncServerStreamingCall<TResponse> AsyncServerStreamingCall<TRequest, TResponse>(
            Method<TRequest, TResponse> method, string? host, CallOptions options, TRequest request) => throw new NotSupportedException();

        public override AsyncClientStreamingCall<TRequest, TResponse> AsyncClientStreamingCall<TRequest, TResponse>(
            Method<TRequest, TResponse> method, string? host, CallOptions options) => throw new NotSupportedException();

        public override AsyncDuplexStreamingCall<TRequest, TResponse> AsyncDuplexStreamingCall<TRequest, TResponse>(
            Method<TRequest, TResponse> method, string? host, CallOptions options) => throw new NotSupportedException();
    }
}
