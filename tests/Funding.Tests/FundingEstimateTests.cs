using System.Globalization;
using TradeEngine.Common.V1;
using TradeEngine.Funding.Tests.Support;
using TradeEngine.Funding.V1;
using TradeEngine.Testing.Servers;

namespace TradeEngine.Funding.Tests;

/// <summary>The plan's funding figures and the venue's current rates, through the gRPC contract over loopback.</summary>
[Collection(ServerCollection.Name)]
public sealed class FundingEstimateTests(PostgresServer postgres, RabbitMqServer rabbit) : IAsyncLifetime
{
    private FundingWorld world = null!;

    public async Task InitializeAsync() => world = await FundingWorld.StartAsync(postgres, rabbit);

    public async Task DisposeAsync() => await world.DisposeAsync();

    [Theory]
    [InlineData(Side.Long, "0.5", "50000", "0.0001", 1, "2.50")]
    [InlineData(Side.Long, "1.0", "30000", "-0.0001", 1, "-3.00")]
    [InlineData(Side.Long, "0.1", "60000", "0.0001", 3, "1.80")]
    [InlineData(Side.Short, "0.5", "50000", "0.0001", 1, "-2.50")]
    public async Task EstimateCost_PlanFigures_CostRoundedToCents(Side side, string quantity, string price, string rate, int settlements, string expected)
    {
        var reply = await world.Funding.EstimateCostAsync(new EstimateCostRequest
        {
            Symbol = "BTCUSDT", Side = side, Quantity = quantity, Price = price, FundingRate = rate, Settlements = settlements,
        });

        Assert.Equal(expected, reply.Cost);
        Assert.Equal(settlements, reply.Settlements);
    }

    [Fact]
    public async Task EstimateDailyCost_OneBtcAt50000AtVenueRate_FifteenWithWarning()
    {
        var reply = await world.Funding.EstimateDailyCostAsync(new EstimateDailyCostRequest
        {
            Symbol = "BTCUSDT", Side = Side.Long, Quantity = "1.0", Price = "50000",
        });

        Assert.Equal("15.00", reply.DailyCost);
        Assert.Equal(3, reply.SettlementsPerDay);
        Assert.Equal(0.0001m, decimal.Parse(reply.FundingRate, CultureInfo.InvariantCulture));
        Assert.True(reply.HighFundingWarning);
        Assert.Equal("10", reply.WarningThreshold);
        Assert.Single(reply.Warnings);
    }

    [Fact]
    public async Task EstimateDailyCost_SmallPosition_NoWarning()
    {
        var reply = await world.Funding.EstimateDailyCostAsync(new EstimateDailyCostRequest
        {
            Symbol = "BTCUSDT", Side = Side.Long, Quantity = "0.1", Price = "50000",
        });

        Assert.Equal("1.50", reply.DailyCost);
        Assert.False(reply.HighFundingWarning);
        Assert.Empty(reply.Warnings);
    }

    [Theory]
    [InlineData("BTCUSDT", 8, 24, 3)]
    [InlineData("SOLUSDT", 4, 24, 6)]
    [InlineData("SOLUSDT", 4, 8784, 2196)]
    public async Task EstimateCost_HorizonHours_SettlementsFollowSymbolInterval(string symbol, int interval, int hours, int settlements)
    {
        var reply = await world.Funding.EstimateCostAsync(new EstimateCostRequest
        {
            Symbol = symbol, Side = Side.Long, Quantity = "1", HorizonHours = hours,
        });

        Assert.Equal(interval, reply.FundingIntervalHours);
        Assert.Equal(settlements, reply.Settlements);
        var exact = decimal.Parse(reply.ExactCost, CultureInfo.InvariantCulture);
        var expected = decimal.Parse(reply.Price, CultureInfo.InvariantCulture) * decimal.Parse(reply.FundingRate, CultureInfo.InvariantCulture) * settlements;
        Assert.Equal(expected, exact);
    }

    /// <summary>
    /// exact_cost is the exact product however many digits it needs. Before, decimal arithmetic rounded past 28 or 29
    /// significant digits without a word: the first row lost its last digit, the second its last three.
    /// </summary>
    [Theory]
    [InlineData(Side.Long, "100.00000001", "65000.00000001", "0.01234567", 1, "80246.855008037031170001234567")]
    [InlineData(Side.Long, "0.1234567890123456789012345678", "3", "0.0001", 1, "0.00003703703670370370367037037034")]
    [InlineData(Side.Short, "0.5", "50000", "0.0001", 3, "-7.5")]
    public async Task EstimateCost_ProductOfManyDigits_ExactCostIsExact(Side side, string quantity, string price, string rate, int settlements, string exact)
    {
        var reply = await world.Funding.EstimateCostAsync(new EstimateCostRequest
        {
            Symbol = "BTCUSDT", Side = side, Quantity = quantity, Price = price, FundingRate = rate, Settlements = settlements,
        });

        Assert.Equal(exact, reply.ExactCost);
    }

    [Theory]
    [InlineData("BTCUSDT", 8, "60000", "0.0001")]
    [InlineData("SOLUSDT", 4, "150", "0.00005")]
    public async Task GetCurrentRate_PaperVenue_RateMarkAndIntervalOfSymbol(string symbol, int interval, string mark, string rate)
    {
        var reply = await world.Funding.GetCurrentRateAsync(new GetCurrentRateRequest { Symbol = symbol });

        Assert.Equal(interval, reply.FundingIntervalHours);
        Assert.Equal(decimal.Parse(mark, CultureInfo.InvariantCulture), decimal.Parse(reply.MarkPrice, CultureInfo.InvariantCulture));
        Assert.Equal(decimal.Parse(rate, CultureInfo.InvariantCulture), decimal.Parse(reply.FundingRate, CultureInfo.InvariantCulture));
        var next = reply.NextFundingTime.ToDateTimeOffset();
        Assert.True(next > FundingWorld.Start && next <= FundingWorld.Start.AddHours(interval));
        Assert.Equal(0, next.UtcTicks % TimeSpan.FromHours(interval).Ticks);
    }

    [Fact]
    public async Task GetFundingHistory_SixSettlementsPageSizeFour_TwoPagesInOrder()
    {
        world.Paper.Engine.Advance(TimeSpan.FromHours(24));
        var range = new TimeRange
        {
            Start = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(FundingWorld.Start),
            End = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(FundingWorld.Start.AddHours(24)),
        };

        var first = await world.Funding.GetFundingHistoryAsync(new GetFundingHistoryRequest
        {
            Symbol = "SOLUSDT", Range = range, Page = new PageRequest { PageSize = 4 },
        });
        var second = await world.Funding.GetFundingHistoryAsync(new GetFundingHistoryRequest
        {
            Symbol = "SOLUSDT", Range = range, Page = new PageRequest { PageSize = 4, PageToken = first.NextPageToken },
        });

        Assert.Equal(4, first.Rates.Count);
        Assert.NotEmpty(first.NextPageToken);
        Assert.Equal(2, second.Rates.Count);
        Assert.Empty(second.NextPageToken);
        var times = first.Rates.Concat(second.Rates).Select(r => r.FundingTime.ToDateTimeOffset()).ToList();
        Assert.Equal(Enumerable.Range(1, 6).Select(i => FundingWorld.Start.AddMinutes(-30).AddHours(4 * i)), times);
        Assert.All(first.Rates.Concat(second.Rates), r => Assert.Equal("150", r.MarkPrice));
    }

    /// <summary>
    /// A range that starts half a millisecond after a settlement leaves it out, and with a page size of 1 the pages still
    /// walk through every later settlement. Before, the venue was asked from the millisecond below the start: its page
    /// held only the settlement the range leaves out, the answer had no rates and no token, and the later settlements
    /// could not be read. A range inside one millisecond after a settlement holds none.
    /// </summary>
    [Fact]
    public async Task GetFundingHistory_StartHalfAMillisecondAfterASettlementPageSizeOne_EveryLaterSettlementPaged()
    {
        world.Paper.Engine.Advance(TimeSpan.FromHours(24));
        var settlement = FundingWorld.Start.AddMinutes(-30).AddHours(4);
        var range = new TimeRange
        {
            Start = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(settlement.AddTicks(TimeSpan.TicksPerMillisecond / 2)),
            End = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(FundingWorld.Start.AddHours(24)),
        };

        var times = new List<DateTimeOffset>();
        var token = string.Empty;
        for (var pages = 0; pages < 10; pages++)
        {
            var page = await world.Funding.GetFundingHistoryAsync(new GetFundingHistoryRequest
            {
                Symbol = "SOLUSDT", Range = range, Page = new PageRequest { PageSize = 1, PageToken = token },
            });
            times.AddRange(page.Rates.Select(r => r.FundingTime.ToDateTimeOffset()));
            token = page.NextPageToken;
            if (token.Length == 0)
            {
                break;
            }
        }

        Assert.Equal(Enumerable.Range(1, 5).Select(i => settlement.AddHours(4 * i)), times);
        var within = await world.Funding.GetFundingHistoryAsync(new GetFundingHistoryRequest
        {
            Symbol = "SOLUSDT",
            Range = new TimeRange
            {
                Start = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(settlement.AddTicks(2_000)),
                End = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(settlement.AddTicks(7_000)),
            },
        });
        Assert.Empty(within.Rates);
        Assert.Empty(within.NextPageToken);
    }

    /// <summary>
    /// A range that ends half a millisecond after a settlement includes it (it is before the end). Before, the venue was
    /// asked up to end − 1 ms, cut to the millisecond below, and the settlement was left out.
    /// </summary>
    [Fact]
    public async Task GetFundingHistory_EndHalfAMillisecondAfterASettlement_ThatSettlementIncluded()
    {
        world.Paper.Engine.Advance(TimeSpan.FromHours(24));
        var settlement = FundingWorld.Start.AddMinutes(-30).AddHours(4);

        var rates = await world.Funding.GetFundingHistoryAsync(new GetFundingHistoryRequest
        {
            Symbol = "SOLUSDT",
            Range = new TimeRange
            {
                Start = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(FundingWorld.Start),
                End = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(settlement.AddTicks(TimeSpan.TicksPerMillisecond / 2)),
            },
        });

        Assert.Equal(settlement, Assert.Single(rates.Rates).FundingTime.ToDateTimeOffset());
    }
}
