using Grpc.Core;
using TradeEngine.Domain;
using TradeEngine.ServiceDefaults.Grpc;

namespace TradeEngine.ServiceDefaults.Tests.Grpc;

/// <summary>
/// The venue priority's trip between our services: the client handler puts a priority other than normal in
/// <c>x-venue-priority</c>, and the server interceptor handles the call at it (normal without it), refusing a value that
/// is not one. Over real gRPC, Execution's tests show the margin monitor's account read arriving urgent.
/// </summary>
public sealed class VenuePriorityPropagationTests
{
    [Theory]
    [InlineData("urgent", VenuePriority.Urgent)]
    [InlineData("background", VenuePriority.Background)]
    [InlineData("normal", VenuePriority.Normal)]
    public async Task Interceptor_HeaderNamesAPriority_TheCallIsHandledAtIt(string header, VenuePriority expected)
    {
        var context = new TestServerCallContext("/t/M", headers: new Metadata { { VenueRequestPriority.HeaderName, header } });

        var seen = await new VenuePriorityInterceptor().UnaryServerHandler<string, string>(
            "request", context, async (_, _) =>
            {
                await Task.Yield();
                return VenueRequestPriority.ToWire(VenueRequestPriority.Current);
            });

        Assert.Equal(VenueRequestPriority.ToWire(expected), seen);
        Assert.Equal(VenuePriority.Normal, VenueRequestPriority.Current);
    }

    [Fact]
    public async Task Interceptor_NoHeader_NormalWhateverTheServersOwnFlowHeld()
    {
        using var urgent = VenueRequestPriority.Enter(VenuePriority.Urgent);

        var seen = await new VenuePriorityInterceptor().UnaryServerHandler<string, string>(
            "request", new TestServerCallContext("/t/M"), (_, _) => Task.FromResult(VenueRequestPriority.ToWire(VenueRequestPriority.Current)));

        Assert.Equal("normal", seen);
        Assert.Equal(VenuePriority.Urgent, VenueRequestPriority.Current);
    }

    [Fact]
    public async Task Interceptor_ServerStreamingCall_HandledAtTheHeadersPriority()
    {
        var context = new TestServerCallContext("/t/S", headers: new Metadata { { VenueRequestPriority.HeaderName, "urgent" } });
        var seen = VenuePriority.Normal;

        await new VenuePriorityInterceptor().ServerStreamingServerHandler<string, string>(
            "request", null!, context, async (_, _, _) =>
            {
                await Task.Yield();
                seen = VenueRequestPriority.Current;
            });

        Assert.Equal(VenuePriority.Urgent, seen);
    }

    [Theory]
    [InlineData("URGENT")]
    [InlineData("urgent ")]
    [InlineData("2")]
    [InlineData("")]
    public async Task Interceptor_NotAPriority_InvalidArgumentNamingTheHeaderAndTheMethodNeverRuns(string header)
    {
        var context = new TestServerCallContext("/t/M", headers: new Metadata { { VenueRequestPriority.HeaderName, header } });
        var ran = false;

        var refused = await Assert.ThrowsAsync<RpcException>(() => new VenuePriorityInterceptor().UnaryServerHandler<string, string>(
            "request", context, (_, _) =>
            {
                ran = true;
                return Task.FromResult("answered");
            }));

        Assert.Equal(StatusCode.InvalidArgument, refused.StatusCode);
        Assert.StartsWith(VenueRequestPriority.HeaderName + ": '" + header + "' is not a venue priority", refused.Status.Detail, StringComparison.Ordinal);
        Assert.False(ran);
    }

    [Theory]
    [InlineData(VenuePriority.Urgent, "urgent")]
    [InlineData(VenuePriority.Background, "background")]
    [InlineData(VenuePriority.Normal, null)]
    public async Task Handler_CurrentPriority_SentOnlyWhenNotNormalAndReplacingOneAlreadyThere(VenuePriority priority, string? expected)
    {
        var inner = new RecordingHandler();
        using var client = new HttpClient(new VenuePriorityHandler(inner));
        using var request = new HttpRequestMessage(HttpMethod.Post, "http://127.0.0.1/t/M");
        request.Headers.TryAddWithoutValidation(VenueRequestPriority.HeaderName, "background");

        using (VenueRequestPriority.Enter(priority))
        {
            using var response = await client.SendAsync(request);
        }

        Assert.Equal(expected, inner.Header);
    }

    private sealed class RecordingHandler : HttpMessageHandler
    {
        public string? Header { get; private set; }

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Header = request.Headers.TryGetValues(VenueRequestPriority.HeaderName, out var values) ? string.Join(",", values) : null;
            return Task.FromResult(new HttpResponseMessage(System.Net.HttpStatusCode.OK));
        }
    }
}
