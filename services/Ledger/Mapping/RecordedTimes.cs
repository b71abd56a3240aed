using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.Options;
using TradeEngine.ServiceDefaults.Grpc;

namespace TradeEngine.Ledger.Mapping;

/// <summary>Configuration section <c>Ledger:RecordedTimes</c>.</summary>
public sealed class RecordedTimesOptions
{
    public const string Section = "Ledger:RecordedTimes";

    /// <summary>
    /// How far ahead of this Ledger's clock the time of a recorded fact (a fill, an open, a reduce, a close, a
    /// settlement, a snapshot, a risk event) may be. Execution records the venue's times, and the venue's clock may run
    /// ahead of ours (reconciliation is tested with it an hour ahead), so this is not a clock-skew bound: it refuses a
    /// time that is a client's bug, which would otherwise stand in the record (an opened_at a year ahead would refuse
    /// every close dated now as "before the position's opened_at"). A PaperExchange run faster than real time
    /// (<c>Paper:ClockSpeed</c> above 1) moves the venue's clock ahead by more every hour: raise this with it.
    /// </summary>
    public TimeSpan MaxAheadOfClock { get; set; } = TimeSpan.FromDays(1);
}

/// <summary>The times of recorded facts, parsed strictly and bounded by <see cref="RecordedTimesOptions.MaxAheadOfClock"/>.</summary>
public sealed class RecordedTimes(TimeProvider time, IOptions<RecordedTimesOptions> options)
{
    private readonly TimeSpan _maxAhead = options.Value.MaxAheadOfClock;

    /// <summary>An optional instant: unset means now; a malformed, absurd or far-future one is INVALID_ARGUMENT naming the field.</summary>
    public DateTimeOffset OrNow(Timestamp? timestamp, string field) =>
        Wire.OptionalInstant(timestamp, field) is { } at ? NotAhead(at, field) : Wire.ToMicrosecond(time.GetUtcNow());

    /// <summary>A required instant, at most <see cref="RecordedTimesOptions.MaxAheadOfClock"/> ahead of this Ledger's clock.</summary>
    public DateTimeOffset Required(Timestamp? timestamp, string field) => NotAhead(Wire.Instant(timestamp, field), field);

    private DateTimeOffset NotAhead(DateTimeOffset at, string field) =>
        at - time.GetUtcNow() <= _maxAhead ? at
        : throw new RequestValidationException(field, $"is more than {_maxAhead.TotalHours:0.##} hours ahead of the Ledger's clock");
}
