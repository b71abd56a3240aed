using TradeEngine.Domain.Margin;
using TradeEngine.Risk.Monitor;

namespace TradeEngine.Risk.Tests.Monitor;

/// <summary>
/// The margin episode state machine alone (no I/O, no servers): the band, resuming an episode read from the Ledger, the
/// event id an alert goes out under, and which of its records is owed. The monitor's tests cover the same rules end to
/// end against the real Ledger and RabbitMQ.
/// </summary>
public sealed class MarginEpisodeTests
{
    private const decimal Buffer = 0.15m;

    /// <summary>Inside the band: Ok by its own ratio, below 1 + buffer + band.</summary>
    private const decimal InBand = 1.17m;

    private const decimal Clear = 1.25m;

    private const decimal InReduce = 1.1m;

    private static readonly DateTimeOffset T0 = new(2026, 1, 5, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Observe_OkIntoReduce_ChangeAtOnce()
    {
        var episode = new MarginEpisode();

        var action = episode.Observe(MarginAction.Reduce, InReduce, Buffer);

        Assert.Equal((MarginAction.Reduce, MarginEpisodeStep.Change), (action, episode.Next(action, MarginAction.Reduce)));
    }

    [Fact]
    public void Observe_ReduceThenOkInsideTheBand_StaysReduceUntilClear()
    {
        var episode = InReduceEpisode();

        var inBand = episode.Observe(MarginAction.Ok, InBand, Buffer);
        var clear = episode.Observe(MarginAction.Ok, Clear, Buffer);

        Assert.Equal((MarginAction.Reduce, MarginAction.Ok), (inBand, clear));
    }

    [Fact]
    public void Observe_LiquidateAllThenReduceRatio_StaysLiquidateAll()
    {
        var episode = new MarginEpisode();
        episode.Changed(episode.Observe(MarginAction.LiquidateAll, 0.9m, Buffer));

        Assert.Equal(MarginAction.LiquidateAll, episode.Observe(MarginAction.Reduce, InReduce, Buffer));
        Assert.Equal(MarginAction.Ok, episode.Observe(MarginAction.Ok, null, Buffer));
    }

    [Fact]
    public void Raise_PublishFailedSameState_SameEventIdAndTheFirstRecordKept()
    {
        var episode = new MarginEpisode();
        var first = episode.Raise(Record(MarginAction.Reduce, Guid.NewGuid(), T0));

        var again = episode.Raise(Record(MarginAction.Reduce, Guid.NewGuid(), T0.AddSeconds(1)));

        Assert.Equal(first, again);
        Assert.Equal((first, T0), (episode.OwedRecord!.EventId, episode.OwedRecord.OccurredAt));
    }

    [Fact]
    public void Raise_PublishFailedThenRecovered_NextAlertHasANewEventId()
    {
        var episode = new MarginEpisode();
        var first = episode.Raise(Record(MarginAction.Reduce, Guid.NewGuid(), T0));
        episode.Observe(MarginAction.Ok, Clear, Buffer);

        var next = episode.Raise(Record(MarginAction.Reduce, Guid.NewGuid(), T0.AddSeconds(5)));

        Assert.NotEqual(first, next);
    }

    [Fact]
    public void Recorded_OwedRecordLanded_NothingOwedAndNotOwedAgainForTheSameId()
    {
        var episode = new MarginEpisode();
        var eventId = episode.Raise(Record(MarginAction.Reduce, Guid.NewGuid(), T0));

        episode.Recorded(eventId);
        episode.Raise(Record(MarginAction.Reduce, Guid.NewGuid(), T0.AddSeconds(1)));

        Assert.Null(episode.OwedRecord);
    }

    /// <summary>
    /// An alert record still owed when a graver alert is raised: both owed, oldest first (the newer one's record is the
    /// newest that counts once both land).
    /// </summary>
    [Fact]
    public void Raise_LiquidateAllWhileTheReduceRecordIsOwed_BothOwedInOrder()
    {
        var episode = InReduceEpisode();
        var reduce = episode.Open!.Value;
        var liquidate = episode.Raise(Record(MarginAction.LiquidateAll, Guid.NewGuid(), T0.AddSeconds(3)));

        Assert.Equal([(MarginAction.Reduce, reduce), (MarginAction.LiquidateAll, liquidate)],
            episode.OwedRecords.Select(r => (r.Action, r.EventId)).ToList());
        Assert.Equal(liquidate, episode.Open);
    }

    /// <summary>
    /// Review: a published Reduce alert's record owed, then a LiquidateAll alert whose publish failed, then the ratio back in
    /// Reduce. The unpublished alert is dropped, and its record with it: the published Reduce alert's record stays owed and
    /// becomes the Ledger's newest, and the episode under way is the Reduce one again. When the LiquidateAll record replaced
    /// the Reduce one, a restart resumed an alert that never went out and raised a new Reduce alert: a second halving.
    /// </summary>
    [Fact]
    public void Observe_UnpublishedAlertDroppedWhileAnEarlierRecordIsOwed_ItsRecordDroppedAndTheEarlierOneStays()
    {
        var episode = InReduceEpisode();
        var reduce = episode.Open!.Value;
        episode.Raise(Record(MarginAction.LiquidateAll, Guid.NewGuid(), T0.AddSeconds(3)));

        Assert.Equal(MarginAction.Reduce, episode.Observe(MarginAction.Reduce, InReduce, Buffer));

        Assert.Equal([reduce], episode.OwedRecords.Select(r => r.EventId).ToList());
        Assert.Equal(reduce, episode.Open);
    }

    [Fact]
    public void Resume_WatchedReduceEpisode_ResumedAsReduceAndRepublishedOnceInReduce()
    {
        var episode = new MarginEpisode();
        var old = Guid.NewGuid();

        Assert.True(episode.Resume((MarginAction.Reduce, old, true)));
        var action = episode.Observe(MarginAction.Reduce, InReduce, Buffer);
        Assert.Equal(MarginEpisodeStep.Republish, episode.Next(action, MarginAction.Reduce));
        Assert.Equal(old, episode.Raise(Record(MarginAction.Reduce, Guid.NewGuid(), T0)));
        Assert.Null(episode.OwedRecord); // recorded by the first process
        episode.Published();
        episode.Republished();

        Assert.Equal(MarginEpisodeStep.None, episode.Next(episode.Observe(MarginAction.Reduce, InReduce, Buffer), MarginAction.Reduce));
    }

    [Fact]
    public void Resume_WatchedReduceEpisodeInsideTheBand_NothingDueAndNoRecovery()
    {
        var episode = new MarginEpisode();
        var old = Guid.NewGuid();
        episode.Resume((MarginAction.Reduce, old, true));

        var action = episode.Observe(MarginAction.Ok, InBand, Buffer);

        Assert.Equal((MarginAction.Reduce, MarginEpisodeStep.None), (action, episode.Next(action, MarginAction.Ok)));
        Assert.Equal(old, episode.Open);
    }

    [Fact]
    public void Resume_UnwatchedEpisode_NotResumedAndTheNextAlertHasANewId()
    {
        var episode = new MarginEpisode();
        var old = Guid.NewGuid();

        Assert.False(episode.Resume((MarginAction.Reduce, old, false)));
        var action = episode.Observe(MarginAction.Reduce, InReduce, Buffer);

        Assert.Equal(MarginEpisodeStep.Change, episode.Next(action, MarginAction.Reduce));
        Assert.NotEqual(old, episode.Raise(Record(MarginAction.Reduce, Guid.NewGuid(), T0)));
    }

    [Fact]
    public void Resume_AfterATickSawTheAccountClear_NotResumedButItsRecoveryDue()
    {
        var episode = new MarginEpisode();
        var old = Guid.NewGuid();
        episode.Observe(MarginAction.Ok, Clear, Buffer);

        Assert.False(episode.Resume((MarginAction.Reduce, old, true)));
        Assert.Equal((MarginAction.Ok, old), (episode.Last, episode.Open));
    }

    [Fact]
    public void Resume_WatchedLiquidateAllWithTheAccountAtReduce_ReduceAlertUnderANewId()
    {
        var episode = new MarginEpisode();
        var old = Guid.NewGuid();
        episode.Resume((MarginAction.LiquidateAll, old, true));

        var action = episode.Observe(MarginAction.Reduce, InReduce, Buffer);

        Assert.Equal((MarginAction.Reduce, MarginEpisodeStep.Change), (action, episode.Next(action, MarginAction.Reduce)));
        Assert.NotEqual(old, episode.Raise(Record(MarginAction.Reduce, Guid.NewGuid(), T0)));
    }

    [Fact]
    public void Resume_WatchedLiquidateAllWithTheAccountAtLiquidateAll_SameId()
    {
        var episode = new MarginEpisode();
        var old = Guid.NewGuid();
        episode.Resume((MarginAction.LiquidateAll, old, true));

        episode.Observe(MarginAction.LiquidateAll, 0.9m, Buffer);

        Assert.Equal(old, episode.Raise(Record(MarginAction.LiquidateAll, Guid.NewGuid(), T0)));
    }

    [Fact]
    public void GiveUpRead_Unread_TrueOnceThenRead()
    {
        var episode = new MarginEpisode();

        Assert.Equal((true, false, true), (episode.GiveUpRead(), episode.GiveUpRead(), episode.Read));
    }

    /// <summary>
    /// The plan reduces the largest position on every check inside the buffer: once the position the last Reduce alert
    /// targeted (the largest, ETH 0.15) has shrunk, as its halving shrinks it, and the ratio is still in Reduce, a new
    /// Reduce alert goes out under a new event id; not before, not when another position changed (BTC), and not inside
    /// the band (Reduce only by the damping). Before, one Reduce alert was raised per episode.
    /// </summary>
    [Fact]
    public void Next_StillInReduceAfterTheLargestShrank_ReduceAgainUnderANewIdOnce()
    {
        var sizes = new Dictionary<string, decimal> { ["BTCUSDT"] = 0.004m, ["ETHUSDT"] = 0.15m };
        decimal SizeOf(string symbol) => sizes.GetValueOrDefault(symbol);
        var episode = new MarginEpisode();
        var action = episode.Observe(MarginAction.Reduce, InReduce, Buffer);
        Assert.Equal(MarginEpisodeStep.Change, episode.Next(action, MarginAction.Reduce, SizeOf));
        var first = episode.Raise(Record(MarginAction.Reduce, Guid.NewGuid(), T0));
        episode.Published(("ETHUSDT", 0.15m));
        episode.Changed(action);

        var unchanged = episode.Next(episode.Observe(MarginAction.Reduce, InReduce, Buffer), MarginAction.Reduce, SizeOf);
        sizes["BTCUSDT"] = 0.002m;
        var otherChanged = episode.Next(episode.Observe(MarginAction.Reduce, InReduce, Buffer), MarginAction.Reduce, SizeOf);
        sizes["ETHUSDT"] = 0.075m;
        var inBand = episode.Next(episode.Observe(MarginAction.Ok, InBand, Buffer), MarginAction.Ok, SizeOf);
        var halved = episode.Next(episode.Observe(MarginAction.Reduce, InReduce, Buffer), MarginAction.Reduce, SizeOf);

        Assert.Equal((MarginEpisodeStep.None, MarginEpisodeStep.None, MarginEpisodeStep.None, MarginEpisodeStep.ReduceAgain),
            (unchanged, otherChanged, inBand, halved));
        var second = episode.Raise(Record(MarginAction.Reduce, Guid.NewGuid(), T0.AddSeconds(5)));
        Assert.NotEqual(first, second);
        Assert.Equal(second, episode.Open);
        Assert.True(episode.Owes(second));
        episode.Published(("ETHUSDT", 0.075m));
        Assert.Equal(MarginEpisodeStep.None, episode.Next(episode.Observe(MarginAction.Reduce, InReduce, Buffer), MarginAction.Reduce, SizeOf));
        sizes.Remove("ETHUSDT");
        Assert.Equal(MarginEpisodeStep.ReduceAgain, episode.Next(episode.Observe(MarginAction.Reduce, InReduce, Buffer), MarginAction.Reduce, SizeOf));
    }

    /// <summary>A Reduce raised again whose publish failed is raised again next tick under the same event id.</summary>
    [Fact]
    public void Next_ReduceAgainPublishFailed_NextTickSameEventId()
    {
        static decimal Halved(string symbol) => symbol == "ETHUSDT" ? 0.075m : 0m;
        var episode = new MarginEpisode();
        episode.Raise(Record(MarginAction.Reduce, Guid.NewGuid(), T0));
        episode.Published(("ETHUSDT", 0.15m));
        episode.Changed(episode.Observe(MarginAction.Reduce, InReduce, Buffer));
        Assert.Equal(MarginEpisodeStep.ReduceAgain, episode.Next(episode.Observe(MarginAction.Reduce, InReduce, Buffer), MarginAction.Reduce, Halved));
        var again = episode.Raise(Record(MarginAction.Reduce, Guid.NewGuid(), T0.AddSeconds(5)));

        var next = episode.Next(episode.Observe(MarginAction.Reduce, InReduce, Buffer), MarginAction.Reduce, Halved);

        Assert.Equal(MarginEpisodeStep.ReduceAgain, next);
        Assert.Equal(again, episode.Raise(Record(MarginAction.Reduce, Guid.NewGuid(), T0.AddSeconds(10))));
    }

    /// <summary>After LiquidateAll, or a recovery, a shrunk position raises nothing by itself.</summary>
    [Fact]
    public void Next_PositionShrankAfterLiquidateAllOrARecovery_NoReduceAgain()
    {
        static decimal Halved(string symbol) => symbol == "ETHUSDT" ? 0.075m : 0m;
        var liquidated = new MarginEpisode();
        liquidated.Changed(liquidated.Observe(MarginAction.Reduce, InReduce, Buffer));
        liquidated.Raise(Record(MarginAction.Reduce, Guid.NewGuid(), T0));
        liquidated.Published(("ETHUSDT", 0.15m));
        liquidated.Changed(liquidated.Observe(MarginAction.LiquidateAll, 0.9m, Buffer));
        var recovered = new MarginEpisode();
        recovered.Raise(Record(MarginAction.Reduce, Guid.NewGuid(), T0));
        recovered.Published(("ETHUSDT", 0.15m));
        recovered.Changed(MarginAction.Reduce);
        recovered.Changed(recovered.Observe(MarginAction.Ok, Clear, Buffer));

        Assert.Equal(MarginEpisodeStep.None, liquidated.Next(liquidated.Observe(MarginAction.Reduce, InReduce, Buffer), MarginAction.Reduce, Halved));
        Assert.Equal(MarginEpisodeStep.Change, recovered.Next(recovered.Observe(MarginAction.Reduce, InReduce, Buffer), MarginAction.Reduce, Halved));
    }

    /// <summary>A monitor that raised a Reduce alert (its record owed) and moved to Reduce.</summary>
    private static MarginEpisode InReduceEpisode()
    {
        var episode = new MarginEpisode();
        episode.Changed(episode.Observe(MarginAction.Reduce, InReduce, Buffer));
        episode.Raise(Record(MarginAction.Reduce, Guid.NewGuid(), T0));
        episode.Published();
        return episode;
    }

    private static MarginAlertRecord Record(MarginAction action, Guid eventId, DateTimeOffset at) =>
        new(action, eventId, "reason", "1.1", "1.15", at);
}
