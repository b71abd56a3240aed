using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Google.Protobuf;
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
public static class LedgerWire
{
    /// <summary>The symbol columns' length (varchar(32)).</summary>
    public const int SymbolLength = 32;

    public const int MoneyScale = Wire.MoneyPlaces;
    public const int DefaultPageSize = 100;
    public const int MaxPageSize = 1000;

    /// <summary>
    /// The most bytes one page's rows may take: below the 1 MiB a service sends at most (GrpcServerExtensions.MaxMessageBytes),
    /// with room for the token and the rest of the response.
    /// </summary>
    public const int MaxPageBytes = 900 * 1024;
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

    /// <summary>
    /// Page size (unset means 100; 1..1000 allowed, so an explicit 0 is refused as the bad input) and the cursor the token carries: the sort key of the last row of the
    /// page before (null for the first page). A page is the rows after that key, so rows written between two calls shift
    /// nothing: no row is given twice and none is skipped among those that sort after the cursor (an offset did both).
    /// </summary>
    /// <param name="filter">
    /// The request's filter in a canonical text (see <see cref="Filter"/>). A token carries a fingerprint of the filter it
    /// was issued for, and is refused with any other: a cursor taken from one symbol's list and sent with another's
    /// would page the other list from a point that means nothing to it, and the caller would see a list with a hole.
    /// </param>
    public static (int Size, PageCursor? After) Page(PageRequest? page, char kind, string filter, string field = "page")
    {
        var size = page is { HasPageSize: true } ? page.PageSize : DefaultPageSize;
        if (size is < 1 or > MaxPageSize)
        {
            throw new RequestValidationException($"{field}.page_size", $"must be between 1 and {MaxPageSize} (unset means {DefaultPageSize})");
        }

        return (size, DecodeToken(page?.PageToken, kind, filter, $"{field}.page_token"));
    }

    /// <summary>
    /// A list request's filter as canonical text for <see cref="Page"/>: each part in order, an absent one as "-", text
    /// parts length-prefixed so no two filters share a text.
    /// </summary>
    public static string Filter(params object?[] parts)
    {
        var text = new StringBuilder();
        foreach (var part in parts)
        {
            _ = part switch
            {
                null => text.Append("-|"),
                string s => text.Append(CultureInfo.InvariantCulture, $"{s.Length}:{s}|"),
                DateTimeOffset t => text.Append(CultureInfo.InvariantCulture, $"t{t.UtcTicks}|"),
                _ => text.Append(CultureInfo.InvariantCulture, $"v{part}|"),
            };
        }

        return text.ToString();
    }

    /// <summary>
    /// How many of <paramref name="rows"/> (read in page order, one past the page size to tell whether more follow) the
    /// page gives: at most <paramref name="size"/>, and no more than fit in <see cref="MaxPageBytes"/> (at least one). A
    /// page of 1,000 rows with long texts (1,024-character reasons, non-ASCII exit reasons) passed the send limit and the
    /// call failed RESOURCE_EXHAUSTED; ended early, the page's token leads on to the rest.
    /// </summary>
    public static int Fit<T>(IReadOnlyList<T> rows, int size)
        where T : IMessage
    {
        ArgumentNullException.ThrowIfNull(rows);
        var count = 0;
        long bytes = 0;
        foreach (var row in rows.Take(size))
        {
            // As the response carries the row: its field's tag (one byte: every list is field 1), length and bytes.
            bytes += 1 + CodedOutputStream.ComputeMessageSize(row);
            if (count > 0 && bytes > MaxPageBytes)
            {
                break;
            }

            count++;
        }

        return count;
    }

    /// <summary>
    /// Drops the rows a page's query read past <paramref name="size"/> (it reads one more than the page to learn whether
    /// more follow); true when there were any: more follow.
    /// </summary>
    public static bool TrimToPage<T>(Google.Protobuf.Collections.RepeatedField<T> rows, int size)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var hasMore = rows.Count > size;
        while (rows.Count > size)
        {
            rows.RemoveAt(rows.Count - 1);
        }

        return hasMore;
    }

    /// <summary>The token of the next page (after <paramref name="last"/>), or empty when this page was the last.</summary>
    public static string NextToken(char kind, PageCursor last, bool hasMore, string filter)
    {
        if (!hasMore)
        {
            return string.Empty;
        }

        var print = Fingerprint(filter);
        var text = last.Id is { } id
            ? string.Create(CultureInfo.InvariantCulture, $"k{kind}:{last.Ticks}:{id:N}:{print}")
            : string.Create(CultureInfo.InvariantCulture, $"k{kind}:{last.Ticks}:{print}");
        return Convert.ToBase64String(Encoding.ASCII.GetBytes(text));
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

    private static PageCursor? DecodeToken(string? token, char kind, string filter, string field)
    {
        if (string.IsNullOrEmpty(token))
        {
            return null;
        }

        PageCursor? cursor = null;
        string? print = null;
        try
        {
            var text = Encoding.ASCII.GetString(Convert.FromBase64String(token));
            var parts = text.Split(':');
            if (parts.Length is 3 or 4 && parts[0] == "k" + kind
                && long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var ticks))
            {
                // Each list takes only the shape it issues: a time with its id (positions 'p', funding 'f'), or a
                // sequence number alone (kill-switch history 'h'). A time without its id would skip every row that
                // ties with it, and one past the calendar failed as INTERNAL.
                var keyedByTime = kind is not 'h';
                if (parts.Length == 3 && !keyedByTime)
                {
                    (cursor, print) = (new PageCursor(ticks, null), parts[2]);
                }
                else if (parts.Length == 4 && keyedByTime && Guid.TryParseExact(parts[2], "N", out var id) && ticks <= DateTimeOffset.MaxValue.UtcTicks)
                {
                    (cursor, print) = (new PageCursor(ticks, id), parts[3]);
                }
            }
        }
        catch (FormatException)
        {
        }

        if (cursor is null)
        {
            throw new RequestValidationException(field, "is not a token this service issued for this list");
        }

        return print == Fingerprint(filter)
            ? cursor
            : throw new RequestValidationException(field, "was issued for another filter (symbol, venue, status, time range); send the filter it came with, or start again without a token");
    }

    /// <summary>The first 8 bytes of the filter's SHA-256, as hex: enough to tell filters apart, short in a token.</summary>
    private static string Fingerprint(string filter) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(filter)).AsSpan(0, 8));
}
