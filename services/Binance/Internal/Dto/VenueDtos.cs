using System.Text.Json;
using System.Text.Json.Serialization;

namespace TradeEngine.Binance.Internal.Dto;

// Venue shapes, field names as Binance documents them. Decimals stay strings exactly as received; BinanceParse
// turns them into the public models. None of these types leaves the adapter. Numbers and flags are nullable so that
// a field the venue left out reads as missing (BinanceParse.Required refuses it, naming the field), never as 0 or false.

internal sealed record ErrorDto(int Code, string? Msg);

internal sealed record ServerTimeDto(long? ServerTime);

internal sealed record RateLimitDto(string? RateLimitType, string? Interval, int? IntervalNum, int? Limit);

internal sealed record FilterDto(
    string? FilterType,
    string? MinPrice,
    string? MaxPrice,
    string? TickSize,
    string? MinQty,
    string? MaxQty,
    string? StepSize,
    string? Notional,
    int? Limit);

internal sealed record SymbolDto(
    string? Symbol,
    string? Pair,
    string? ContractType,
    string? Status,
    string? BaseAsset,
    string? QuoteAsset,
    string? MarginAsset,
    int? PricePrecision,
    int? QuantityPrecision,
    string? LiquidationFee,
    string? MarketTakeBound,
    List<FilterDto>? Filters);

internal sealed record ExchangeInfoDto(string? Timezone, long? ServerTime, List<RateLimitDto>? RateLimits, List<SymbolDto>? Symbols);

internal sealed record PremiumIndexDto(
    string? Symbol,
    string? MarkPrice,
    string? IndexPrice,
    string? EstimatedSettlePrice,
    string? LastFundingRate,
    string? InterestRate,
    long? NextFundingTime,
    long? Time);

internal sealed record FundingRateDto(string? Symbol, string? FundingRate, long? FundingTime, string? MarkPrice);

internal sealed record FundingInfoDto(string? Symbol, string? AdjustedFundingRateCap, string? AdjustedFundingRateFloor, int? FundingIntervalHours);

internal sealed record TickerPriceDto(string? Symbol, string? Price, long? Time);

internal sealed record BracketDto(
    int? Bracket,
    int? InitialLeverage,
    [property: JsonConverter(typeof(RawTextConverter))] string? NotionalCap,
    [property: JsonConverter(typeof(RawTextConverter))] string? NotionalFloor,
    [property: JsonConverter(typeof(RawTextConverter))] string? MaintMarginRatio,
    [property: JsonConverter(typeof(RawTextConverter))] string? Cum);

internal sealed record SymbolBracketsDto(
    string? Symbol,
    [property: JsonConverter(typeof(RawTextConverter))] string? NotionalCoef,
    List<BracketDto>? Brackets);

/// <summary>
/// GET /fapi/v1/leverageBracket with a symbol. The documentation shows one object; the live API answers a one-element
/// array (reported in sieblyio/binance#310 and confirmed by that SDK's maintainer). Both shapes are read; anything else
/// is a protocol error.
/// </summary>
[JsonConverter(typeof(SymbolBracketsAnswerConverter))]
internal sealed record SymbolBracketsAnswerDto(List<SymbolBracketsDto> Items);

internal sealed class SymbolBracketsAnswerConverter : JsonConverter<SymbolBracketsAnswerDto>
{
    public override SymbolBracketsAnswerDto Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        reader.TokenType switch
        {
            JsonTokenType.StartArray => new(JsonSerializer.Deserialize(ref reader, VenueJsonContext.Default.ListSymbolBracketsDto)
                ?? throw new JsonException("leverageBracket: null array")),
            JsonTokenType.StartObject => new([JsonSerializer.Deserialize(ref reader, VenueJsonContext.Default.SymbolBracketsDto)
                ?? throw new JsonException("leverageBracket: null object")]),
            _ => throw new JsonException($"leverageBracket: expected an object or an array, got {reader.TokenType}"),
        };

    public override void Write(Utf8JsonWriter writer, SymbolBracketsAnswerDto value, JsonSerializerOptions options) =>
        throw new NotSupportedException("Venue answers are only read.");
}

internal sealed record OrderDto(
    string? Symbol,
    long? OrderId,
    string? ClientOrderId,
    string? Side,
    string? PositionSide,
    string? Type,
    string? OrigType,
    string? Status,
    string? TimeInForce,
    string? OrigQty,
    string? ExecutedQty,
    string? CumQty,
    string? CumQuote,
    string? Price,
    string? AvgPrice,
    string? StopPrice,
    bool? ReduceOnly,
    bool? ClosePosition,
    string? WorkingType,
    long? UpdateTime,
    long? Time);

internal sealed record AlgoOrderDto(
    long? AlgoId,
    string? ClientAlgoId,
    string? AlgoType,
    string? OrderType,
    string? Symbol,
    string? Side,
    string? PositionSide,
    string? TimeInForce,
    string? Quantity,
    string? AlgoStatus,
    string? TriggerPrice,
    string? Price,
    string? WorkingType,
    bool? ClosePosition,
    bool? PriceProtect,
    bool? ReduceOnly,
    long? CreateTime,
    long? UpdateTime,
    long? TriggerTime);

internal sealed record CodeMsgDto(int Code, string? Msg);

/// <summary>
/// DELETE /fapi/v1/algoOrder: the documented example sends "code" as a string ("200"), the cancel-all answers send a
/// number; either form is read (the order is cancelled by then, and a reading failure would hide that).
/// </summary>
internal sealed record AlgoCancelDto(long? AlgoId, string? ClientAlgoId, JsonElement Code, string? Msg);

internal sealed record LeverageDto(int? Leverage, string? MaxNotionalValue, string? Symbol);

/// <summary>GET /fapi/v1/positionSide/dual: true is hedge mode, false one-way.</summary>
internal sealed record PositionModeDto(bool? DualSidePosition);

internal sealed record PositionRiskDto(
    string? Symbol,
    string? PositionAmt,
    string? EntryPrice,
    string? BreakEvenPrice,
    string? MarkPrice,
    string? UnRealizedProfit,
    string? LiquidationPrice,
    string? Leverage,
    string? MaxNotionalValue,
    string? MarginType,
    string? IsolatedMargin,
    string? IsAutoAddMargin,
    string? PositionSide,
    string? Notional,
    string? IsolatedWallet,
    long? UpdateTime);

internal sealed record BalanceDto(
    string? AccountAlias,
    string? Asset,
    string? Balance,
    string? CrossWalletBalance,
    string? CrossUnPnl,
    string? AvailableBalance,
    string? MaxWithdrawAmount,
    bool? MarginAvailable,
    long? UpdateTime);

internal sealed record AccountAssetDto(
    string? Asset,
    string? WalletBalance,
    string? UnrealizedProfit,
    string? MarginBalance,
    string? MaintMargin,
    string? InitialMargin,
    string? PositionInitialMargin,
    string? OpenOrderInitialMargin,
    string? CrossWalletBalance,
    string? CrossUnPnl,
    string? AvailableBalance,
    string? MaxWithdrawAmount,
    long? UpdateTime);

internal sealed record AccountPositionDto(
    string? Symbol,
    string? PositionSide,
    string? PositionAmt,
    string? UnrealizedProfit,
    string? IsolatedMargin,
    string? Notional,
    string? IsolatedWallet,
    string? InitialMargin,
    string? MaintMargin,
    long? UpdateTime);

internal sealed record AccountDto(
    string? TotalInitialMargin,
    string? TotalMaintMargin,
    string? TotalWalletBalance,
    string? TotalUnrealizedProfit,
    string? TotalMarginBalance,
    string? TotalPositionInitialMargin,
    string? TotalOpenOrderInitialMargin,
    string? TotalCrossWalletBalance,
    string? TotalCrossUnPnl,
    string? AvailableBalance,
    string? MaxWithdrawAmount,
    List<AccountAssetDto>? Assets,
    List<AccountPositionDto>? Positions);

internal sealed record IncomeDto(
    string? Symbol,
    string? IncomeType,
    string? Income,
    string? Asset,
    string? Info,
    long? Time,
    long? TranId,
    string? TradeId);

internal sealed record UserTradeDto(
    bool? Buyer,
    string? Commission,
    string? CommissionAsset,
    long? Id,
    bool? Maker,
    long? OrderId,
    string? Price,
    string? Qty,
    string? QuoteQty,
    string? RealizedPnl,
    string? Side,
    string? PositionSide,
    string? Symbol,
    long? Time);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, NumberHandling = JsonNumberHandling.Strict)]
[JsonSerializable(typeof(ErrorDto))]
[JsonSerializable(typeof(ServerTimeDto))]
[JsonSerializable(typeof(ExchangeInfoDto))]
[JsonSerializable(typeof(PremiumIndexDto))]
[JsonSerializable(typeof(List<PremiumIndexDto>))]
[JsonSerializable(typeof(List<FundingRateDto>))]
[JsonSerializable(typeof(List<FundingInfoDto>))]
[JsonSerializable(typeof(TickerPriceDto))]
[JsonSerializable(typeof(List<SymbolBracketsDto>))]
[JsonSerializable(typeof(SymbolBracketsDto))]
[JsonSerializable(typeof(SymbolBracketsAnswerDto))]
[JsonSerializable(typeof(OrderDto))]
[JsonSerializable(typeof(List<OrderDto>))]
[JsonSerializable(typeof(AlgoOrderDto))]
[JsonSerializable(typeof(List<AlgoOrderDto>))]
[JsonSerializable(typeof(CodeMsgDto))]
[JsonSerializable(typeof(AlgoCancelDto))]
[JsonSerializable(typeof(LeverageDto))]
[JsonSerializable(typeof(PositionModeDto))]
[JsonSerializable(typeof(List<PositionRiskDto>))]
[JsonSerializable(typeof(List<BalanceDto>))]
[JsonSerializable(typeof(AccountDto))]
[JsonSerializable(typeof(List<IncomeDto>))]
[JsonSerializable(typeof(List<UserTradeDto>))]
internal sealed partial class VenueJsonContext : JsonSerializerContext;
