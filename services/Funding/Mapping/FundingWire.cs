using System.Globalization;
using System.Numerics;
using TradeEngine.Domain;
using TradeEngine.ServiceDefaults.Grpc;

namespace TradeEngine.Funding.Mapping;

/// <summary>Proto ↔ Domain for the funding contract.</summary>
public static class FundingWire
{
    public const int MaxSettlements = 10_000;
    public const int MaxHorizonHours = 8_784;
    public const int DefaultPageSize = 100;

    /// <summary>
    /// The largest position value (quantity × price, USDT) an estimate is computed for: a thousand trillion, beyond any
    /// account, and small enough that cost × rate × settlements stays inside decimal.
    /// </summary>
    public const decimal MaxNotional = 1_000_000_000_000_000m;

    /// <summary>Refuses a quantity whose value at <paramref name="price"/> is beyond <see cref="MaxNotional"/>, naming the quantity.</summary>
    public static void CheckNotional(decimal quantity, decimal price, string field = "quantity")
    {
        decimal notional;
        try
        {
            notional = quantity * price;
        }
        catch (OverflowException)
        {
            notional = decimal.MaxValue;
        }

        if (notional > MaxNotional)
        {
            throw new RequestValidationException(field, $"is too large: quantity × price must be at most {MaxNotional.ToString(CultureInfo.InvariantCulture)} USDT");
        }
    }
    public const int MaxPageSize = 1_000;

    public static Symbol Symbol(string? text, string field = "symbol") =>
        Domain.Symbol.TryParse(text, out var symbol)
            ? symbol
            : throw new RequestValidationException(field, "must be 1 to 20 characters of A-Z and 0-9");

    public static Side Side(Common.V1.Side side, string field = "side") => Wire.Enum(side, field) switch
    {
        Common.V1.Side.Long => Domain.Side.Long,
        Common.V1.Side.Short => Domain.Side.Short,
        _ => throw new RequestValidationException(field, "is not a known value"),
    };

    /// <summary>
    /// signedSize × price × rate × settlements exactly, as decimal text: computed on the inputs' integer mantissas, so no
    /// digit is lost however many the product needs (decimal arithmetic keeps 28 to 29 significant digits and rounds the
    /// rest away silently: 100.00000001 × 65,000.00000001 × 0.01234567 lost its last digit).
    /// </summary>
    public static string ExactCost(decimal signedSize, decimal price, decimal rate, int settlements)
    {
        var (size, sizeScale) = Parts(signedSize);
        var (p, priceScale) = Parts(price);
        var (r, rateScale) = Parts(rate);
        var product = size * p * r * settlements;
        var scale = sizeScale + priceScale + rateScale;
        if (product.IsZero)
        {
            return "0";
        }

        var digits = BigInteger.Abs(product).ToString(CultureInfo.InvariantCulture);
        var trailing = 0;
        while (trailing < scale && digits[^(trailing + 1)] == '0')
        {
            trailing++;
        }

        digits = digits[..^trailing];
        scale -= trailing;
        if (scale > 0)
        {
            digits = digits.PadLeft(scale + 1, '0');
            digits = string.Concat(digits.AsSpan(0, digits.Length - scale), ".", digits.AsSpan(digits.Length - scale));
        }

        return product.Sign < 0 ? "-" + digits : digits;
    }

    private static (BigInteger Mantissa, int Scale) Parts(decimal value)
    {
        Span<int> bits = stackalloc int[4];
        decimal.GetBits(value, bits);
        var magnitude = ((BigInteger)(uint)bits[2] << 64) | ((BigInteger)(uint)bits[1] << 32) | (uint)bits[0];
        return (bits[3] < 0 ? -magnitude : magnitude, (bits[3] >> 16) & 0xFF);
    }

    /// <summary>A rate as given on the wire, inside Domain's sanity bound (|rate| &lt; 1).</summary>
    public static decimal? OptionalRate(string? text, string field)
    {
        var rate = Wire.OptionalDecimal(text, field);
        return rate is { } r && (r <= -FundingRate.SanityBound || r >= FundingRate.SanityBound)
            ? throw new RequestValidationException(field, "must be greater than -1 and less than 1")
            : rate;
    }

    /// <summary>An estimate as shown to people: 0.01 USDT, always two decimals ("2.50", "-3.00").</summary>
    public static string Estimate(decimal rounded) => rounded.ToString("0.00", CultureInfo.InvariantCulture);

    /// <summary>The page size asked for: unset means the default; an explicit 0 is refused like any other size outside 1..1000.</summary>
    public static int PageSize(Common.V1.PageRequest? page) => page is { HasPageSize: true } ? page.PageSize switch
    {
        >= 1 and <= MaxPageSize => page.PageSize,
        _ => throw new RequestValidationException("page.page_size", $"must be from 1 to {MaxPageSize} (unset means {DefaultPageSize})"),
    } : DefaultPageSize;

    /// <summary>The page token is the first funding time (Unix ms) of the next page, as text.</summary>
    public static DateTimeOffset? PageStart(string? token)
    {
        if (string.IsNullOrEmpty(token))
        {
            return null;
        }

        return long.TryParse(token, NumberStyles.None, CultureInfo.InvariantCulture, out var ms) && ms is > 0 and < 253_402_300_800_000
            ? DateTimeOffset.FromUnixTimeMilliseconds(ms)
            : throw new RequestValidationException("page.page_token", "is not a token this service issued");
    }

    public static string PageToken(DateTimeOffset next) => next.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture);
}
