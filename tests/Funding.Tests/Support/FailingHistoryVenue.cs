using System.Reflection;
using System.Runtime.CompilerServices;
using TradeEngine.Binance;
using TradeEngine.Binance.Errors;
using TradeEngine.Binance.Models;

namespace TradeEngine.Funding.Tests.Support;

/// <summary>
/// Funding's venue client with one symbol's funding history unreadable: GetFundingRateHistoryPagedAsync for it fails
/// as the real client does on a malformed answer (<see cref="BinanceProtocolException"/>); every other call goes to the
/// real client. A <see cref="DispatchProxy"/>, so it follows <see cref="IBinanceClient"/> as it grows.
/// </summary>
public class FailingHistoryVenue : DispatchProxy
{
    private IBinanceClient _inner = null!;
    private string _symbol = "";
    private int _failures;

    /// <summary>How often the symbol's history was asked for and failed.</summary>
    public int Failures => Volatile.Read(ref _failures);

    public static IBinanceClient Wrap(IBinanceClient inner, string symbol, out FailingHistoryVenue proxy)
    {
        var client = Create<IBinanceClient, FailingHistoryVenue>();
        proxy = (FailingHistoryVenue)(object)client;
        proxy._inner = inner;
        proxy._symbol = symbol;
        return client;
    }

    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
    {
        ArgumentNullException.ThrowIfNull(targetMethod);
        if (targetMethod.Name == nameof(IBinanceClient.GetFundingRateHistoryPagedAsync) && args is [string symbol, ..] && symbol == _symbol)
        {
            Interlocked.Increment(ref _failures);
            return Unreadable(symbol);
        }

        try
        {
            return targetMethod.Invoke(_inner, args);
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(e.InnerException);
            throw;
        }
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
