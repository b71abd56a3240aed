using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;

namespace TradeEngine.EndToEnd.Tests.Execution;

/// <summary>The AppHost's "demo" resource (the plan's integration example) runs once the services are healthy and succeeds.</summary>
[Collection(AppHostCollection.Name)]
public sealed class DemoEndToEndTests(AppHostFixture fixture)
{
    private const int ServerKind = 2;

    [Fact]
    public async Task Demo_RunByTheAppHost_FinishesWithExitCodeZeroAfterOpeningAndClosing()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(3));

        var finished = await fixture.App.ResourceNotifications.WaitForResourceAsync(
            "demo", e => KnownResourceStates.TerminalStates.Contains(e.Snapshot.State?.Text), cts.Token);

        Assert.True(finished.Snapshot.ExitCode == 0,
            $"demo ended {finished.Snapshot.State?.Text} with exit code {finished.Snapshot.ExitCode} (its console output is in the dashboard)");

        // Its console output is not kept once it has exited, but its trace is (every project exports to the fixture's
        // receiver): the demo's span is the root of one trace that opened and closed a position through every service.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var spans = fixture.Traces.Snapshot();
            var demo = spans.FirstOrDefault(s => s.ServiceName == "demo" && s.Name == "perpetual futures demo");
            var trace = demo is null ? [] : spans.Where(s => s.TraceId == demo.TraceId).ToList();
            var servers = trace.Where(s => s.Kind == ServerKind).Select(s => s.ServiceName).ToHashSet();
            if (servers.IsSupersetOf(["execution", "risk", "funding", "ledger"])
                && trace.Any(s => s.ServiceName == "execution" && s.Name.Contains("ExecutionService/OpenPosition", StringComparison.Ordinal))
                && trace.Any(s => s.ServiceName == "execution" && s.Name.Contains("ExecutionService/ClosePosition", StringComparison.Ordinal)))
            {
                break;
            }

            Assert.True(DateTime.UtcNow < deadline,
                "The demo's trace did not open and close through every service: " + string.Join(", ", trace.Select(s => s.ServiceName + " " + s.Name)));
            await Task.Delay(200, cts.Token);
        }
    }
}
