using System.Runtime.CompilerServices;
using TradeEngine.Binance;
using TradeEngine.Binance.Errors;
using TradeEngine.Binance.Models;
using TradeEngine.Testing.Venue;

namespace TradeEngine.Funding.Tests.Support;

/// <summary>
/// Funding's venue client with one symbol's funding history unreadable: GetFundingRateHistoryPagedAsync for it fails
/// as the real client does on a malformed answer (<see cref="BinanceProtocolException"/>); every other call goes to the
/// real client.
/// </summary>
public sealed class FailingHistoryVenue
{
    private int _failures;

    /// <summary>How often the symbol's history was asked for and failed.</summary>
    public int Failures => Volatile.Read(ref _failures);

    public static IBinanceClient Wrap(IBinanceClient inner, string symbol, out FailingHistoryVenue failing)
    {
        var counter = failing = new FailingHistoryVenue();
        return VenueProxy.Wrap(inner, (method, args, call) =>
        {
            if (method.Name == nameof(IBinanceClient.GetFundingRateHistoryPagedAsync) && args is [string asked, ..] && asked == symbol)
            {
                Interlocked.Increment(ref counter._failures);
                return Unreadable(asked);
            }

            return call();
        });
    }

    private static async IAsyncEnumerable<FundingRateEntry> Unreadable(string symbol, [EnumeratorCancellation] CancellationToken ct = default)
    {
        await Task.Yield();
        ct.ThrowIfCancellationRequested();
        throw new BinanceProtocolException("fundingRate", "0.markPrice", $"{symbol}: not a price");
#pragma warning disable CS0162 // an async iterator needs a yield to be one
        yield break;
#pragma warning restore CS0162
    }
}
