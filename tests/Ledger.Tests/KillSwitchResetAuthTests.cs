using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using TradeEngine.Ledger.Tests.Support;
using TradeEngine.Ledger.V1;
using TradeEngine.Testing.Logging;
using TradeEngine.Testing.Servers;
using static TradeEngine.Ledger.Tests.Support.Requests;

namespace TradeEngine.Ledger.Tests;

/// <summary>
/// SetKillSwitch with active=false (a reset) needs the operator key (<c>Ledger:KillSwitch:OperatorKey</c>) in the
/// <c>x-operator-key</c> metadata, with Risk's answers. Before, anyone who could reach the Ledger could clear the switch
/// directly, around Risk's check. Every refusal reads the state back: still on, the history and the outbox as they were,
/// no idempotency key stored, and no answer or log line contains a key. Latching needs no key.
/// </summary>
[Collection(LedgerCollection.Name)]
public sealed class KillSwitchResetAuthTests(PostgresServer postgres, RabbitMqServer rabbit)
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task SetKillSwitch_ResetWithoutOperatorKey_UnauthenticatedAndNothingWritten(bool emptyHeader)
    {
        await using var ledger = await LedgerHost.StartAsync(postgres, rabbit, relay: false);
        await LatchAsync(ledger);
        var headers = emptyHeader ? new Metadata { { "x-operator-key", string.Empty } } : null;

        var refused = await RpcAssert.FailsWith(StatusCode.Unauthenticated,
            () => ledger.Client.SetKillSwitchAsync(Reset(), headers).ResponseAsync);

        Assert.Equal("an operator key (x-operator-key) is required to reset the kill switch", refused.Status.Detail);
        await AssertStillOnAndNothingWrittenAsync(ledger);
    }

    /// <summary>Near misses too: a key one character off, the key cut short, the key with more after it.</summary>
    [Theory]
    [InlineData("ledger-test-operator-key-4b1")]
    [InlineData(LedgerHost.OperatorKey + "x")]
    [InlineData("ledger-test-operator-key-4b1e")]
    public async Task SetKillSwitch_ResetWithWrongOperatorKey_PermissionDeniedWarningWithoutTheKeyAndNothingWritten(string wrongKey)
    {
        var logs = new ListLoggerProvider();
        await using var ledger = await LedgerHost.StartAsync(postgres, rabbit, relay: false,
            configureServices: s => s.AddSingleton<ILoggerProvider>(logs));
        await LatchAsync(ledger);

        var refused = await RpcAssert.FailsWith(StatusCode.PermissionDenied,
            () => ledger.Client.SetKillSwitchAsync(Reset(), new Metadata { { "x-operator-key", wrongKey } }).ResponseAsync);

        Assert.Contains("Ledger service", refused.Status.Detail, StringComparison.Ordinal);
        await AssertStillOnAndNothingWrittenAsync(ledger);
        logs.AssertRefusalWarnedWithoutKeys(refused, "mallory", wrongKey, LedgerHost.OperatorKey);
    }

    /// <summary>No key configured: every reset is refused, with any key; latching still works without one.</summary>
    [Fact]
    public async Task SetKillSwitch_ResetWithNoOperatorKeyConfigured_FailedPreconditionNamingTheSettingLatchStillOpen()
    {
        await using var ledger = await LedgerHost.StartAsync(postgres, rabbit, relay: false,
            settings: new Dictionary<string, string?> { ["Ledger:KillSwitch:OperatorKey"] = null });
        await LatchAsync(ledger);

        var refused = await RpcAssert.FailsWith(StatusCode.FailedPrecondition,
            () => ledger.Client.SetKillSwitchAsync(Reset(), LedgerHost.OperatorHeaders).ResponseAsync);

        Assert.Contains("disabled until Ledger:KillSwitch:OperatorKey is configured", refused.Status.Detail, StringComparison.Ordinal);
        await AssertStillOnAndNothingWrittenAsync(ledger);
    }

    [Fact]
    public async Task SetKillSwitch_LatchWithoutOperatorKey_Latches()
    {
        await using var ledger = await LedgerHost.StartAsync(postgres, rabbit, relay: false);

        var latched = await ledger.Client.SetKillSwitchAsync(Latch());

        Assert.True(latched.Active);
        Assert.True((await ledger.Client.GetKillSwitchAsync(new GetKillSwitchRequest())).Active);
        Assert.Single((await ledger.Client.GetKillSwitchHistoryAsync(new GetKillSwitchHistoryRequest())).Changes);
    }

    [Fact]
    public async Task SetKillSwitch_ResetWithRightOperatorKey_ResetsAndIsOnRecord()
    {
        await using var ledger = await LedgerHost.StartAsync(postgres, rabbit, relay: false);
        await LatchAsync(ledger);

        var off = await ledger.Client.SetKillSwitchAsync(Reset(), LedgerHost.OperatorHeaders);

        Assert.False(off.Active);
        Assert.Equal("mallory", off.Actor);
        Assert.False((await ledger.Client.GetKillSwitchAsync(new GetKillSwitchRequest())).Active);
        Assert.Equal(2, (await ledger.Client.GetKillSwitchHistoryAsync(new GetKillSwitchHistoryRequest())).Changes.Count);
        Assert.Equal(2, await ledger.CountAsync("outbox"));
    }

    /// <summary>
    /// A replay (same idempotency key, same request) of an accepted reset is checked like a new one: without the key it is
    /// UNAUTHENTICATED (not the stored answer, nor a hint that the key was used), with a wrong one PERMISSION_DENIED; with
    /// the key it answers the first answer as before. The switch, latched again since, stays on throughout.
    /// </summary>
    [Fact]
    public async Task SetKillSwitch_ReplayOfAcceptedResetWithoutTheKey_RefusedRevealingAndChangingNothing()
    {
        await using var ledger = await LedgerHost.StartAsync(postgres, rabbit, relay: false);
        await LatchAsync(ledger);
        var reset = Reset();
        await ledger.Client.SetKillSwitchAsync(reset, LedgerHost.OperatorHeaders);
        await LatchAsync(ledger);

        var missing = await RpcAssert.FailsWith(StatusCode.Unauthenticated, () => ledger.Client.SetKillSwitchAsync(reset).ResponseAsync);
        var wrong = await RpcAssert.FailsWith(StatusCode.PermissionDenied,
            () => ledger.Client.SetKillSwitchAsync(reset, new Metadata { { "x-operator-key", "not-the-ledger-operator-key" } }).ResponseAsync);
        var replayed = await ledger.Client.SetKillSwitchAsync(reset, LedgerHost.OperatorHeaders);

        Assert.DoesNotContain("mallory", missing.Status.Detail, StringComparison.Ordinal);
        Assert.DoesNotContain("mallory", wrong.Status.Detail, StringComparison.Ordinal);
        Assert.True(replayed.Replayed);
        Assert.True((await ledger.Client.GetKillSwitchAsync(new GetKillSwitchRequest())).Active);
        Assert.Equal(3, (await ledger.Client.GetKillSwitchHistoryAsync(new GetKillSwitchHistoryRequest())).Changes.Count);
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
        var refused = await Assert.ThrowsAsync<Microsoft.Extensions.Options.OptionsValidationException>(() => LedgerHost.StartAsync(
            postgres, rabbit, relay: false, settings: new Dictionary<string, string?> { ["Ledger:KillSwitch:OperatorKey"] = key }));

        Assert.Contains("Ledger:KillSwitch:OperatorKey", refused.Message, StringComparison.Ordinal);
        if (!string.IsNullOrWhiteSpace(key))
        {
            Assert.DoesNotContain(key.Trim(), refused.Message, StringComparison.Ordinal);
        }
    }

    private static SetKillSwitchRequest Latch() => new()
    {
        IdempotencyKey = Key(), Active = true, Trigger = "daily_loss", Reason = "loss 5%", Actor = "risk",
    };

    private static SetKillSwitchRequest Reset() => new()
    {
        IdempotencyKey = Key(), Active = false, Trigger = "operator", Reason = "let me trade", Actor = "mallory",
    };

    private static async Task LatchAsync(LedgerHost ledger) => Assert.True((await ledger.Client.SetKillSwitchAsync(Latch())).Active);

    /// <summary>The switch on as the one latch left it: one change, its one event, only its idempotency key.</summary>
    private static async Task AssertStillOnAndNothingWrittenAsync(LedgerHost ledger)
    {
        var state = await ledger.Client.GetKillSwitchAsync(new GetKillSwitchRequest());
        Assert.True(state.Active);
        Assert.Equal("risk", state.Actor);
        Assert.Single((await ledger.Client.GetKillSwitchHistoryAsync(new GetKillSwitchHistoryRequest())).Changes);
        Assert.Equal(1, await ledger.CountAsync("outbox"));
        Assert.Equal(1, await ledger.CountAsync("idempotency_keys"));
    }
}
