using TradeEngine.Ledger.Tests.Support;
using TradeEngine.Ledger.V1;
using TradeEngine.Testing.Servers;
using static TradeEngine.Ledger.Tests.Support.Requests;

namespace TradeEngine.Ledger.Tests;

/// <summary>
/// Transfers are not trading PnL: GetDailyPnl and GetPeakEquity answer the net of the transfers booked after their
/// snapshot, whichever was written first, so day-start and peak equity can be told in today's money.
/// </summary>
[Collection(LedgerCollection.Name)]
public sealed class TransferPnlTests(PostgresServer postgres, RabbitMqServer rabbit) : IAsyncLifetime
{
    /// <summary>Snapshots whose transfers_before is not the net of the transfers at or before their time.</summary>
    private const string SnapshotsOff =
        "pnl_snapshots s WHERE s.transfers_before <> (SELECT COALESCE(SUM(amount), 0) FROM transfers t WHERE t.transferred_at <= s.taken_at)";

    private static readonly DateTimeOffset Midnight = new(2025, 3, 2, 0, 0, 0, TimeSpan.Zero);

    private LedgerHost _ledger = null!;

    private LedgerService.LedgerServiceClient Client => _ledger.Client;

    public async Task InitializeAsync() => _ledger = await LedgerHost.StartAsync(postgres, rabbit, relay: false);

    public async Task DisposeAsync() => await _ledger.DisposeAsync();

    [Fact]
    public async Task GetDailyPnl_DepositAfterDayStart_TransfersSinceDayStartIsIt()
    {
        await Client.LogTransferAsync(Transfer("7", Midnight.AddHours(-2))); // before the day start: already in its equity
        await Client.LogPnlSnapshotAsync(PnlSnapshot("10000", Midnight.AddMinutes(-1)));
        await Client.LogPnlSnapshotAsync(PnlSnapshot("11000", Midnight.AddHours(3)));
        await Client.LogTransferAsync(Transfer("1000", Midnight.AddHours(2)));

        var daily = await Client.GetDailyPnlAsync(new GetDailyPnlRequest { Day = At(Midnight.AddHours(12)) });

        Assert.Equal("10000", daily.DayStartEquity);
        Assert.Equal("1000", daily.TransfersSinceDayStart);
    }

    /// <summary>Every transfer after the day-start snapshot, not only the day's: the figure is in today's money.</summary>
    [Fact]
    public async Task GetDailyPnl_TransfersOnLaterDays_CountedSinceDayStart()
    {
        await Client.LogPnlSnapshotAsync(PnlSnapshot("10000", Midnight));
        await Client.LogTransferAsync(Transfer("1000", Midnight.AddHours(2)));
        await Client.LogTransferAsync(Transfer("-300", Midnight.AddDays(3)));

        var daily = await Client.GetDailyPnlAsync(new GetDailyPnlRequest { Day = At(Midnight) });

        Assert.Equal("700", daily.TransfersSinceDayStart);
    }

    [Fact]
    public async Task GetDailyPnl_NoTransferOrNoDayStart_ZeroOrEmpty()
    {
        await Client.LogTransferAsync(Transfer("1000", Midnight.AddDays(-5)));
        await Client.LogPnlSnapshotAsync(PnlSnapshot("10000", Midnight));

        var withStart = await Client.GetDailyPnlAsync(new GetDailyPnlRequest { Day = At(Midnight) });
        var withoutStart = await Client.GetDailyPnlAsync(new GetDailyPnlRequest { Day = At(Midnight.AddDays(-3)) });

        Assert.Equal(("10000", "0"), (withStart.DayStartEquity, withStart.TransfersSinceDayStart));
        Assert.Equal((string.Empty, string.Empty), (withoutStart.DayStartEquity, withoutStart.TransfersSinceDayStart));
    }

    [Fact]
    public async Task GetPeakEquity_WithdrawalAfterPeak_PeakAsRecordedAndTheWithdrawalSinceIt()
    {
        await Client.LogPnlSnapshotAsync(PnlSnapshot("10000", T0));
        await Client.LogPnlSnapshotAsync(PnlSnapshot("12000", T0.AddHours(1)));
        await Client.LogTransferAsync(Transfer("-1500", T0.AddHours(2)));
        await Client.LogPnlSnapshotAsync(PnlSnapshot("10400", T0.AddHours(3)));

        var peak = await Client.GetPeakEquityAsync(new GetPeakEquityRequest());

        Assert.Equal("12000", peak.PeakEquity);
        Assert.Equal(T0.AddHours(1), peak.At.ToDateTimeOffset());
        Assert.Equal("-1500", peak.TransfersSincePeak);
        Assert.Equal("-1500", peak.TransfersTotal);
    }

    /// <summary>
    /// Equal in today's money: 12,000 before a withdrawal of 1,500 and 10,500 after it. The earliest of equals is the
    /// peak; a withdrawal alone is no drawdown.
    /// </summary>
    [Fact]
    public async Task GetPeakEquity_EqualInTodaysMoney_TheEarliest()
    {
        await Client.LogPnlSnapshotAsync(PnlSnapshot("12000", T0.AddHours(1)));
        await Client.LogTransferAsync(Transfer("-1500", T0.AddHours(2)));
        await Client.LogPnlSnapshotAsync(PnlSnapshot("10500", T0.AddHours(3)));

        var peak = await Client.GetPeakEquityAsync(new GetPeakEquityRequest());

        Assert.Equal(("12000", "-1500"), (peak.PeakEquity, peak.TransfersSincePeak));
    }

    /// <summary>A deposit is not a new high: 10,000 then 5,000 deposited then 14,000 is a loss from 15,000.</summary>
    [Fact]
    public async Task GetPeakEquity_DepositThenLowerEquityInTodaysMoney_PeakIsBeforeTheDeposit()
    {
        await Client.LogPnlSnapshotAsync(PnlSnapshot("10000", T0));
        await Client.LogTransferAsync(Transfer("5000", T0.AddHours(1)));
        await Client.LogPnlSnapshotAsync(PnlSnapshot("14000", T0.AddHours(2)));

        var peak = await Client.GetPeakEquityAsync(new GetPeakEquityRequest());

        Assert.Equal(("10000", "5000", "5000"), (peak.PeakEquity, peak.TransfersSincePeak, peak.TransfersTotal));
        Assert.Equal(T0, peak.At.ToDateTimeOffset());
    }

    /// <summary>
    /// A transfer booked late (Funding catching up), dated before snapshots already written, moves their
    /// transfers_before, so the peak is chosen as though it had been booked in time.
    /// </summary>
    [Fact]
    public async Task LogTransfer_BookedAfterLaterSnapshots_AdjustsThemAndThePeakChoice()
    {
        await Client.LogPnlSnapshotAsync(PnlSnapshot("10000", T0));
        await Client.LogPnlSnapshotAsync(PnlSnapshot("14000", T0.AddHours(2)));
        var before = await Client.GetPeakEquityAsync(new GetPeakEquityRequest());
        Assert.Equal(("14000", "0", "0"), (before.PeakEquity, before.TransfersSincePeak, before.TransfersTotal));

        await Client.LogTransferAsync(Transfer("5000", T0.AddHours(1)));

        var after = await Client.GetPeakEquityAsync(new GetPeakEquityRequest());
        Assert.Equal(("10000", "5000", "5000"), (after.PeakEquity, after.TransfersSincePeak, after.TransfersTotal));
        Assert.Equal(T0, after.At.ToDateTimeOffset());
        Assert.Equal(1, await _ledger.CountAsync("pnl_snapshots WHERE taken_at = $1 AND transfers_before = 5000", T0.AddHours(2).UtcDateTime));
        Assert.Equal(1, await _ledger.CountAsync("pnl_snapshots WHERE taken_at = $1 AND transfers_before = 0", T0.UtcDateTime));
    }

    /// <summary>
    /// A transfer at a snapshot's very instant is before it (transferred_at &lt;= taken_at): in its equity already. With
    /// the guard off (Ledger:Transfers:SnapshotGuardSeconds 0): with it, a snapshot at a transfer's instant is no peak.
    /// </summary>
    [Fact]
    public async Task LogTransfer_AtASnapshotsInstant_CountedBeforeIt()
    {
        await _ledger.DisposeAsync();
        _ledger = await LedgerHost.StartAsync(postgres, rabbit, relay: false,
            settings: new Dictionary<string, string?> { ["Ledger:Transfers:SnapshotGuardSeconds"] = "0" });
        await Client.LogPnlSnapshotAsync(PnlSnapshot("15000", T0));
        await Client.LogTransferAsync(Transfer("5000", T0));
        await Client.LogPnlSnapshotAsync(PnlSnapshot("15000", T0.AddHours(1)));

        var peak = await Client.GetPeakEquityAsync(new GetPeakEquityRequest());

        // Counted after it, the first snapshot would be 20,000 in today's money.
        Assert.Equal(("15000", "0", "5000"), (peak.PeakEquity, peak.TransfersSincePeak, peak.TransfersTotal));
        Assert.Equal(T0, peak.At.ToDateTimeOffset());
        Assert.Equal(0, await _ledger.CountAsync(SnapshotsOff));
    }

    [Fact]
    public async Task LogTransfer_BeforeEverySnapshot_ChangesNothingInTodaysMoney()
    {
        await Client.LogPnlSnapshotAsync(PnlSnapshot("10000", Midnight));
        await Client.LogPnlSnapshotAsync(PnlSnapshot("12000", Midnight.AddHours(1)));
        await Client.LogPnlSnapshotAsync(PnlSnapshot("11000", Midnight.AddHours(2)));

        await Client.LogTransferAsync(Transfer("3000", Midnight.AddDays(-1)));

        var peak = await Client.GetPeakEquityAsync(new GetPeakEquityRequest());
        var daily = await Client.GetDailyPnlAsync(new GetDailyPnlRequest { Day = At(Midnight) });
        Assert.Equal(("12000", "0", "3000"), (peak.PeakEquity, peak.TransfersSincePeak, peak.TransfersTotal));
        Assert.Equal(("10000", "0"), (daily.DayStartEquity, daily.TransfersSinceDayStart));
        Assert.Equal(3, await _ledger.CountAsync("pnl_snapshots WHERE transfers_before = 3000"));
    }

    /// <summary>
    /// transfers_booked counts the transfers booked: a deposit and a withdrawal of the same amount bring the net back to
    /// 0, and the count still tells a reader that transfers were booked.
    /// </summary>
    [Fact]
    public async Task GetPeakEquity_DepositAndWithdrawalOfTheSameAmount_NetZeroTwoBooked()
    {
        await Client.LogPnlSnapshotAsync(PnlSnapshot("10000", T0));
        var none = await Client.GetPeakEquityAsync(new GetPeakEquityRequest());
        await Client.LogTransferAsync(Transfer("700", T0.AddHours(1)));
        await Client.LogTransferAsync(Transfer("-700", T0.AddHours(2)));

        var two = await Client.GetPeakEquityAsync(new GetPeakEquityRequest());

        Assert.Equal(("0", 0L), (none.TransfersTotal, none.TransfersBooked));
        Assert.Equal(("0", 2L), (two.TransfersTotal, two.TransfersBooked));
        Assert.Equal(("10000", "0"), (two.PeakEquity, two.TransfersSincePeak));
    }

    [Fact]
    public async Task GetPeakEquity_NoSnapshot_EmptyPeakAndTheTransfersTotal()
    {
        var none = await Client.GetPeakEquityAsync(new GetPeakEquityRequest());
        await Client.LogTransferAsync(Transfer("-42.5", T0));
        var some = await Client.GetPeakEquityAsync(new GetPeakEquityRequest());

        Assert.Equal((string.Empty, string.Empty, "0"), (none.PeakEquity, none.TransfersSincePeak, none.TransfersTotal));
        Assert.Equal((string.Empty, string.Empty, "-42.5"), (some.PeakEquity, some.TransfersSincePeak, some.TransfersTotal));
        Assert.Null(some.At);
        Assert.Equal((0L, 1L), (none.TransfersBooked, some.TransfersBooked));
    }

    /// <summary>
    /// Snapshots and transfers written at once: under READ COMMITTED a snapshot that summed the transfers while one was
    /// being booked, and that transfer's update of the snapshots, could each miss the other. The advisory lock orders
    /// them, so every snapshot ends with the net of the transfers at or before it.
    /// </summary>
    [Fact]
    public async Task LogTransferAndLogPnlSnapshot_Concurrent_EverySnapshotsTransfersBeforeExact()
    {
        const int Rounds = 4;
        const int PerRound = 30;
        for (var round = 0; round < Rounds; round++)
        {
            var start = T0.AddDays(round);
            var calls = new List<Task>();
            for (var i = 0; i < PerRound; i++)
            {
                // Transfers in the first half hour, snapshots after them (each should hold them all) and among them.
                calls.Add(Client.LogTransferAsync(Transfer((i + 1).ToString(System.Globalization.CultureInfo.InvariantCulture), start.AddSeconds(i * 60))).ResponseAsync);
                calls.Add(Client.LogPnlSnapshotAsync(PnlSnapshot("10000", start.AddHours(1).AddSeconds(i))).ResponseAsync);
                calls.Add(Client.LogPnlSnapshotAsync(PnlSnapshot("10000", start.AddSeconds((i * 60) + 30))).ResponseAsync);
            }

            await Task.WhenAll(calls);
        }

        Assert.Equal(Rounds * PerRound, await _ledger.CountAsync("transfers"));
        Assert.Equal(2 * Rounds * PerRound, await _ledger.CountAsync("pnl_snapshots"));
        Assert.Equal(0, await _ledger.CountAsync(SnapshotsOff));
    }

    /// <summary>
    /// Risk's margin monitor writes a snapshot every 5 s by default: the peak is read from the index on
    /// equity - transfers_before (one step), not by sorting every snapshot.
    /// </summary>
    [Fact]
    public async Task GetPeakEquity_LongHistory_ReadsThroughTheTodaysMoneyIndex()
    {
        await Client.LogPnlSnapshotAsync(PnlSnapshot("10000", T0));
        await _ledger.ExecuteAsync(
            "INSERT INTO pnl_snapshots (snapshot_id, balance, unrealized_pnl, realized_pnl, total_pnl, equity, open_positions, taken_at) " +
            "SELECT gen_random_uuid(), 100 + i % 997, 0, 0, 0, 100 + i % 997, 0, $1 + i * interval '5 seconds' FROM generate_series(1, 20000) i",
            T0.AddDays(-400).UtcDateTime);
        await _ledger.ExecuteAsync("ANALYZE pnl_snapshots");
        const string Index = "pnl_snapshots_by_equity_less_transfers";
        var scansBefore = await GenericPlans.IndexScansAsync(_ledger, Index);
        var readBefore = await GenericPlans.RowsReadAsync(_ledger, "pnl_snapshots");

        const int Calls = 5;
        for (var i = 0; i < Calls; i++)
        {
            Assert.Equal("10000", (await Client.GetPeakEquityAsync(new GetPeakEquityRequest())).PeakEquity);
        }

        var deadline = DateTime.UtcNow.AddSeconds(25);
        while (await GenericPlans.IndexScansAsync(_ledger, Index) - scansBefore < Calls)
        {
            Assert.True(DateTime.UtcNow < deadline, $"GetPeakEquity did not read through {Index}.");
            await Task.Delay(250);
        }

        var read = await GenericPlans.RowsReadAsync(_ledger, "pnl_snapshots") - readBefore;
        Assert.True(read < 100, $"{Calls} calls read {read} snapshot rows.");
    }
}
