using System.Globalization;
using TradeEngine.Binance.Errors;
using TradeEngine.Binance.Internal.Dto;
using TradeEngine.Binance.Models;
using MarginType = TradeEngine.Domain.MarginType;

namespace TradeEngine.Binance.Internal;

internal static partial class BinanceParse
{
    public static MarginType Margin(string endpoint, string? text) => text?.ToUpperInvariant() switch
    {
        "ISOLATED" => MarginType.Isolated,
        "CROSS" or "CROSSED" => MarginType.Cross,
        _ => throw new BinanceProtocolException(endpoint, "marginType", $"unknown margin type '{text}'"),
    };

    public static IncomeType Income(string? text) => text switch
    {
        "TRANSFER" => IncomeType.Transfer,
        "REALIZED_PNL" => IncomeType.RealizedPnl,
        "FUNDING_FEE" => IncomeType.FundingFee,
        "COMMISSION" => IncomeType.Commission,
        "INSURANCE_CLEAR" => IncomeType.InsuranceClear,
        "INTERNAL_TRANSFER" => IncomeType.InternalTransfer,
        "CROSS_COLLATERAL_TRANSFER" => IncomeType.CrossCollateralTransfer,
        "STRATEGY_UMFUTURES_TRANSFER" => IncomeType.StrategyUmFuturesTransfer,
        "COIN_SWAP_DEPOSIT" => IncomeType.CoinSwapDeposit,
        "COIN_SWAP_WITHDRAW" => IncomeType.CoinSwapWithdraw,
        _ => IncomeType.Other,
    };

    /// <summary>GET /fapi/v1/positionSide/dual: the flag must be a JSON boolean (missing or null is a protocol error).</summary>
    public static PositionMode PositionModeOf(PositionModeDto d) =>
        Required("positionSide/dual", "dualSidePosition", d.DualSidePosition) ? PositionMode.Hedge : PositionMode.OneWay;

    public static LeverageSetting Leverage(LeverageDto d)
    {
        const string ep = "leverage";
        return new LeverageSetting(Text(ep, "symbol", d.Symbol), Required(ep, "leverage", d.Leverage), Dec(ep, "maxNotionalValue", d.MaxNotionalValue));
    }

    public static PositionRisk Position(PositionRiskDto d)
    {
        const string ep = "positionRisk";
        if (!int.TryParse(d.Leverage, NumberStyles.None, CultureInfo.InvariantCulture, out var leverage))
        {
            throw new BinanceProtocolException(ep, "leverage", $"'{d.Leverage}' is not an integer");
        }

        return new PositionRisk(
            Text(ep, "symbol", d.Symbol),
            Dec(ep, "positionAmt", d.PositionAmt),
            Dec(ep, "entryPrice", d.EntryPrice),
            OptionalDec(ep, "breakEvenPrice", d.BreakEvenPrice) ?? 0m,
            Dec(ep, "markPrice", d.MarkPrice),
            Dec(ep, "unRealizedProfit", d.UnRealizedProfit),
            Dec(ep, "liquidationPrice", d.LiquidationPrice),
            leverage,
            Dec(ep, "maxNotionalValue", d.MaxNotionalValue),
            Margin(ep, d.MarginType),
            Dec(ep, "isolatedMargin", d.IsolatedMargin),
            OptionalDec(ep, "isolatedWallet", d.IsolatedWallet) ?? 0m,
            Dec(ep, "notional", d.Notional),
            d.PositionSide ?? "BOTH",
            Time(ep, "updateTime", d.UpdateTime));
    }

    public static AccountBalance Balance(BalanceDto d)
    {
        const string ep = "balance";
        return new AccountBalance(
            Text(ep, "asset", d.Asset),
            Dec(ep, "balance", d.Balance),
            Dec(ep, "crossWalletBalance", d.CrossWalletBalance),
            Dec(ep, "crossUnPnl", d.CrossUnPnl),
            Dec(ep, "availableBalance", d.AvailableBalance),
            Dec(ep, "maxWithdrawAmount", d.MaxWithdrawAmount),
            Time(ep, "updateTime", d.UpdateTime));
    }

    public static AccountInfo Account(AccountDto d)
    {
        const string ep = "account";
        var assets = (d.Assets ?? []).Select(a => new AccountBalance(
            Text(ep, "assets.asset", a.Asset),
            Dec(ep, "assets.walletBalance", a.WalletBalance),
            Dec(ep, "assets.crossWalletBalance", a.CrossWalletBalance),
            Dec(ep, "assets.crossUnPnl", a.CrossUnPnl),
            Dec(ep, "assets.availableBalance", a.AvailableBalance),
            Dec(ep, "assets.maxWithdrawAmount", a.MaxWithdrawAmount),
            Time(ep, "assets.updateTime", a.UpdateTime))).ToList();
        var positions = (d.Positions ?? []).Select(p => new AccountPosition(
            Text(ep, "positions.symbol", p.Symbol),
            p.PositionSide ?? "BOTH",
            Dec(ep, "positions.positionAmt", p.PositionAmt),
            Dec(ep, "positions.unrealizedProfit", p.UnrealizedProfit),
            Dec(ep, "positions.isolatedMargin", p.IsolatedMargin),
            Dec(ep, "positions.notional", p.Notional),
            Dec(ep, "positions.isolatedWallet", p.IsolatedWallet),
            Dec(ep, "positions.initialMargin", p.InitialMargin),
            Dec(ep, "positions.maintMargin", p.MaintMargin),
            Time(ep, "positions.updateTime", p.UpdateTime))).ToList();
        return new AccountInfo(
            Dec(ep, "totalInitialMargin", d.TotalInitialMargin),
            Dec(ep, "totalMaintMargin", d.TotalMaintMargin),
            Dec(ep, "totalWalletBalance", d.TotalWalletBalance),
            Dec(ep, "totalUnrealizedProfit", d.TotalUnrealizedProfit),
            Dec(ep, "totalMarginBalance", d.TotalMarginBalance),
            Dec(ep, "totalCrossWalletBalance", d.TotalCrossWalletBalance),
            Dec(ep, "availableBalance", d.AvailableBalance),
            Dec(ep, "maxWithdrawAmount", d.MaxWithdrawAmount),
            assets,
            positions);
    }

    public static IncomeEntry Income(IncomeDto d)
    {
        const string ep = "income";
        var raw = Text(ep, "incomeType", d.IncomeType);
        return new IncomeEntry(
            d.Symbol ?? "",
            Income(raw),
            raw,
            Dec(ep, "income", d.Income),
            Text(ep, "asset", d.Asset),
            d.Info ?? "",
            Time(ep, "time", d.Time),
            Required(ep, "tranId", d.TranId),
            d.TradeId ?? "");
    }
}
