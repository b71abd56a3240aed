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
}
