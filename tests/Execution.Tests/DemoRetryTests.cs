using System.Diagnostics;
using System.Net;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using TradeEngine.Demo;
using TradeEngine.Execution.Tests.Support;
using TradeEngine.Execution.V1;
using TradeEngine.ServiceDefaults.Grpc;

namespace TradeEngine.Execution.Tests;

/// <summary>
/// The demo's retry of its open (<see cref="PerpetualFuturesDemo.RetryWhileUnavailableAsync{T}"/>) against a server on
/// 127.0.0.1 whose OpenPosition answers from a script: UNAVAILABLE and RESOURCE_EXHAUSTED are asked again after the delay
/// the refusal's google.rpc.RetryInfo names, and never sooner than 1 s; any other status is the answer to the request.
/// </summary>
public sealed class DemoRetryTests
{
    [Fact]
    public async Task RetryWhileUnavailableAsync_ResourceExhaustedAskingTwoSeconds_RetriesNoSoonerAndReturnsTheOkAnswer()
    {
        var answer = new OpenPositionResponse { PositionId = "position-1", EntryPrice = "68000.1" };
        await using var server = await ScriptedExecution.StartAsync(
            () => throw GrpcStatuses.ResourceExhausted("the venue's rate limit holds the open back", TimeSpan.FromSeconds(2)),
            () => answer);

        var opened = await server.OpenThroughTheDemosRetryAsync();

        Assert.Equal(answer, opened);
        var calls = server.Calls;
        Assert.Equal(2, calls.Count);
        Assert.True(calls[1].Arrived - calls[0].Answered >= TimeSpan.FromMilliseconds(1_950), $"retried after {calls[1].Arrived - calls[0].Answered}");
    }

    [Fact]
    public async Task RetryWhileUnavailableAsync_UnavailableThenADelayUnderOneSecond_EachRetryAfterAtLeastOneSecond()
    {
        var answer = new OpenPositionResponse { PositionId = "position-2", EntryPrice = "68000.2" };
        await using var server = await ScriptedExecution.StartAsync(
            () => throw new RpcException(new Status(StatusCode.Unavailable, "not reconciled yet")),
            () => throw GrpcStatuses.ResourceExhausted("held back", TimeSpan.FromMilliseconds(100)),
            () => answer);

        var opened = await server.OpenThroughTheDemosRetryAsync();

        Assert.Equal(answer, opened);
        var calls = server.Calls;
        Assert.Equal(3, calls.Count);
        for (var i = 1; i < calls.Count; i++)
        {
            Assert.True(calls[i].Arrived - calls[i - 1].Answered >= TimeSpan.FromMilliseconds(950), $"retry {i} after {calls[i].Arrived - calls[i - 1].Answered}");
        }
    }

    /// <summary>
    /// A service that stays unavailable: the demo asks until its patience (a minute; 2.5 s here) runs out, the last wait
    /// cut to what is left of it, then throws the last refusal rather than wait on. Before this test the deadline was
    /// untested (a minute long).
    /// </summary>
    [Fact]
    public async Task RetryWhileUnavailableAsync_UnavailablePastItsPatience_GivesUpWithTheLastRefusal()
    {
        await using var server = await ScriptedExecution.StartAsync(() => throw new RpcException(new Status(StatusCode.Unavailable, "not reconciled yet")));
        var started = Stopwatch.StartNew();

        var refused = await Orders.FailsWith(StatusCode.Unavailable, () => server.OpenThroughTheDemosRetryAsync(TimeSpan.FromSeconds(2.5)));

        Assert.Equal("not reconciled yet", refused.Status.Detail);
        var calls = server.Calls;
        // Asked at once, after 1 s, after 2 s, and at the deadline (2.5 s; fewer when a loaded machine delays a retry past it).
        Assert.InRange(calls.Count, 3, 4);
        Assert.True(calls[^1].Arrived - calls[0].Arrived >= TimeSpan.FromMilliseconds(2_400), $"last call after {calls[^1].Arrived - calls[0].Arrived}");
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(10), $"gave up after {started.Elapsed}");
    }

    [Fact]
    public async Task RetryWhileUnavailableAsync_InvalidArgument_ThrownAtOnceWithoutARetry()
    {
        await using var server = await ScriptedExecution.StartAsync(
            () => throw new RpcException(new Status(StatusCode.InvalidArgument, "quantity is not a number")),
            () => new OpenPositionResponse { PositionId = "position-3" });

        var refused = await Orders.FailsWith(StatusCode.InvalidArgument, () => server.OpenThroughTheDemosRetryAsync());

        Assert.Equal("quantity is not a number", refused.Status.Detail);
        Assert.Single(server.Calls);
    }

    /// <summary>An Execution service whose OpenPosition gives the script's answers in turn, noting when each call came and went.</summary>
    private sealed class ScriptedExecution : IAsyncDisposable
    {
        private readonly WebApplication _app;
        private readonly GrpcChannel _channel;
        private readonly Script _script;

        private ScriptedExecution(WebApplication app, GrpcChannel channel, Script script) => (_app, _channel, _script) = (app, channel, script);

        public List<(TimeSpan Arrived, TimeSpan Answered)> Calls => _script.Calls();

        public static async Task<ScriptedExecution> StartAsync(params Func<OpenPositionResponse>[] answers)
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, o => o.Protocols = HttpProtocols.Http2));
            builder.Services.AddGrpc();
            var script = new Script(answers);
            builder.Services.AddSingleton(script);
            var app = builder.Build();
            app.MapGrpcService<ScriptedExecutionService>();
            await app.StartAsync();
            var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            return new ScriptedExecution(app, GrpcChannel.ForAddress(address), script);
        }

        /// <summary>The demo's open: the same request asked through its retry until it is answered.</summary>
        public Task<OpenPositionResponse> OpenThroughTheDemosRetryAsync(TimeSpan? patience = null)
        {
            var execution = new ExecutionService.ExecutionServiceClient(_channel);
            var open = Orders.Open(quantity: "0.001");
            return PerpetualFuturesDemo.RetryWhileUnavailableAsync(
                () => execution.OpenPositionAsync(open, deadline: DateTime.UtcNow.AddSeconds(10)).ResponseAsync, CancellationToken.None, patience)
                .WaitAsync(TimeSpan.FromSeconds(30));
        }

        public async ValueTask DisposeAsync()
        {
            _channel.Dispose();
            await _app.DisposeAsync();
        }
    }

    private sealed class Script(Func<OpenPositionResponse>[] answers)
    {
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private readonly List<(TimeSpan Arrived, TimeSpan Answered)> _calls = [];

        public List<(TimeSpan Arrived, TimeSpan Answered)> Calls()
        {
            lock (_calls)
            {
                return [.. _calls];
            }
        }

        public OpenPositionResponse Answer()
        {
            var arrived = _clock.Elapsed;
            int turn;
            lock (_calls)
            {
                turn = _calls.Count;
                _calls.Add((arrived, arrived));
            }

            try
            {
                return answers[Math.Min(turn, answers.Length - 1)]();
            }
            finally
            {
                lock (_calls)
                {
                    _calls[turn] = (arrived, _clock.Elapsed);
                }
            }
        }
    }

    private sealed class ScriptedExecutionService(Script script) : ExecutionService.ExecutionServiceBase
    {
        public override Task<OpenPositionResponse> OpenPosition(OpenPositionRequest request, ServerCallContext context) =>
            Task.FromResult(script.Answer());
    }
}
