using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Net.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using TradeEngine.Risk.Services;
using TradeEngine.Risk.V1;
using TradeEngine.ServiceDefaults.Grpc;
using TradeEngine.Testing.Hosting;
using TradeEngine.Testing.Logging;

namespace TradeEngine.ServiceDefaults.Tests.Grpc;

/// <summary>
/// Service identity between our services (<see cref="ServiceKey"/>), against the real Risk service over loopback: a call
/// without the deployment's key or with another is refused before the service's code runs, and says so without the
/// key; the health service needs none; a service without a key (or with a weak one) does not start; a client without
/// one names the setting.
/// </summary>
public sealed class ServiceKeyTests : IAsyncLifetime
{
    private readonly ListLoggerProvider logs = new();
    private readonly LoopbackServiceHost<RiskGrpcService> risk;

    public ServiceKeyTests() =>
        risk = new LoopbackServiceHost<RiskGrpcService>(configureServices: s => s.AddSingleton<ILoggerProvider>(logs));

    public Task InitializeAsync() => risk.StartAsync();

    public async Task DisposeAsync() => await risk.DisposeAsync();

    [Fact]
    public async Task Call_WithoutTheServiceKey_UnauthenticatedNamingTheHeader()
    {
        using var bare = GrpcChannel.ForAddress(risk.Address, new GrpcChannelOptions { HttpHandler = new SocketsHttpHandler() });

        var refused = await Assert.ThrowsAsync<RpcException>(() => new RiskService.RiskServiceClient(bare).GetLimitsAsync(new GetLimitsRequest()).ResponseAsync);

        Assert.Equal(StatusCode.Unauthenticated, refused.StatusCode);
        Assert.Contains(ServiceKey.HeaderName, refused.Status.Detail, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("another-deployments-key-0123")]
    [InlineData(TestServiceKey.Value + "x")]
    public async Task Call_WithAnotherServiceKey_PermissionDeniedAndWarnedWithoutEitherKey(string wrongKey)
    {
        using var wrong = TestServiceKey.Channel(risk.Address, wrongKey);

        var refused = await Assert.ThrowsAsync<RpcException>(() =>
            new RiskService.RiskServiceClient(wrong).TriggerKillSwitchAsync(new TriggerKillSwitchRequest
            {
                IdempotencyKey = "service-key-test", Reason = "must not run", Actor = "mallory",
            }).ResponseAsync);

        Assert.Equal(StatusCode.PermissionDenied, refused.StatusCode);
        // Refused before the method ran: Risk has no Ledger here, so a call that reached it would have been UNAVAILABLE.
        logs.AssertRefusalWarnedWithoutKeys(refused, "TriggerKillSwitch", wrongKey, TestServiceKey.Value);
    }

    [Fact]
    public async Task Call_WithTheServiceKey_Answered()
    {
        var limits = await new RiskService.RiskServiceClient(risk.Channel).GetLimitsAsync(new GetLimitsRequest());

        Assert.Equal("10000", limits.HardMaxPositionNotional);
        Assert.DoesNotContain(logs.Entries, e => e.Message.Contains("service key", StringComparison.Ordinal));
    }

    [Fact]
    public async Task HealthCheck_WithoutTheServiceKey_Answered()
    {
        using var bare = GrpcChannel.ForAddress(risk.Address, new GrpcChannelOptions { HttpHandler = new SocketsHttpHandler() });

        var health = await new Health.HealthClient(bare).CheckAsync(new HealthCheckRequest());

        Assert.NotEqual(HealthCheckResponse.Types.ServingStatus.Unknown, health.Status);
    }

    [Theory]
    [InlineData(null, "is not configured")]
    [InlineData("short-key", "at least 16 characters")]
    [InlineData("a key with spaces in it", "printable ASCII")]
    public async Task Start_WithoutAUsableServiceKey_RefusedNamingTheSettingNotTheKey(string? key, string expected)
    {
        await using var keyless = new LoopbackServiceHost<RiskGrpcService>(new Dictionary<string, string?> { [ServiceKey.Setting] = key });

        var ex = await Assert.ThrowsAnyAsync<Exception>(keyless.StartAsync);

        var text = Flatten(ex);
        Assert.Contains(ServiceKey.Setting, text, StringComparison.Ordinal);
        Assert.Contains(expected, text, StringComparison.Ordinal);
        if (key is not null)
        {
            Assert.DoesNotContain(key, text, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task ServiceGrpcClient_WithoutAServiceKeyConfigured_FailsNamingTheSettingAndSendsNothing()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration["services:risk:http:0"] = risk.Address.ToString();
        builder.AddServiceDefaults();
        builder.Services.AddServiceGrpcClient<RiskService.RiskServiceClient>("risk");
        using var host = builder.Build();

        var ex = await Assert.ThrowsAnyAsync<Exception>(() =>
            host.Services.GetRequiredService<RiskService.RiskServiceClient>().GetLimitsAsync(new GetLimitsRequest()).ResponseAsync);

        Assert.Contains(ServiceKey.Setting, Flatten(ex), StringComparison.Ordinal);
        // Nothing reached Risk: it logged no refused call.
        Assert.DoesNotContain(logs.Entries, e => e.Message.Contains("refused", StringComparison.Ordinal));
    }

    private static string Flatten(Exception ex) => ex.InnerException is null ? ex.Message : ex.Message + " | " + Flatten(ex.InnerException);
}
