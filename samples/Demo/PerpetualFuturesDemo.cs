using System.Diagnostics;
using System.Globalization;
using Grpc.Core;
using TradeEngine.Common.V1;
using TradeEngine.Execution.V1;
using TradeEngine.Funding.V1;
using TradeEngine.Risk.V1;
using TradeEngine.ServiceDefaults.Grpc;

namespace TradeEngine.Demo;

/// <summary>
/// Opens 0.001 BTCUSDT long at 3x, shows entry, liquidation price and funding, makes the margin check a monitor pass
/// makes (Risk's GetMarginHealth on the account Execution reads from the venue), closes and prints the PnL: the plan's
/// examples/perpetual_futures_demo.py over gRPC, one trace across every service.
/// </summary>
/// <remarks>
/// It leaves nothing open: a step after the open that fails closes the position before the failure is reported, so a
/// later run does not find (and close, and report as its own) a position this one left behind. It reports success only
/// with the PnL: a close whose record the Ledger has not taken yet (its warning says so) is printed and ends with exit 1.
/// </remarks>
public sealed class PerpetualFuturesDemo(
    ExecutionService.ExecutionServiceClient execution,
    FundingService.FundingServiceClient funding,
    RiskService.RiskServiceClient risk)
{
    public const string SourceName = "TradeEngine.Demo";
    public const string Symbol = "BTCUSDT";
    public const string Size = "0.001";
    public const int Leverage = 3;
    private static readonly ActivitySource Source = new(SourceName);

    public async Task<int> RunAsync(TextWriter output, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(output);
        using var activity = Source.StartActivity("perpetual futures demo");
        var stamp = DateTimeOffset.UtcNow.ToString("yyyyMMddHHmmssfff", CultureInfo.InvariantCulture);

        await output.WriteLineAsync($"Opening long position on {Symbol}: {Size} at {Leverage}x...").ConfigureAwait(false);
        var opened = await RetryWhileUnavailableAsync(() => execution.OpenPositionAsync(new OpenPositionRequest
        {
            ClientOrderId = "demo-open-" + stamp,
            Symbol = Symbol,
            Side = Side.Long,
            Quantity = Size,
            Leverage = Leverage,
            MarginType = MarginType.Isolated,
            Strategy = "demo",
        }, cancellationToken: cancellationToken).ResponseAsync, cancellationToken).ConfigureAwait(false);
        if (opened.Denials.Count > 0)
        {
            await output.WriteLineAsync("Failed to open position; Risk refused it:").ConfigureAwait(false);
            foreach (var denial in opened.Denials)
            {
                await output.WriteLineAsync($"  {denial.Code}: {denial.Message}").ConfigureAwait(false);
            }

            return 1;
        }

        await output.WriteLineAsync(
            $"Position opened: entry {opened.EntryPrice}, liquidation {opened.LiquidationPrice}, funding rate {opened.FundingRate}, " +
            $"estimated daily funding {opened.EstimatedDailyFunding} USDT, fee {opened.Fee}").ConfigureAwait(false);
        foreach (var warning in opened.Warnings)
        {
            await output.WriteLineAsync("  warning: " + warning).ConfigureAwait(false);
        }

        var closeId = "demo-close-" + stamp;
        try
        {
            await ShowAsync(output, opened, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            // Whatever stopped it (a cancellation too, which gRPC reports as CANCELLED), the position is closed: with a
            // token of its own, and the original failure is what is thrown, not the close's.
            await output.WriteLineAsync($"Failed after the open ({ex.Message}); closing the position before stopping...").ConfigureAwait(false);
            try
            {
                await CloseAsync(closeId, "Demo failed after the open", CancellationToken.None).ConfigureAwait(false);
                await output.WriteLineAsync("Position closed.").ConfigureAwait(false);
            }
            catch (Exception closeFailure)
            {
                await output.WriteLineAsync($"The close failed too ({closeFailure.Message}): the position stands; close {Symbol} by hand.").ConfigureAwait(false);
            }

            throw;
        }

        await output.WriteLineAsync("Closing position...").ConfigureAwait(false);
        var closed = await CloseAsync(closeId, "Demo completed", cancellationToken).ConfigureAwait(false);
        await output.WriteLineAsync(
            $"Position closed: exit {closed.ExitPrice}, realized PnL {closed.RealizedPnl} USDT, fees {closed.Fees}, funding {closed.Funding}")
            .ConfigureAwait(false);
        foreach (var warning in closed.Warnings)
        {
            await output.WriteLineAsync("  warning: " + warning).ConfigureAwait(false);
        }

        if (string.IsNullOrEmpty(closed.RealizedPnl))
        {
            await output.WriteLineAsync("The close filled, but its PnL is not recorded yet (see the warning): the demo is not complete.").ConfigureAwait(false);
            return 1;
        }

        await output.WriteLineAsync("Demo complete!").ConfigureAwait(false);
        return 0;
    }

    /// <summary>The close, by symbol under the demo's id: a retry while Execution is unavailable is the same close.</summary>
    private Task<ClosePositionResponse> CloseAsync(string clientOrderId, string reason, CancellationToken cancellationToken) =>
        RetryWhileUnavailableAsync(() => execution.ClosePositionAsync(new ClosePositionRequest
        {
            ClientOrderId = clientOrderId,
            Symbol = Symbol,
            Reason = reason,
        }, cancellationToken: cancellationToken).ResponseAsync, cancellationToken);

    /// <summary>What the plan shows between the open and the close: the margin check and the funding analysis.</summary>
    private async Task ShowAsync(TextWriter output, OpenPositionResponse opened, CancellationToken cancellationToken)
    {
        await output.WriteLineAsync("Monitoring position...").ConfigureAwait(false);
        var account = await execution.GetAccountAsync(new GetAccountRequest(), cancellationToken: cancellationToken).ConfigureAwait(false);
        var snapshot = new AccountSnapshot
        {
            WalletBalance = account.WalletBalance,
            AvailableBalance = account.AvailableBalance,
            UnrealizedPnl = account.UnrealizedPnl,
            Equity = account.Equity,
            MaintenanceMargin = account.MaintenanceMargin,
        };
        var health = await risk.GetMarginHealthAsync(new GetMarginHealthRequest { Account = snapshot }, cancellationToken: cancellationToken)
            .ConfigureAwait(false);
        await output.WriteLineAsync(
            $"Margin health: {health.Action}, ratio {health.MarginRatio}, {health.Reason}; equity {account.Equity}, unrealized {account.UnrealizedPnl}")
            .ConfigureAwait(false);

        var rate = await funding.GetCurrentRateAsync(new GetCurrentRateRequest { Symbol = Symbol }, cancellationToken: cancellationToken).ConfigureAwait(false);
        var daily = await funding.EstimateDailyCostAsync(new EstimateDailyCostRequest
        {
            Symbol = Symbol, Side = Side.Long, Quantity = Size, Price = opened.EntryPrice,
        }, cancellationToken: cancellationToken).ConfigureAwait(false);
        await output.WriteLineAsync(
            $"Funding analysis: rate {rate.FundingRate} every {rate.FundingIntervalHours} h, daily cost {daily.DailyCost} USDT " +
            $"({daily.SettlementsPerDay} settlements)").ConfigureAwait(false);
    }

    /// <summary>
    /// Execution answers UNAVAILABLE until its first reconciliation, and RESOURCE_EXHAUSTED (with the delay) while the
    /// venue's rate limit holds its requests back: wait and ask again with the same client order id, for up to a minute
    /// (<paramref name="patience"/>, which the tests shorten); past it the last refusal is thrown.
    /// </summary>
    internal static async Task<T> RetryWhileUnavailableAsync<T>(Func<Task<T>> call, CancellationToken cancellationToken, TimeSpan? patience = null)
    {
        var deadline = DateTimeOffset.UtcNow + (patience ?? TimeSpan.FromMinutes(1));
        // Set once a wait is cut to the deadline: the call after it is the last. Before, a timer that fired a hair before
        // the wall clock reached the deadline let one more call go at once after it.
        var last = false;
        while (true)
        {
            try
            {
                return await call().ConfigureAwait(false);
            }
            catch (RpcException ex) when (ex.StatusCode is StatusCode.Unavailable or StatusCode.ResourceExhausted && !last && DateTimeOffset.UtcNow < deadline)
            {
                var delay = GrpcStatuses.RetryDelay(ex) is { } asked && asked > TimeSpan.FromSeconds(1) ? asked : TimeSpan.FromSeconds(1);
                var left = deadline - DateTimeOffset.UtcNow;
                last = delay >= left;
                await Task.Delay(last ? (left > TimeSpan.Zero ? left : TimeSpan.Zero) : delay, cancellationToken).ConfigureAwait(false);
            }
        }
    }
}
