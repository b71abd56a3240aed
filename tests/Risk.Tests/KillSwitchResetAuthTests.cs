using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using TradeEngine.Risk.Tests.Support;
using TradeEngine.Risk.V1;
using TradeEngine.Testing.Logging;
using TradeEngine.Testing.Servers;

namespace TradeEngine.Risk.Tests;

/// <summary>
/// ResetKillSwitch needs the operator key (<c>Risk:KillSwitch:OperatorKey</c>) in the <c>x-operator-key</c> metadata.
/// Before, anyone who could reach the service could clear the switch, the last line of defence after a daily-loss or
/// drawdown breach. Every refusal leaves the switch on (read back from Risk and the Ledger) with nothing recorded, and
/// no answer or log line contains a key.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class KillSwitchResetAuthTests(PostgresServer postgres, RabbitMqServer rabbit)
{
    private static readonly ResetKillSwitchRequest Reset = new() { IdempotencyKey = "all-clear", Operator = "mallory", Reason = "let me trade" };

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ResetKillSwitch_NoOperatorKey_UnauthenticatedAndTheSwitchStaysOn(bool emptyHeader)
    {
        await using var world = await RiskWorld.StartAsync(postgres, rabbit);
        await TriggerAsync(world);
        var headers = emptyHeader ? new Metadata { { "x-operator-key", string.Empty } } : null;

        var refused = await Assert.ThrowsAsync<RpcException>(() => world.Risk.ResetKillSwitchAsync(Reset, headers).ResponseAsync);

        Assert.Equal(StatusCode.Unauthenticated, refused.StatusCode);
        Assert.Equal("an operator key (x-operator-key) is required to reset the kill switch", refused.Status.Detail);
        await AssertStillOnAndNothingRecordedAsync(world);
    }

    /// <summary>Near misses too: a key one character off, the key cut short, the key with more after it.</summary>
    [Theory]
    [InlineData("test-operator-key-7f3a")]
    [InlineData(RiskWorld.OperatorKey + "x")]
    [InlineData("test-operator-key-7f3a9c2f")]
    public async Task ResetKillSwitch_WrongOperatorKey_PermissionDeniedWarningWithoutTheKeyAndTheSwitchStaysOn(string wrongKey)
    {
        var logs = new ListLoggerProvider();
        await using var world = await RiskWorld.StartAsync(postgres, rabbit, riskServices: s => s.AddSingleton<ILoggerProvider>(logs));
        await TriggerAsync(world);

        var refused = await Assert.ThrowsAsync<RpcException>(() =>
            world.Risk.ResetKillSwitchAsync(Reset, new Metadata { { "x-operator-key", wrongKey } }).ResponseAsync);

        Assert.Equal(StatusCode.PermissionDenied, refused.StatusCode);
        await AssertStillOnAndNothingRecordedAsync(world);
        logs.AssertRefusalWarnedWithoutKeys(refused, "mallory", wrongKey, RiskWorld.OperatorKey);
    }

    [Fact]
    public async Task ResetKillSwitch_NoOperatorKeyConfigured_FailedPreconditionNamingTheSettingAndTheSwitchStaysOn()
    {
        await using var world = await RiskWorld.StartAsync(postgres, rabbit, risk: new Dictionary<string, string?> { ["Risk:KillSwitch:OperatorKey"] = null });
        await TriggerAsync(world);

        var refused = await Assert.ThrowsAsync<RpcException>(() => world.Risk.ResetKillSwitchAsync(Reset, RiskWorld.OperatorHeaders).ResponseAsync);

        Assert.Equal(StatusCode.FailedPrecondition, refused.StatusCode);
        Assert.Contains("disabled until Risk:KillSwitch:OperatorKey is configured", refused.Status.Detail, StringComparison.Ordinal);
        await AssertStillOnAndNothingRecordedAsync(world);
    }

    /// <summary>The request's own form is checked first: a malformed reset is INVALID_ARGUMENT, with or without a key.</summary>
    [Fact]
    public async Task ResetKillSwitch_MalformedWithoutOperatorKey_InvalidArgumentFirst()
    {
        await using var world = await RiskWorld.StartAsync(postgres, rabbit);
        await TriggerAsync(world);

        var refused = await Assert.ThrowsAsync<RpcException>(() =>
            world.Risk.ResetKillSwitchAsync(new ResetKillSwitchRequest { IdempotencyKey = "all-clear", Reason = "over" }).ResponseAsync);

        Assert.Equal(StatusCode.InvalidArgument, refused.StatusCode);
        await AssertStillOnAndNothingRecordedAsync(world);
    }

    [Fact]
    public async Task ResetKillSwitch_RightOperatorKey_ResetsAndIsOnRecord()
    {
        await using var world = await RiskWorld.StartAsync(postgres, rabbit);
        await TriggerAsync(world);

        var off = await world.Risk.ResetKillSwitchAsync(
            new ResetKillSwitchRequest { IdempotencyKey = "all-clear", Operator = "alice", Reason = "incident over" }, RiskWorld.OperatorHeaders);

        Assert.False(off.Active);
        Assert.Equal("alice", off.Actor);
        Assert.False((await world.Risk.GetKillSwitchAsync(new GetKillSwitchRequest())).Active);
        Assert.Equal(2, (await world.Ledger.GetKillSwitchHistoryAsync(new Ledger.V1.GetKillSwitchHistoryRequest())).Changes.Count);
        Assert.Equal(1, await world.CountAsync("risk_events WHERE event_type = 'kill_switch_reset'"));
    }

    /// <summary>
    /// Risk passes the key its operator presented on to the Ledger, which checks it against its own: a Ledger configured
    /// with another key refuses the reset, and Risk passes the Ledger's PERMISSION_DENIED through (naming the Ledger, so the
    /// operator knows which service holds another key; not UNAVAILABLE, which would invite the same call again). The
    /// switch stays on and nothing is recorded.
    /// </summary>
    [Fact]
    public async Task ResetKillSwitch_LedgerConfiguredWithAnotherKey_PermissionDeniedFromTheLedgerAndTheSwitchStaysOn()
    {
        await using var world = await RiskWorld.StartAsync(postgres, rabbit,
            ledger: new Dictionary<string, string?> { ["Ledger:KillSwitch:OperatorKey"] = "another-ledger-operator-key-0d9e" });
        await TriggerAsync(world);

        var refused = await Assert.ThrowsAsync<RpcException>(() => world.Risk.ResetKillSwitchAsync(Reset, RiskWorld.OperatorHeaders).ResponseAsync);

        Assert.Equal(StatusCode.PermissionDenied, refused.StatusCode);
        Assert.Contains("Ledger service", refused.Status.Detail, StringComparison.Ordinal);
        Assert.DoesNotContain(RiskWorld.OperatorKey, refused.Message, StringComparison.Ordinal);
        await AssertStillOnAndNothingRecordedAsync(world);
    }

    /// <summary>A configured key that is short, blank or could not travel as metadata stops the start, and the message does not echo it.</summary>
    [Theory]
    [InlineData("fifteen-chars-k")]
    [InlineData("                    ")]
    [InlineData("")]
    [InlineData("   short-but-padded   ")]
    [InlineData("a key with spaces in it")]
    public async Task Start_OperatorKeyShortBlankOrNotMetadata_RefusedAtStartWithoutEchoingIt(string key)
    {
        var refused = await RiskWorld.StartRefusedAsync(rabbit, "Risk:KillSwitch:OperatorKey", key);

        Assert.Contains("Risk:KillSwitch:OperatorKey", refused.Message, StringComparison.Ordinal);
        if (!string.IsNullOrWhiteSpace(key))
        {
            Assert.DoesNotContain(key.Trim(), refused.Message, StringComparison.Ordinal);
        }
    }

    private static Task TriggerAsync(RiskWorld world) => world.Risk.TriggerKillSwitchAsync(new TriggerKillSwitchRequest
    {
        IdempotencyKey = "stop", Trigger = KillSwitchTrigger.Operator, Reason = "exchange incident", Actor = "bob",
    }).ResponseAsync;

    private static async Task AssertStillOnAndNothingRecordedAsync(RiskWorld world)
    {
        Assert.True((await world.Risk.GetKillSwitchAsync(new GetKillSwitchRequest())).Active);
        Assert.True((await world.Ledger.GetKillSwitchAsync(new Ledger.V1.GetKillSwitchRequest())).Active);
        Assert.Single((await world.Ledger.GetKillSwitchHistoryAsync(new Ledger.V1.GetKillSwitchHistoryRequest())).Changes);
        Assert.Equal(0, await world.CountAsync("risk_events WHERE event_type = 'kill_switch_reset'"));
    }
}
