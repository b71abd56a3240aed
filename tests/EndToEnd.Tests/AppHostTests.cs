using Aspire.Hosting.Testing;
using Grpc.Health.V1;

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
}
