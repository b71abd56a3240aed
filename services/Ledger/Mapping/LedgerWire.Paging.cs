using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Google.Protobuf;
using TradeEngine.Common.V1;
using TradeEngine.ServiceDefaults.Grpc;

namespace TradeEngine.Ledger.Mapping;

// LedgerWire's paging: page sizes, the canonical filter, page tokens and how many rows a page gives.
public static partial class LedgerWire
{
    public const int DefaultPageSize = 100;
    public const int MaxPageSize = 1000;

    /// <summary>
    /// The most bytes one page's rows may take: below the 1 MiB a service sends at most (GrpcServerExtensions.MaxMessageBytes),
    /// with room for the token and the rest of the response.
    /// </summary>
    public const int MaxPageBytes = 900 * 1024;

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
