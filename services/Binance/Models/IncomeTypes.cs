namespace TradeEngine.Binance.Models;

/// <summary>What an income type means for the account's PnL.</summary>
public static class IncomeTypes
{
    /// <summary>
    /// The capital flows of Binance's USD-M income (GET /fapi/v1/income): money moved into (positive) or out of
    /// (negative) the futures wallet, not earned or lost by trading. TRANSFER (another wallet of the account),
    /// INTERNAL_TRANSFER (another account, e.g. a sub-account), CROSS_COLLATERAL_TRANSFER, STRATEGY_UMFUTURES_TRANSFER
    /// (a strategy sub-account), COIN_SWAP_DEPOSIT and COIN_SWAP_WITHDRAW. Everything else (REALIZED_PNL, FUNDING_FEE,
    /// COMMISSION, INSURANCE_CLEAR, rebates, bonuses, types not named here) is PnL.
    /// </summary>
    public static IReadOnlyList<IncomeType> CapitalFlows { get; } =
    [
        IncomeType.Transfer,
        IncomeType.InternalTransfer,
        IncomeType.CrossCollateralTransfer,
        IncomeType.StrategyUmFuturesTransfer,
        IncomeType.CoinSwapDeposit,
        IncomeType.CoinSwapWithdraw,
    ];

    /// <summary>True when <paramref name="type"/> is one of <see cref="CapitalFlows"/>: money moved, not PnL.</summary>
    public static bool IsCapitalFlow(IncomeType type) => type is
        IncomeType.Transfer or
        IncomeType.InternalTransfer or
        IncomeType.CrossCollateralTransfer or
        IncomeType.StrategyUmFuturesTransfer or
        IncomeType.CoinSwapDeposit or
        IncomeType.CoinSwapWithdraw;
}
