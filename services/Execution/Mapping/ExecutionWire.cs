using TradeEngine.Binance.Models;
using TradeEngine.Binance.Signing;
using TradeEngine.ServiceDefaults.Grpc;
using CommonMarginType = TradeEngine.Common.V1.MarginType;
using CommonSide = TradeEngine.Common.V1.Side;
using DomainMarginType = TradeEngine.Domain.MarginType;
using DomainSide = TradeEngine.Domain.Side;
using TradeSide = TradeEngine.Ledger.V1.TradeSide;

namespace TradeEngine.Execution.Mapping;

/// <summary>Proto ↔ Domain ↔ venue conversions used by every handler.</summary>
public static class ExecutionWire
{
    /// <summary>A client order id becomes the venue's newClientOrderId as it is, so it must match the venue's pattern.</summary>
    public static string ClientOrderId(string? value, string field = "client_order_id")
    {
        if (string.IsNullOrEmpty(value))
        {
            throw new RequestValidationException(field, "is required");
        }

        return ClientOrderIds.IsValid(value)
            ? value
            : throw new RequestValidationException(field, "must match ^[.A-Z:/a-z0-9_-]{1,36}$ (the venue's client order id pattern)");
    }

    public static DomainSide Side(CommonSide side, string field) => Wire.Enum(side, field) == CommonSide.Long ? DomainSide.Long : DomainSide.Short;

    public static CommonSide Side(DomainSide side) => side == DomainSide.Long ? CommonSide.Long : CommonSide.Short;

    public static CommonSide SideOfSize(decimal signedSize) => signedSize >= 0 ? CommonSide.Long : CommonSide.Short;

    public static DomainMarginType MarginType(CommonMarginType marginType, string field) =>
        Wire.Enum(marginType, field) == CommonMarginType.Isolated ? DomainMarginType.Isolated : DomainMarginType.Cross;

    public static CommonMarginType MarginType(DomainMarginType marginType) =>
        marginType == DomainMarginType.Isolated ? CommonMarginType.Isolated : CommonMarginType.Cross;

    /// <summary>The order side that opens <paramref name="side"/>.</summary>
    public static OrderSide OpeningOrder(DomainSide side) => side == DomainSide.Long ? OrderSide.Buy : OrderSide.Sell;

    /// <summary>The order side that closes <paramref name="side"/>.</summary>
    public static OrderSide ClosingOrder(DomainSide side) => side == DomainSide.Long ? OrderSide.Sell : OrderSide.Buy;

    public static TradeSide Trade(OrderSide side) => side == OrderSide.Buy ? TradeSide.Buy : TradeSide.Sell;

    /// <summary>
    /// A venue client order id derived from a key and a purpose, valid for the venue's pattern however long the key:
    /// "key:purpose" when it fits, else "ex-" and 32 base64url characters of its SHA-256. The result passes through
    /// the venue client's own derivation unchanged, so looking the order up by it finds the order placed with it.
    /// </summary>
    public static string Derived(string key, string purpose)
    {
        var text = key + ":" + purpose;
        if (ClientOrderIds.IsValid(text) && !text.StartsWith("te-", StringComparison.Ordinal))
        {
            return text;
        }

        var hash = System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(text));
        return "ex-" + System.Buffers.Text.Base64Url.EncodeToString(hash.AsSpan(0, 24));
    }
}
