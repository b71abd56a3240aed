using Grpc.Core;
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
    // The start of a derived id that had to be hashed to fit the venue's pattern.
    private const string DerivedHashPrefix = "ex-";

    /// <summary>A client order id becomes the venue's newClientOrderId as it is, so it must match the venue's pattern.</summary>
    public static string ClientOrderId(string? value, string field = "client_order_id")
    {
        if (string.IsNullOrEmpty(value))
        {
            throw new RequestValidationException(field, "is required");
        }

        if (!ClientOrderIds.IsValid(value))
        {
            throw new RequestValidationException(field, "must match ^[.A-Z:/a-z0-9_-]{1,36}$ (the venue's client order id pattern)");
        }

        // Reserved: the venue client sends an id starting "te-" as a hash of it (so a lookup by the id as given would
        // miss the order and a retry would place it again), and "ex-" and ':' mark the ids this service derives
        // (protective orders, emergency closes), which a caller's own id must never collide with.
        return value.StartsWith(ClientOrderIds.HashedPrefix, StringComparison.Ordinal) || value.StartsWith(DerivedHashPrefix, StringComparison.Ordinal)
            || value.Contains(':', StringComparison.Ordinal)
            ? throw new RequestValidationException(field, "must not start with 'te-' or 'ex-' or contain ':' (reserved for ids the service derives)")
            : value;
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
    /// An order the venue has ended (expired, expired in match, cancelled or rejected) with part or all of it unfilled:
    /// nothing more will fill under it, so what it was placed for must be tried again under another id.
    /// </summary>
    public static bool EndedUnfilled(OrderInfo order)
    {
        ArgumentNullException.ThrowIfNull(order);
        return order.Status is OrderStatus.Expired or OrderStatus.ExpiredInMatch or OrderStatus.Canceled or OrderStatus.Rejected
            && order.ExecutedQty < order.OrigQty;
    }

    /// <summary>
    /// Refuses to resume <paramref name="existing"/> (found at the venue under the caller's client order id) as the order
    /// this request would place when it is a different order: the id was used before for something else, and acting
    /// on that order as if it were this one would record a fill that never happened.
    /// </summary>
    public static void RequireSameOrder(OrderInfo existing, string clientOrderId, OrderSide? side, bool reduceOnly, decimal? quantity)
    {
        ArgumentNullException.ThrowIfNull(existing);
        var same = string.Equals(existing.Type, "MARKET", StringComparison.Ordinal)
            && existing.ReduceOnly == reduceOnly
            && (side is null || existing.Side == side)
            && (quantity is null || existing.OrigQty == quantity);
        if (!same)
        {
            throw new RpcException(new Status(StatusCode.AlreadyExists,
                $"client_order_id: '{clientOrderId}' is already used at the venue by a different order " +
                $"({existing.Side.ToString().ToUpperInvariant()} {existing.Type} {Wire.Format(existing.OrigQty)}{(existing.ReduceOnly ? " reduce-only" : string.Empty)}); use a new id"));
        }
    }

    /// <summary>The longest idempotency key Risk and the Ledger accept.</summary>
    public const int MaxCalleeKeyLength = 128;

    /// <summary>
    /// A key for Risk or the Ledger (at most <see cref="MaxCalleeKeyLength"/> characters) made of a caller's key and the
    /// prefix or suffix Execution adds: as it is when it fits, else its first characters, '#' and the SHA-256 of the
    /// whole in hex. The same text always gives the same key, so a retry still finds its first write; before, a caller's
    /// key near the 128 it may be went over the callee's limit with the prefix, and the call was refused every time.
    /// </summary>
    public static string CalleeKey(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (key.Length <= MaxCalleeKeyLength)
        {
            return key;
        }

        var hash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(key)));
        return key[..(MaxCalleeKeyLength - hash.Length - 1)] + "#" + hash;
    }

    /// <summary>
    /// A venue client order id derived from a key and a purpose, valid for the venue's pattern however long the key:
    /// "key:purpose" when it fits, else "ex-" and 32 base64url characters of its SHA-256. The result passes through
    /// the venue client's own derivation unchanged, so looking the order up by it finds the order placed with it.
    /// </summary>
    public static string Derived(string key, string purpose)
    {
        var text = key + ":" + purpose;
        if (ClientOrderIds.IsValid(text) && !text.StartsWith(ClientOrderIds.HashedPrefix, StringComparison.Ordinal))
        {
            return text;
        }

        var hash = System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(text));
        return DerivedHashPrefix + System.Buffers.Text.Base64Url.EncodeToString(hash.AsSpan(0, 24));
    }
}
