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

    /// <summary>
    /// A call made under a hold limit (an open holding its symbol's lock) carries what is left of it, in whole
    /// milliseconds, replacing any value already there; a call without one carries none.
    /// </summary>
    [Fact]
    public async Task Handler_HoldLimit_TheBudgetLeftIsSentInWholeMillisecondsOnlyUnderOne()
    {
        var inner = new RecordingHandler();
        using var client = new HttpClient(new VenuePriorityHandler(inner));

        using (VenueHoldLimit.Enter(TimeSpan.FromSeconds(2)))
        {
            VenueHoldLimit.Spend(TimeSpan.FromMilliseconds(500.7));
            using var request = new HttpRequestMessage(HttpMethod.Post, "http://127.0.0.1/t/M");
            request.Headers.TryAddWithoutValidation(VenueHoldLimit.HeaderName, "600000");
            using var response = await client.SendAsync(request);
        }

        Assert.Equal("1499", inner.HoldLimit);

        using (var request = new HttpRequestMessage(HttpMethod.Post, "http://127.0.0.1/t/M"))
        using (var response = await client.SendAsync(request))
        {
            Assert.Null(inner.HoldLimit);
        }
    }

    [Fact]
    public async Task Interceptor_HoldLimitHeader_TheCallIsHandledUnderItAndNoneWithoutItWhateverTheServersFlowHeld()
    {
        var context = new TestServerCallContext("/t/M", headers: new Metadata { { VenueHoldLimit.HeaderName, "1500" } });
        var seen = await new VenuePriorityInterceptor().UnaryServerHandler<string, string>(
            "request", context, async (_, _) =>
            {
                await Task.Yield();
                return VenueHoldLimit.Current?.ToString() ?? "none";
            });
        Assert.Equal(TimeSpan.FromMilliseconds(1500).ToString(), seen);
        Assert.Null(VenueHoldLimit.Current);

        using var outer = VenueHoldLimit.Enter(TimeSpan.FromSeconds(1));
        var none = await new VenuePriorityInterceptor().UnaryServerHandler<string, string>(
            "request", new TestServerCallContext("/t/M"), (_, _) => Task.FromResult(VenueHoldLimit.Current?.ToString() ?? "none"));
        Assert.Equal("none", none);
        Assert.Equal(TimeSpan.FromSeconds(1), VenueHoldLimit.Current);
    }

    [Theory]
    [InlineData("-1")]
    [InlineData("1.5")]
    [InlineData("1e3")]
    [InlineData(" 100")]
    [InlineData("600001")]
    [InlineData("9999999")]
    [InlineData("")]
    public async Task Interceptor_HoldLimitNotWholeMillisecondsWithinTenMinutes_InvalidArgumentAndTheMethodNeverRuns(string header)
    {
        var context = new TestServerCallContext("/t/M", headers: new Metadata { { VenueHoldLimit.HeaderName, header } });
        var ran = false;

        var refused = await Assert.ThrowsAsync<RpcException>(() => new VenuePriorityInterceptor().UnaryServerHandler<string, string>(
            "request", context, (_, _) =>
            {
                ran = true;
                return Task.FromResult("answered");
            }));

        Assert.Equal(StatusCode.InvalidArgument, refused.StatusCode);
        Assert.StartsWith(VenueHoldLimit.HeaderName + ": '" + header + "' is not a hold limit", refused.Status.Detail, StringComparison.Ordinal);
        Assert.False(ran);
    }

    private sealed class RecordingHandler : HttpMessageHandler
    {
        public string? Header { get; private set; }

        public string? HoldLimit { get; private set; }

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Header = request.Headers.TryGetValues(VenueRequestPriority.HeaderName, out var values) ? string.Join(",", values) : null;
            HoldLimit = request.Headers.TryGetValues(VenueHoldLimit.HeaderName, out var held) ? string.Join(",", held) : null;
            return Task.FromResult(new HttpResponseMessage(System.Net.HttpStatusCode.OK));
        }
    }
}
