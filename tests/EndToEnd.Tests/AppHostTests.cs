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

    /// <summary>
    /// With containers, PostgreSQL and RabbitMQ keep their data in named volumes: the Ledger (positions, the kill switch,
    /// peak and day-start equity) outlives the AppHost, as the simulator's state does. Before, the containers had none,
    /// and every restart of the AppHost started the system of record empty. Only the model is built (no runtime needed).
    /// </summary>
    [Fact]
    public async Task Model_Containers_PostgresAndRabbitMqKeepTheirDataInVolumes()
    {
        await using var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.TradeEngine_AppHost>(["TradeEngine:Containers=true"]);

        var postgres = Assert.Single(builder.Resources.OfType<PostgresServerResource>());
        var rabbit = Assert.Single(builder.Resources.OfType<RabbitMQServerResource>());

        Assert.Contains(postgres.Annotations.OfType<ContainerMountAnnotation>(),
            m => m.Type == ContainerMountType.Volume && m.Target.StartsWith("/var/lib/postgresql", StringComparison.Ordinal) && !string.IsNullOrEmpty(m.Source));
        Assert.Contains(rabbit.Annotations.OfType<ContainerMountAnnotation>(),
            m => m.Type == ContainerMountType.Volume && m.Target == "/var/lib/rabbitmq" && !string.IsNullOrEmpty(m.Source));
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

    /// <summary>
    /// Every service answers only calls carrying the run's generated service key (the secret parameter <c>service-key</c>,
    /// given to each service and the demo): a call without it is UNAUTHENTICATED, one with another key PERMISSION_DENIED,
    /// at each of the four services, and one with it is let through to the method (which answers the empty request: OK, or
    /// INVALID_ARGUMENT for the symbol GetCurrentRate needs).
    /// </summary>
    [Theory]
    [InlineData("ledger", "/tradeengine.ledger.v1.LedgerService/GetKillSwitch", StatusCode.OK)]
    [InlineData("funding", "/tradeengine.funding.v1.FundingService/GetCurrentRate", StatusCode.InvalidArgument)]
    [InlineData("risk", "/tradeengine.risk.v1.RiskService/GetLimits", StatusCode.OK)]
    [InlineData("execution", "/tradeengine.execution.v1.ExecutionService/GetAccount", StatusCode.OK)]
    public async Task Call_ThroughTheAppHost_NeedsTheGeneratedServiceKey(string service, string method, StatusCode withTheKey)
    {
        var parameter = fixture.App.Services.GetRequiredService<DistributedApplicationModel>().Resources.OfType<ParameterResource>()
            .Single(p => p.Name == "service-key");
        var key = await parameter.GetValueAsync(CancellationToken.None);
        var address = fixture.App.GetEndpoint(service, "http");
        using var bare = Grpc.Net.Client.GrpcChannel.ForAddress(address);
        using var other = TradeEngine.Testing.Hosting.TestServiceKey.Channel(address, "not-the-generated-service-key");
        Assert.True(parameter.Secret);
        Assert.True(key?.Length >= 32);
        using var keyed = TradeEngine.Testing.Hosting.TestServiceKey.Channel(address, key!);

        var missing = await Assert.ThrowsAsync<RpcException>(() => CallAsync(bare, method));
        var wrong = await Assert.ThrowsAsync<RpcException>(() => CallAsync(other, method));
        var answered = await Record.ExceptionAsync(() => CallAsync(keyed, method));

        Assert.Equal(StatusCode.Unauthenticated, missing.StatusCode);
        Assert.Equal(StatusCode.PermissionDenied, wrong.StatusCode);
        Assert.Equal(withTheKey, answered is RpcException rpc ? rpc.StatusCode : answered is null ? StatusCode.OK : throw answered);
    }

    /// <summary>Calls <paramref name="method"/> with an empty message (the refusal comes before the message is read).</summary>
    private static async Task CallAsync(Grpc.Net.Client.GrpcChannel channel, string method)
    {
        var slash = method.LastIndexOf('/');
        var call = new Method<Google.Protobuf.WellKnownTypes.Empty, Google.Protobuf.WellKnownTypes.Empty>(
            MethodType.Unary, method[1..slash], method[(slash + 1)..],
            Marshallers.Create(m => Google.Protobuf.MessageExtensions.ToByteArray(m), Google.Protobuf.WellKnownTypes.Empty.Parser.ParseFrom),
            Marshallers.Create(m => Google.Protobuf.MessageExtensions.ToByteArray(m), Google.Protobuf.WellKnownTypes.Empty.Parser.ParseFrom));
        await channel.CreateCallInvoker().AsyncUnaryCall(call, null, new CallOptions(deadline: DateTime.UtcNow.AddSeconds(10)), new Google.Protobuf.WellKnownTypes.Empty());
    }
}
