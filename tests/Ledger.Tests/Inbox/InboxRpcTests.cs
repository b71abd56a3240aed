using TradeEngine.Ledger.Tests.Support;
using TradeEngine.Ledger.V1;
using TradeEngine.Testing.Servers;

namespace TradeEngine.Ledger.Tests.Inbox;

/// <summary>The claim protocol of the Ledger's inbox over gRPC: claim, complete, release, lease expiry.</summary>
[Collection(LedgerCollection.Name)]
public sealed class InboxRpcTests(PostgresServer postgres, RabbitMqServer rabbit) : IAsyncLifetime
{
    private LedgerHost _ledger = null!;

    private LedgerService.LedgerServiceClient Client => _ledger.Client;

    public async Task InitializeAsync() => _ledger = await LedgerHost.StartAsync(postgres, rabbit, relay: false);

    public async Task DisposeAsync() => await _ledger.DisposeAsync();

    [Fact]
    public async Task ClaimInbox_ClaimedThenHeldThenCompleted_InProgressThenAlreadyProcessed()
    {
        var eventId = Guid.NewGuid().ToString();

        var first = await Claim("c", eventId);
        var second = await Claim("c", eventId);
        var otherConsumer = await Claim("other", eventId);
        var checkWhileHeld = await Client.CheckInboxAsync(new CheckInboxRequest { Consumer = "c", EventId = eventId });
        var completed = await Client.CompleteInboxAsync(new CompleteInboxRequest { Consumer = "c", EventId = eventId });
        var again = await Client.CompleteInboxAsync(new CompleteInboxRequest { Consumer = "c", EventId = eventId });
        var after = await Claim("c", eventId);

        Assert.Equal(InboxClaimOutcome.Claimed, first.Outcome);
        Assert.NotEmpty(first.ClaimToken);
        Assert.NotNull(first.LeaseUntil);
        Assert.Equal(InboxClaimOutcome.InProgress, second.Outcome);
        Assert.Empty(second.ClaimToken);
        Assert.Equal(InboxClaimOutcome.Claimed, otherConsumer.Outcome);
        Assert.False(checkWhileHeld.Processed);
        Assert.True(completed.FirstTime);
        Assert.False(again.FirstTime);
        Assert.Equal(InboxClaimOutcome.AlreadyProcessed, after.Outcome);
        Assert.True((await Client.CheckInboxAsync(new CheckInboxRequest { Consumer = "c", EventId = eventId })).Processed);
    }

    [Fact]
    public async Task ClaimInbox_TwentyConcurrentClaims_ExactlyOneClaimed()
    {
        var eventId = Guid.NewGuid().ToString();

        var outcomes = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => Claim("c", eventId)));

        Assert.Equal(1, outcomes.Count(o => o.Outcome == InboxClaimOutcome.Claimed));
        Assert.Equal(19, outcomes.Count(o => o.Outcome == InboxClaimOutcome.InProgress));
    }

    [Fact]
    public async Task ReleaseInbox_OwnToken_ClaimableAgainStaleTokenReleasesNothing()
    {
        var eventId = Guid.NewGuid().ToString();
        var first = await Claim("c", eventId);

        var released = await Client.ReleaseInboxAsync(new ReleaseInboxRequest { Consumer = "c", EventId = eventId, ClaimToken = first.ClaimToken });
        var second = await Claim("c", eventId);
        var stale = await Client.ReleaseInboxAsync(new ReleaseInboxRequest { Consumer = "c", EventId = eventId, ClaimToken = first.ClaimToken });

        Assert.True(released.Released);
        Assert.Equal(InboxClaimOutcome.Claimed, second.Outcome);
        Assert.NotEqual(first.ClaimToken, second.ClaimToken);
        Assert.False(stale.Released);
        Assert.Equal(InboxClaimOutcome.InProgress, (await Claim("c", eventId)).Outcome);
    }

    [Fact]
    public async Task ClaimInbox_LeaseExpired_ClaimedAgain()
    {
        var eventId = Guid.NewGuid().ToString();
        // A 3 s lease: the claim right after it must still find it held on a loaded machine (1 s left too little room).
        var first = await Claim("c", eventId, leaseSeconds: 3);
        Assert.Equal(InboxClaimOutcome.InProgress, (await Claim("c", eventId)).Outcome);

        await Task.Delay(TimeSpan.FromSeconds(3.3));
        var second = await Claim("c", eventId);

        Assert.Equal(InboxClaimOutcome.Claimed, second.Outcome);
        Assert.NotEqual(first.ClaimToken, second.ClaimToken);
        Assert.Equal(2, await _ledger.ScalarAsync<int>("SELECT claims FROM inbox WHERE consumer = 'c' AND event_id = $1", Guid.Parse(eventId)));
    }

    [Fact]
    public async Task RecordInbox_WhileClaimed_MarksProcessed()
    {
        var eventId = Guid.NewGuid().ToString();
        await Claim("c", eventId);

        var recorded = await Client.RecordInboxAsync(new RecordInboxRequest { Consumer = "c", EventId = eventId });

        Assert.True(recorded.FirstTime);
        Assert.True((await Client.CheckInboxAsync(new CheckInboxRequest { Consumer = "c", EventId = eventId })).Processed);
        Assert.Equal(InboxClaimOutcome.AlreadyProcessed, (await Claim("c", eventId)).Outcome);
    }

    /// <summary>
    /// A claim repeated with its own token (its answer was lost on the way back) gets the claim back, renewed; another
    /// token still finds it in progress. Before, the repeat found its own claim IN_PROGRESS and waited out the lease.
    /// </summary>
    [Fact]
    public async Task ClaimInbox_RepeatedWithItsOwnToken_ClaimedAgainAnotherTokenStillInProgress()
    {
        var eventId = Guid.NewGuid().ToString();
        var token = Guid.NewGuid().ToString();

        var first = await Client.ClaimInboxAsync(new ClaimInboxRequest { Consumer = "c", EventId = eventId, ClaimToken = token });
        var repeated = await Client.ClaimInboxAsync(new ClaimInboxRequest { Consumer = "c", EventId = eventId, ClaimToken = token });
        var other = await Client.ClaimInboxAsync(new ClaimInboxRequest { Consumer = "c", EventId = eventId, ClaimToken = Guid.NewGuid().ToString() });
        var untokened = await Claim("c", eventId);

        Assert.Equal((InboxClaimOutcome.Claimed, token), (first.Outcome, first.ClaimToken));
        Assert.Equal((InboxClaimOutcome.Claimed, token), (repeated.Outcome, repeated.ClaimToken));
        Assert.True(repeated.LeaseUntil.ToDateTimeOffset() >= first.LeaseUntil.ToDateTimeOffset());
        Assert.Equal(InboxClaimOutcome.InProgress, other.Outcome);
        Assert.Equal(InboxClaimOutcome.InProgress, untokened.Outcome);
        Assert.Equal(1, await _ledger.CountAsync("inbox WHERE status = 'in_progress' AND claim_token = $1::uuid", token));

        await Client.CompleteInboxAsync(new CompleteInboxRequest { Consumer = "c", EventId = eventId });
        var afterCompletion = await Client.ClaimInboxAsync(new ClaimInboxRequest { Consumer = "c", EventId = eventId, ClaimToken = token });
        Assert.Equal(InboxClaimOutcome.AlreadyProcessed, afterCompletion.Outcome);
    }

    [Fact]
    public async Task ClaimInbox_MalformedToken_InvalidArgumentNothingWritten()
    {
        await RpcAssert.InvalidArgument("claim_token", () => Client.ClaimInboxAsync(
            new ClaimInboxRequest { Consumer = "c", EventId = Guid.NewGuid().ToString(), ClaimToken = "not-a-uuid" }).ResponseAsync);
        Assert.Equal(0, await _ledger.CountAsync("inbox"));
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(3601)]
    public async Task ClaimInbox_LeaseOutOfRange_InvalidArgumentNothingWritten(int leaseSeconds)
    {
        await RpcAssert.InvalidArgument("lease_seconds", () => Client.ClaimInboxAsync(
            new ClaimInboxRequest { Consumer = "c", EventId = Guid.NewGuid().ToString(), LeaseSeconds = leaseSeconds }).ResponseAsync);
        Assert.Equal(0, await _ledger.CountAsync("inbox"));
    }

    private async Task<ClaimInboxResponse> Claim(string consumer, string eventId, int leaseSeconds = 60) =>
        await Client.ClaimInboxAsync(new ClaimInboxRequest { Consumer = consumer, EventId = eventId, LeaseSeconds = leaseSeconds });
}
