using System.Collections.Concurrent;
using System.Net;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using TradeEngine.EndToEnd.Tests.Telemetry.Otlp;

namespace TradeEngine.EndToEnd.Tests.Telemetry;

/// <summary>A span as a service exported it over OTLP.</summary>
public sealed record ReceivedSpan(string ServiceName, string TraceId, string SpanId, string ParentSpanId, string Name, int Kind)
{
    /// <summary>The span's string attributes (the others are not kept).</summary>
    public IReadOnlyDictionary<string, string> Attributes { get; init; } = new Dictionary<string, string>();
}

/// <summary>
/// An OTLP/gRPC trace receiver on 127.0.0.1 inside the test: the services export to it exactly as they export to the
/// Aspire dashboard, so the test sees the real spans of every process.
/// </summary>
public sealed class OtlpTraceReceiver : IAsyncDisposable
{
    private readonly WebApplication app;

    private readonly ConcurrentQueue<ReceivedSpan> spans;

    private OtlpTraceReceiver(WebApplication app, Uri endpoint, ConcurrentQueue<ReceivedSpan> spans)
    {
        this.app = app;
        this.spans = spans;
        Endpoint = endpoint;
    }

    public Uri Endpoint { get; }

    public static async Task<OtlpTraceReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, o => o.Protocols = HttpProtocols.Http2));
        builder.Services.AddGrpc();
        var spans = new ConcurrentQueue<ReceivedSpan>();
        builder.Services.AddSingleton(spans);
        var app = builder.Build();
        app.MapGrpcService<TraceServiceImpl>();
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new OtlpTraceReceiver(app, new Uri(address), spans);
    }

    /// <summary>Every span received so far.</summary>
    public IReadOnlyList<ReceivedSpan> Snapshot() => [.. spans];

    public async ValueTask DisposeAsync() => await app.DisposeAsync();

    private sealed class TraceServiceImpl(ConcurrentQueue<ReceivedSpan> spans) : TraceService.TraceServiceBase
    {
        public override Task<ExportTraceServiceResponse> Export(ExportTraceServiceRequest request, ServerCallContext context)
        {
            foreach (var resourceSpans in request.ResourceSpans)
            {
                var service = resourceSpans.Resource?.Attributes.FirstOrDefault(a => a.Key == "service.name")?.Value?.StringValue ?? "";
                foreach (var span in resourceSpans.ScopeSpans.SelectMany(s => s.Spans))
                {
                    spans.Enqueue(new ReceivedSpan(service, Convert.ToHexStringLower(span.TraceId.Span),
                        Convert.ToHexStringLower(span.SpanId.Span), Convert.ToHexStringLower(span.ParentSpanId.Span), span.Name, span.Kind)
                    {
                        Attributes = span.Attributes.Where(a => a.Value?.ValueCase == AnyValue.ValueOneofCase.StringValue)
                            .GroupBy(a => a.Key).ToDictionary(g => g.Key, g => g.Last().Value.StringValue),
                    });
                }
            }

            return Task.FromResult(new ExportTraceServiceResponse());
        }
    }
}
