using System.Diagnostics;
using Grpc.Core;

namespace TradeEngine.EndToEnd.Tests.Telemetry;

/// <summary>
/// A trace of the test's own: a W3C traceparent sent with a call, so the spans the call makes are told apart from every
/// other call's in the receiver the collection shares (the demo's open, another test's). Before, a test took the first
/// span of its kind it found, which could be the demo's, and passed on that trace whatever its own call did.
/// </summary>
public sealed class TestTrace
{
    private TestTrace(string traceId, Metadata headers) => (TraceId, Headers) = (traceId, headers);

    /// <summary>The trace id, as the receiver writes it (32 lower-case hex digits).</summary>
    public string TraceId { get; }

    /// <summary>The call's headers: traceparent, sampled.</summary>
    public Metadata Headers { get; }

    public static TestTrace Start()
    {
        var traceId = ActivityTraceId.CreateRandom().ToHexString();
        var spanId = ActivitySpanId.CreateRandom().ToHexString();
        return new TestTrace(traceId, new Metadata { { "traceparent", $"00-{traceId}-{spanId}-01" } });
    }
}
