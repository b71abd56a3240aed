using System.Globalization;
using TradeEngine.Binance.Models;
using TradeEngine.Domain;

namespace TradeEngine.Binance.Internal;

/// <summary>Wire text ↔ values: strict decimals (through Domain's parser), enum names, epoch milliseconds.</summary>
internal static class VenueText
{
    public static string Format(decimal value) => DecimalText.Format(value);

    public static bool TryParseDecimal(string? text, out decimal value, out string? error) =>
        DecimalText.TryParse(text, out value, out error);

    public static string Millis(DateTimeOffset time) => time.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture);

    public static DateTimeOffset FromMillis(long ms) => DateTimeOffset.FromUnixTimeMilliseconds(ms);

    public static string Side(OrderSide side) => side == OrderSide.Buy ? "BUY" : "SELL";

    public static string Type(OrderType type) => type == OrderType.Market ? "MARKET" : "LIMIT";

    public static string Type(ConditionalOrderType type) => type == ConditionalOrderType.StopMarket ? "STOP_MARKET" : "TAKE_PROFIT_MARKET";

    public static string Tif(TimeInForce tif) => tif switch
    {
        TimeInForce.Gtc => "GTC",
        TimeInForce.Ioc => "IOC",
        TimeInForce.Fok => "FOK",
        TimeInForce.Gtx => "GTX",
        _ => throw new ArgumentOutOfRangeException(nameof(tif)),
    };

    public static string Working(WorkingType type) => type == WorkingType.MarkPrice ? "MARK_PRICE" : "CONTRACT_PRICE";

    public static string Margin(MarginType type) => type == MarginType.Isolated ? "ISOLATED" : "CROSSED";

    public static string Income(IncomeType type) => type switch
    {
        IncomeType.Transfer => "TRANSFER",
        IncomeType.RealizedPnl => "REALIZED_PNL",
        IncomeType.FundingFee => "FUNDING_FEE",
        IncomeType.Commission => "COMMISSION",
        IncomeType.InsuranceClear => "INSURANCE_CLEAR",
        IncomeType.InternalTransfer => "INTERNAL_TRANSFER",
        IncomeType.CrossCollateralTransfer => "CROSS_COLLATERAL_TRANSFER",
        IncomeType.StrategyUmFuturesTransfer => "STRATEGY_UMFUTURES_TRANSFER",
        IncomeType.CoinSwapDeposit => "COIN_SWAP_DEPOSIT",
        IncomeType.CoinSwapWithdraw => "COIN_SWAP_WITHDRAW",
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "not a queryable income type"),
    };
}
