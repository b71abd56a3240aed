using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Grpc.Core;
using Grpc.Health.V1;
using Microsoft.Extensions.DependencyInjection;
using TradeEngine.Risk.V1;

namespace TradeEngine.EndToEnd.Tests;

[Collection(AppHostCollection.Name)]
public sealed class AppHostTests(AppHostFixture fixture)
{
    [Theory]
    [InlineData("ledger")]
    [InlineData("funding")]
    [InlineData("risk")]
    [InlineData("execution")]
    public async Task HealthCheck_ServiceStarted_AnswersServing(string service)
    {
        var client = new Health.HealthClient(fixture.Channel(service));

        var reply = await client.CheckAsync(new HealthCheckRequest(), deadline: DateTime.UtcNow.AddSeconds(10));

        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, reply.Status);
    }

    [Fact]
    public async Task Model_RealVenueConfigured_NoDemoAndNoSimulator()
    {
        // Only the model is built (in this collection, after the fixture, so its state folder and servers are reused).
        // The demo places orders: on a real venue that would be real money on every start.
        await using var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.TradeEngine_AppHost>(
            ["Venue:BaseUrl=https://fapi.binance.example.invalid"]);

        var names = builder.Resources.Select(r => r.Name).ToList();

        Assert.DoesNotContain("demo", names);
        Assert.DoesNotContain("paper-exchange", names);
        Assert.Contains("execution", names);
        Assert.Contains("binance-api-secret", names);
    }

    [Fact]
    public void Model_DefaultVenue_DemoRunsAgainstTheSimulator()
    {
        var names = fixture.ResourceNames;

        Assert.Contains("demo", names);
        Assert.Contains("paper-exchange", names);
    }

    /// <summary>
    /// Risk gets the AppHost's generated secret parameter <c>killswitch-operator-key</c> (the key the operator reads from the
    /// dashboard): a reset without it or with another key is refused, one with it is accepted. The switch is off here
    /// (nothing else in this collection turns it on) and stays off: a reset of a switch already off changes nothing, so the
    /// other tests sharing the AppHost are not disturbed.
    /// </summary>
    [Fact]
    public async Task ResetKillSwitch_ThroughTheAppHost_NeedsTheGeneratedOperatorKey()
    {
        var parameter = fixture.App.Services.GetRequiredService<DistributedApplicationModel>().Resources.OfType<ParameterResource>()
            .Single(p => p.Name == "killswitch-operator-key");
        var key = await parameter.GetValueAsync(CancellationToken.None);
        var risk = new RiskService.RiskServiceClient(fixture.Channel("risk"));
        var reset = new ResetKillSwitchRequest { IdempotencyKey = $"e2e-reset-{Guid.NewGuid():N}", Operator = "e2e", Reason = "operator key check" };
        Assert.True(parameter.Secret);
        Assert.True(key?.Length >= 32);
        Assert.False((await risk.GetKillSwitchAsync(new GetKillSwitchRequest())).Active);

        var missing = await Assert.ThrowsAsync<RpcException>(() => risk.ResetKillSwitchAsync(reset).ResponseAsync);
        var wrong = await Assert.ThrowsAsync<RpcException>(() =>
            risk.ResetKillSwitchAsync(reset, new Metadata { { "x-operator-key", "not-the-generated-operator-key" } }).ResponseAsync);
        var accepted = await risk.ResetKillSwitchAsync(reset, new Metadata { { "x-operator-key", key! } });

        Assert.Equal(StatusCode.Unauthenticated, missing.StatusCode);
        Assert.Equal(StatusCode.PermissionDenied, wrong.StatusCode);
        Assert.False(accepted.Active);
    }
}
