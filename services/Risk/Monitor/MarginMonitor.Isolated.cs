using TradeEngine.Domain;
using TradeEngine.Domain.Margin;
using TradeEngine.Risk.Mapping;

namespace TradeEngine.Risk.Monitor;

/// <summary>The margin judged as the venue liquidates: the cross margin as one, each isolated position on its own.</summary>
/// <param name="Health">The worst of them: the higher action, then the lower ratio.</param>
/// <param name="Symbol">The isolated position whose own margin is the worst; null when the cross margin is.</param>
/// <param name="Equity">The equity the ratio is of: the cross margin balance, or the isolated position's.</param>
/// <param name="Maintenance">The maintenance margin the ratio is of.</param>
public readonly record struct MarginPicture(MarginHealthResult Health, string? Symbol, decimal Equity, decimal Maintenance);

// MarginMonitor's reading of an account with isolated positions.
public sealed partial class MarginMonitor
{
    /// <summary>
    /// The venue liquidates an isolated position when its own wallet plus its unrealized PnL falls to its maintenance
    /// margin, whatever the rest of the account holds, and the cross positions when the cross margin balance (the wallet
    /// without the isolated wallets, plus the cross positions' unrealized PnL) falls to theirs (Binance, "Liquidation Price
    /// of USDⓈ-M Futures"). Each is judged by the plan's ratio and thresholds, and the worst stands for the account. Before,
    /// only the account's totals were judged: an isolated position of 120 USDT in an account of 10,000 had a ratio in
    /// the thousands at its own liquidation price, and no alert went out before the venue liquidated it.
    /// </summary>
    /// <remarks>
    /// An isolated position's part is at worst Reduce, never LiquidateAll: its loss is bounded by its own wallet, so its
    /// liquidation is no call to flatten the account and latch the kill switch. Its Reduce alert names it, and Execution
    /// closes it (halving it would not move its ratio: the venue releases its margin in proportion). Its maintenance margin
    /// is its notional at the mark in its symbol's brackets. One without a wallet (a snapshot that sends none, or 0, which
    /// an open isolated position cannot hold), on a symbol the venue does not list, or past its symbol's last bracket stays
    /// in the account's totals, judged as before. The cross part is the cross positions' own unrealized PnL against the
    /// wallet without the isolated wallets; with no cross position it is Ok.
    /// </remarks>
    private async Task<MarginPicture> JudgeAsync(AccountView account, decimal buffer, CancellationToken cancellationToken)
    {
        var wallet = account.WalletBalance;
        var maintenance = account.MaintenanceMargin;
        var crossUnrealized = 0m;
        var crossPositions = 0;
        MarginPicture? worst = null;
        foreach (var p in account.Positions)
        {
            if (p.SignedSize == 0m)
            {
                continue;
            }

            if (p.MarginType == MarginType.Isolated && p.IsolatedWallet is { } own
                && await IsolatedMaintenanceAsync(p, cancellationToken).ConfigureAwait(false) is { } positionMaintenance)
            {
                var health = MarginHealth.Evaluate(own, p.UnrealizedPnl, positionMaintenance, buffer);
                if (health.Action == MarginAction.LiquidateAll)
                {
                    health = health with { Action = MarginAction.Reduce };
                }

                worst = Worse(worst, new MarginPicture(health, p.Symbol.Value, own + p.UnrealizedPnl, positionMaintenance));
                wallet -= own;
                maintenance -= positionMaintenance;
                continue;
            }

            crossUnrealized += p.UnrealizedPnl;
            crossPositions++;
        }

        if (worst is null)
        {
            return new MarginPicture(MarginHealth.Evaluate(account.WalletBalance, account.UnrealizedPnl, account.MaintenanceMargin, buffer), null,
                account.Equity, account.MaintenanceMargin);
        }

        // The venue's total maintenance margin and the brackets' figures for the isolated positions may differ in the last
        // digits: what is left for the cross positions is never below 0, and with none of them there is nothing to judge.
        maintenance = crossPositions == 0 ? 0m : Math.Max(0m, maintenance);
        var cross = new MarginPicture(MarginHealth.Evaluate(wallet, crossUnrealized, maintenance, buffer), null, wallet + crossUnrealized, maintenance);
        return Worse(cross, worst.Value)!.Value;
    }

    /// <summary>An isolated position's maintenance margin at its mark; null when it cannot be had (never fails the tick).</summary>
    private async Task<decimal?> IsolatedMaintenanceAsync(PositionView p, CancellationToken cancellationToken)
    {
        try
        {
            return await instruments.MaintenanceAtMarkAsync(p, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            // The catalog cannot be read now: judged in the totals this tick.
            LogStepFailed(logger, ex.GetType().Name, ex.Message);
            return null;
        }
    }

    private static MarginPicture? Worse(MarginPicture? a, MarginPicture b)
    {
        if (a is not { } x)
        {
            return b;
        }

        if (x.Health.Action != b.Health.Action)
        {
            return x.Health.Action > b.Health.Action ? x : b;
        }

        // The same action: the lower ratio (none, nothing open, is the best).
        return (x.Health.Ratio, b.Health.Ratio) switch
        {
            (null, _) => b,
            (_, null) => x,
            ({ } rx, { } rb) => rx <= rb ? x : b,
        };
    }
}
