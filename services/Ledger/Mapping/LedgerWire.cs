using Google.Protobuf.WellKnownTypes;
using Google.Rpc;
using Grpc.Core;
using TradeEngine.Common.V1;
using TradeEngine.ServiceDefaults.Grpc;

namespace TradeEngine.Ledger.Mapping;

/// <summary>
/// The Ledger's rules on top of <see cref="Wire"/>: amounts must fit NUMERIC(28,8) exactly (at most 8 decimal places
/// and 20 integer digits, so PostgreSQL never rounds what it stores), a notional (quantity × price) must be at most
/// <see cref="MaxNotional"/>, text must fit its column and hold no control characters, timestamps must be valid
/// instants, ids are UUIDs. Every failure names the field and becomes INVALID_ARGUMENT.
/// </summary>
/// <remarks>
/// Why a notional bound: each amount alone fits its column, but their products and sums need not (a close of
/// 99999999999999999999 at 99999999999999999999 overflows <see cref="decimal"/>). Bounding every notional a request
/// brings keeps each computed PnL within about 2 × <see cref="MaxNotional"/>; a running total that still outgrows its
/// column is refused as FAILED_PRECONDITION (<see cref="TotalOutOfRange"/>).
/// </remarks>
public static partial class LedgerWire
{
    /// <summary>The symbol columns' length (varchar(32)).</summary>
    public const int SymbolLength = 32;

    public const int MoneyScale = Wire.MoneyPlaces;
    public const int KeyLength = 128;
    private const decimal MoneyLimit = 100_000_000_000_000_000_000m; // 10^20: NUMERIC(28,8) holds 20 integer digits.

    /// <summary>The largest notional (quantity × price, in the quote asset: USDT) one request may bring: 10^12.</summary>
    public const decimal MaxNotional = 1_000_000_000_000m;

    public static decimal Money(string? text, string field) => Fit(Wire.Decimal(text, field), field);

    public static decimal Positive(string? text, string field) => Fit(Wire.Positive(text, field), field);

    public static decimal NonNegative(string? text, string field) => Fit(Wire.NonNegative(text, field), field);

    /// <summary>An optional amount that defaults to zero (fees).</summary>
    public static decimal NonNegativeOrZero(string? text, string field) => string.IsNullOrEmpty(text) ? 0m : NonNegative(text, field);

    public static decimal? OptionalMoney(string? text, string field) => string.IsNullOrEmpty(text) ? null : Money(text, field);

    public static decimal? OptionalPositive(string? text, string field) => string.IsNullOrEmpty(text) ? null : Positive(text, field);

    /// <summary>
    /// An idempotency key: required, without whitespace around it and without invisible format characters anywhere
    /// ("k ", "k\u200B" and "k" would be three keys that print alike).
    /// </summary>
    public static string Key(string? text, string field) => Wire.Key(text, field, KeyLength);

    public static string Text(string? text, string field, int maxLength) => Wire.Required(text, field, maxLength);

    public static string? OptionalText(string? text, string field, int maxLength) => Wire.OptionalText(text, field, maxLength);

    /// <summary>
    /// A name the Ledger keys rows by (venue, account, client order id, exchange trade or order id): required, and with
    /// no whitespace and no invisible format characters anywhere, so "BTCUSDT " or "123\u200B" cannot pass for another
    /// market or another fill.
    /// </summary>
    public static string Identifier(string? text, string field, int maxLength) =>
        NoWhitespace(NoFormatCharacters(Wire.Required(text, field, maxLength), field), field);

    /// <summary>An optional <see cref="Identifier"/>: empty means absent.</summary>
    public static string? OptionalIdentifier(string? text, string field, int maxLength) =>
        string.IsNullOrEmpty(text) ? null : Identifier(text, field, maxLength);

    /// <summary>A symbol: an <see cref="Identifier"/> in upper case, as venues list them ("btcusdt" is not a second market).</summary>
    public static string Symbol(string? text, string field)
    {
        var symbol = Identifier(text, field, SymbolLength);
        return symbol.Any(char.IsLower) ? throw new RequestValidationException(field, "must be upper case, as the venue lists it") : symbol;
    }

    /// <summary>The asset every position's fees and the day's are counted in (the USD-M margin asset).</summary>
    public const string FeeAssetUsdt = "USDT";

    /// <summary>
    /// The asset a commission was paid in: empty means USDT; otherwise 2..16 upper-case ASCII letters and digits, as
    /// Binance names assets ("BNB"). "usdt" or "USDT " is refused rather than taken for another asset.
    /// </summary>
    public static string FeeAsset(string? text, string field)
    {
        if (string.IsNullOrEmpty(text))
        {
            return FeeAssetUsdt;
        }

        return text.Length is >= 2 and <= 16 && text.All(c => c is (>= 'A' and <= 'Z') or (>= '0' and <= '9'))
            ? text
            : throw new RequestValidationException(field, "must be an asset's name: 2 to 16 upper-case letters and digits (empty for USDT)");
    }

    /// <summary>An optional <see cref="Symbol"/> (a filter): empty means any.</summary>
    public static string? OptionalSymbol(string? text, string field) => string.IsNullOrEmpty(text) ? null : Symbol(text, field);

    private static string NoWhitespace(string text, string field) =>
        text.Any(char.IsWhiteSpace) ? throw new RequestValidationException(field, "must not contain whitespace") : text;

    /// <summary>
    /// Refuses Unicode format characters (category Cf: U+200B zero-width space, U+2060 word joiner, U+FEFF, U+00AD soft
    /// hyphen, the bidi marks, tag characters): they print as nothing, are neither whitespace nor control characters, and
    /// make a second spelling of a key or id ("123\u200B" recorded fill 123 a second time).
    /// </summary>
    private static string NoFormatCharacters(string text, string field) =>
        Wire.FormatCharacterProblem(text) is { } problem ? throw new RequestValidationException(field, problem) : text;

    /// <summary>
    /// A UUID in its one canonical form, 8-4-4-4-12 lower-case hex digits, as the Ledger writes ids (braces, other
    /// layouts, upper case and surrounding spaces are refused). Format "D" alone takes either case, and a retry that
    /// spelled the same id in upper case hashed as another request under its key: ALREADY_EXISTS, not a replay.
    /// </summary>
    public static Guid Id(string? text, string field) =>
        string.IsNullOrEmpty(text) ? throw new RequestValidationException(field, "is required")
        : !Guid.TryParseExact(text, "D", out var id) ? throw new RequestValidationException(field, "is not a UUID (8-4-4-4-12 hex digits)")
        : string.Equals(id.ToString("D"), text, StringComparison.Ordinal) ? id
        : throw new RequestValidationException(field, "must be in lower case (8-4-4-4-12 lower-case hex digits), as the Ledger writes ids");

    public static Guid? OptionalId(string? text, string field) => string.IsNullOrEmpty(text) ? null : Id(text, field);

    /// <summary>An amount at most <see cref="MaxNotional"/> in size (a fee, a funding payment, a notional itself).</summary>
    public static decimal Bounded(decimal value, string field) =>
        Math.Abs(value) <= MaxNotional ? value
        : throw new RequestValidationException(field, $"must be at most {Format(MaxNotional)} in size");

    /// <summary>Refuses a quantity whose notional at <paramref name="price"/> exceeds <see cref="MaxNotional"/>, naming <paramref name="field"/>.</summary>
    public static void Notional(decimal quantity, decimal price, string field)
    {
        // Divide rather than multiply: the product of two in-range amounts can overflow decimal, the quotient cannot.
        var size = Math.Abs(quantity);
        var at = Math.Abs(price);
        if (at > 0 && size > MaxNotional / at)
        {
            throw new RequestValidationException(field, $"notional (quantity × price) must be at most {Format(MaxNotional)}");
        }
    }

    /// <summary>True when <paramref name="value"/> fits NUMERIC(28,8)'s integer digits.</summary>
    public static bool FitsColumn(decimal value) => Math.Abs(value) < MoneyLimit;

    /// <summary>
    /// FAILED_PRECONDITION for a running total (a position's quantity, realized PnL, fees or funding, a sum over a
    /// range) that would no longer fit: each request value was in range, the total is not. Names the field in the
    /// message and in a <c>google.rpc.PreconditionFailure</c>.
    /// </summary>
    public static RpcException TotalOutOfRange(string field)
    {
        var description = $"the resulting total would exceed what the ledger holds (NUMERIC(28,8), below 10^20)";
        var failure = new PreconditionFailure();
        failure.Violations.Add(new PreconditionFailure.Types.Violation { Type = "TOTAL_OUT_OF_RANGE", Subject = field, Description = description });
        return new Google.Rpc.Status
        {
            Code = (int)Code.FailedPrecondition,
            Message = $"{field}: {description}",
            Details = { Any.Pack(failure) },
        }.ToRpcException();
    }

    public static (DateTimeOffset Start, DateTimeOffset End) Range(TimeRange? range, string field = "range")
    {
        var start = Wire.Instant(range?.Start, $"{field}.start");
        var end = Wire.Instant(range?.End, $"{field}.end");
        return end > start ? (start, end) : throw new RequestValidationException($"{field}.end", "must be after range.start");
    }

    public static string Format(decimal value) => Wire.Format(value);

    public static string Format(decimal? value) => Wire.Format(value);

    public static Timestamp Timestamp(DateTimeOffset value) => Wire.Timestamp(value);

    public static Timestamp? Timestamp(DateTimeOffset? value) => value is { } v ? Wire.Timestamp(v) : null;

    /// <summary>Rounds a computed amount (average entry, PnL) to the column's 8 places, half away from zero as PostgreSQL does.</summary>
    public static decimal Round(decimal value) => Wire.RoundMoney(value);

    private static decimal Fit(decimal value, string field) =>
        Math.Abs(Wire.AtMostPlaces(value, MoneyScale, field)) < MoneyLimit ? value : throw new RequestValidationException(field, "has more than 20 integer digits");
}
