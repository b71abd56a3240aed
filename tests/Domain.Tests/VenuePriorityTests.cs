using TradeEngine.Domain;

namespace TradeEngine.Domain.Tests;

/// <summary>The venue priority of the current asynchronous flow and its wire names.</summary>
public class VenuePriorityTests
{
    [Fact]
    public void Current_NothingEntered_Normal() => Assert.Equal(VenuePriority.Normal, VenueRequestPriority.Current);

    [Fact]
    public async Task Enter_FlowsIntoAwaitedAndStartedWork_AndTheOuterPriorityComesBackOnDispose()
    {
        using (VenueRequestPriority.Enter(VenuePriority.Urgent))
        {
            await Task.Yield();
            Assert.Equal(VenuePriority.Urgent, VenueRequestPriority.Current);
            Assert.Equal(VenuePriority.Urgent, await Task.Run(() => VenueRequestPriority.Current));
            using (VenueRequestPriority.Enter(VenuePriority.Background))
            {
                Assert.Equal(VenuePriority.Background, await ReadAfterAwaitAsync());
            }

            Assert.Equal(VenuePriority.Urgent, VenueRequestPriority.Current);
        }

        Assert.Equal(VenuePriority.Normal, VenueRequestPriority.Current);
    }

    [Fact]
    public async Task Enter_InsideACalledAsyncMethod_DoesNotLeakBackToTheCaller()
    {
        await EnterUrgentAndLeaveItOpenAsync();

        Assert.Equal(VenuePriority.Normal, VenueRequestPriority.Current);
    }

    [Theory]
    [InlineData(VenuePriority.Background, VenuePriority.Background, VenuePriority.Normal)]
    [InlineData(VenuePriority.Normal, VenuePriority.Normal, VenuePriority.Normal)]
    [InlineData(VenuePriority.Urgent, VenuePriority.Normal, VenuePriority.Urgent)]
    public void AtMostAndAtLeastNormal_ClampTheCurrentPriority(VenuePriority current, VenuePriority atMost, VenuePriority atLeast)
    {
        using var scope = VenueRequestPriority.Enter(current);
        Assert.Equal((atMost, atLeast), (VenueRequestPriority.AtMost(VenuePriority.Normal), VenueRequestPriority.AtLeast(VenuePriority.Normal)));
    }

    [Fact]
    public void Enter_NotAPriority_Refused() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => VenueRequestPriority.Enter((VenuePriority)7));

    [Theory]
    [InlineData(VenuePriority.Background, "background")]
    [InlineData(VenuePriority.Normal, "normal")]
    [InlineData(VenuePriority.Urgent, "urgent")]
    public void Wire_EachPriority_RoundTrips(VenuePriority priority, string wire)
    {
        Assert.Equal(wire, VenueRequestPriority.ToWire(priority));
        Assert.True(VenueRequestPriority.TryParseWire(wire, out var parsed));
        Assert.Equal(priority, parsed);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("Urgent")]
    [InlineData(" urgent")]
    [InlineData("urgent ")]
    [InlineData("2")]
    [InlineData("critical")]
    public void TryParseWire_AnythingButTheExactNames_Refused(string? wire) =>
        Assert.False(VenueRequestPriority.TryParseWire(wire, out _));

    private static async Task<VenuePriority> ReadAfterAwaitAsync()
    {
        await Task.Delay(1);
        return VenueRequestPriority.Current;
    }

    private static async Task EnterUrgentAndLeaveItOpenAsync()
    {
        await Task.Yield();
        _ = VenueRequestPriority.Enter(VenuePriority.Urgent);
        Assert.Equal(VenuePriority.Urgent, VenueRequestPriority.Current);
    }
}
