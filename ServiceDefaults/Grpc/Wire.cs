using Google.Protobuf.WellKnownTypes;
using TradeEngine.Domain;

namespace TradeEngine.ServiceDefaults.Grpc;

/// <summary>
/// Strict parsing of proto fields at the service boundary. Decimals travel as invariant-culture strings;
/// anything <see cref="DecimalText"/> does not accept exactly is a <see cref="RequestValidationException"/>
/// naming the field, which the interceptor turns into INVALID_ARGUMENT.
/// </summary>
public static class Wire
{
    public static decimal Decimal(string? text, string field)
    {
        if (string.IsNullOrEmpty(text))
        {
            throw new RequestValidationException(field, "is required");
        }

        if (!DecimalText.TryParse(text, out var value, out var error))
        {
            throw new RequestValidationException(field, error ?? "is not a valid decimal");
        }

        return value;
    }

    /// <summary>An optional decimal: empty means absent.</summary>
    public static decimal? OptionalDecimal(string? text, string field) =>
        string.IsNullOrEmpty(text) ? null : Decimal(text, field);

    public static decimal Positive(string? text, string field)
    {
        var value = Decimal(text, field);
        return value > 0 ? value : throw new RequestValidationException(field, "must be greater than zero");
    }

    public static decimal NonNegative(string? text, string field)
    {
        var value = Decimal(text, field);
        return value >= 0 ? value : throw new RequestValidationException(field, "must not be negative");
    }

    public static decimal? OptionalPositive(string? text, string field) =>
        string.IsNullOrEmpty(text) ? null : Positive(text, field);

    /// <summary>
    /// <paramref name="text"/> cut to <paramref name="maxLength"/> characters when longer, the last one an ellipsis, never
    /// inside a surrogate pair: for text the service itself sends on to a column it must fit (a reason with a prefix or
    /// suffix added). Deterministic, so a retried write is the same write.
    /// </summary>
    public static string Cut(string text, int maxLength)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Length <= maxLength)
        {
            return text;
        }

        var cut = maxLength - 1;
        if (char.IsHighSurrogate(text[cut - 1]))
        {
            cut--;
        }

        return string.Concat(text.AsSpan(0, cut), "…");
    }

    /// <summary>The places every money figure carries: the venue's 8, and the Ledger's NUMERIC columns that record them.</summary>
    public const int MoneyPlaces = 8;

    /// <summary>
    /// A computed money figure (an average price, a PnL) rounded to <see cref="MoneyPlaces"/>, half away from zero: as
    /// the venue reports figures and as PostgreSQL rounds into the Ledger's columns, so every service rounds a computed
    /// figure alike. Not for a funding payment: that is rounded half to even, as Binance posts it (FundingMath), and
    /// the Ledger refuses one rounded otherwise.
    /// </summary>
    public static decimal RoundMoney(decimal value) => decimal.Round(value, MoneyPlaces, MidpointRounding.AwayFromZero);

    /// <summary><paramref name="value"/> when it has at most <paramref name="places"/> decimal places; else INVALID_ARGUMENT naming <paramref name="field"/>.</summary>
    public static decimal AtMostPlaces(decimal value, int places, string field) =>
        decimal.Round(value, places) == value ? value : throw new RequestValidationException(field, $"has more than {places} decimal places");

    public static string Required(string? text, string field, int maxLength = 256) =>
        string.IsNullOrWhiteSpace(text)
            ? throw new RequestValidationException(field, "is required")
            : Text(text, field, maxLength);

    /// <summary>
    /// An idempotency key, as every service that keys writes by one reads it (the Ledger stores them): required, at most
    /// <paramref name="maxLength"/> characters, no control characters, no invisible format characters (Unicode Cf:
    /// U+200B, U+FEFF, ...) and no whitespace at either end, so "k" and "k\u200B" or "k " cannot pass for two keys. A
    /// service that passes its caller's key on (Risk, Execution) checks it so, or the Ledger refuses it after the fact.
    /// </summary>
    public static string Key(string? text, string field, int maxLength = 128) =>
        KeyProblem(text, maxLength) is { } problem ? throw new RequestValidationException(field, problem) : text!;

    /// <summary>What is wrong with <paramref name="text"/> as a key (see <see cref="Key"/>); null when nothing is.</summary>
    public static string? KeyProblem(string? text, int maxLength = 128)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return "is required";
        }

        if (text.Length > maxLength)
        {
            return $"must be at most {maxLength} characters";
        }

        if (text.Any(char.IsControl))
        {
            return "must not contain control characters";
        }

        if (FormatCharacterProblem(text) is { } problem)
        {
            return problem;
        }

        return char.IsWhiteSpace(text[0]) || char.IsWhiteSpace(text[^1]) ? "must not begin or end with whitespace" : null;
    }

    /// <summary>
    /// What is wrong with <paramref name="text"/> for holding an invisible format character (Unicode category Cf), the
    /// first one named; null when it holds none.
    /// </summary>
    public static string? FormatCharacterProblem(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        foreach (var rune in text.EnumerateRunes())
        {
            if (System.Text.Rune.GetUnicodeCategory(rune) == System.Globalization.UnicodeCategory.Format)
            {
                return string.Create(System.Globalization.CultureInfo.InvariantCulture, $"must not contain invisible format characters (U+{rune.Value:X4})");
            }
        }

        return null;
    }

    /// <summary>Optional text: empty means absent.</summary>
    public static string? OptionalText(string? text, string field, int maxLength = 256) =>
        string.IsNullOrEmpty(text) ? null : Text(text, field, maxLength);

    private static string Text(string text, string field, int maxLength)
    {
        if (text.Length > maxLength)
        {
            throw new RequestValidationException(field, $"must be at most {maxLength} characters");
        }

        // Control characters (NUL above all, which PostgreSQL refuses in text) have no place in our fields.
        foreach (var c in text)
        {
            if (char.IsControl(c))
            {
                throw new RequestValidationException(field, "must not contain control characters");
            }
        }

        return text;
    }

    /// <summary>A proto enum value: <c>*_UNSPECIFIED</c> (0) and values this build does not know are refused.</summary>
    public static TEnum Enum<TEnum>(TEnum value, string field)
        where TEnum : struct, System.Enum
    {
        if (Convert.ToInt32(value, System.Globalization.CultureInfo.InvariantCulture) == 0)
        {
            throw new RequestValidationException(field, "must be specified");
        }

        return System.Enum.IsDefined(value) ? value : throw new RequestValidationException(field, "is not a known value");
    }

    public static DateTimeOffset Instant(Timestamp? timestamp, string field) =>
        timestamp is null ? throw new RequestValidationException(field, "is required") : ToInstant(timestamp, field);

    public static DateTimeOffset? OptionalInstant(Timestamp? timestamp, string field) =>
        timestamp is null ? null : ToInstant(timestamp, field);

    /// <summary>Earliest and latest instants we accept: anything outside is a client bug, not a trading time.</summary>
    public static readonly DateTimeOffset MinInstant = new(2000, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public static readonly DateTimeOffset MaxInstant = new(2200, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static DateTimeOffset ToInstant(Timestamp timestamp, string field)
    {
        // ToDateTimeOffset throws on a denormalized value (negative nanos, nanos >= 1e9): that is bad input, not INTERNAL.
        if (timestamp.Nanos is < 0 or > 999_999_999)
        {
            throw new RequestValidationException(field, "is not a valid timestamp (nanos out of range)");
        }

        var seconds = timestamp.Seconds;
        if (seconds < MinInstant.ToUnixTimeSeconds() || seconds >= MaxInstant.ToUnixTimeSeconds())
        {
            throw new RequestValidationException(field, "must be between 2000-01-01 and 2200-01-01 UTC");
        }

        // Kept to the whole microsecond, as PostgreSQL's timestamptz keeps it (Npgsql truncates on write): compared,
        // stored and published, an instant is then one value. A request's 100 ns precision compared with a stored
        // microsecond let a funding time inside the opening microsecond pass as after the open.
        return ToMicrosecond(timestamp.ToDateTimeOffset());
    }

    /// <summary>
    /// The instant cut to the whole microsecond PostgreSQL's timestamptz keeps (UTC), so that what is stored, answered
    /// and published is one value: a clock's reading (100 ns) given in an answer differed from the row read back.
    /// </summary>
    public static DateTimeOffset ToMicrosecond(DateTimeOffset instant) =>
        new(instant.UtcTicks - (instant.UtcTicks % TicksPerMicrosecond), TimeSpan.Zero);

    private const long TicksPerMicrosecond = TimeSpan.TicksPerMillisecond / 1000;

    public static string Format(decimal value) => DecimalText.Format(value);

    public static string Format(decimal? value) => value is { } v ? DecimalText.Format(v) : string.Empty;

    public static Timestamp Timestamp(DateTimeOffset value) => Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(value);
}
