using TradeEngine.Ledger.Tests.Support;
using TradeEngine.Ledger.V1;
using TradeEngine.Testing.Servers;
using static TradeEngine.Ledger.Tests.Support.Requests;

namespace TradeEngine.Ledger.Tests;

/// <summary>
/// A transfer's time is the venue's clock and a snapshot's ours, stamped around an account read that takes time: a
/// snapshot a second from a transfer may sit on the wrong side of it, and its equity in today's money is then off by the
/// transfer's whole amount. Such a snapshot (less than Ledger:Transfers:SnapshotGuardSeconds, default 5, from a booked
/// transfer) is chosen neither as the peak nor as the day start.
/// </summary>
[Collection(LedgerCollection.Name)]
public sealed class TransferGuardTests(PostgresServer postgres, RabbitMqServer rabbit) : IAsyncLifetime
{
    private const string GuardSetting = "Ledger:Transfers:SnapshotGuardSeconds";

    private static readonly DateTimeOffset Midnight = new(2025, 3, 2, 0, 0, 0, TimeSpan.Zero);

    private LedgerHost _ledger = null!;

    private LedgerService.LedgerServiceClient Client => _ledger.Client;

    public async Task InitializeAsync() => _ledger = await LedgerHost.StartAsync(postgres, rabbit, relay: false);

    public async Task DisposeAsync() => await _ledger.DisposeAsync();

    /// <summary>
    /// 10,000 at t0; 1,500 withdrawn at t1; a balance of 10,000 read before the withdrawal but stamped a second after it,
    /// then 8,500. Placed after the withdrawal, that snapshot is 10,000 in today's money (11,500 ranked), the peak for good
    /// and a drawdown of 1,500 that is not there. Passed over, the peak is t0's: 8,500 in today's money.
    /// </summary>
    [Fact]
    public async Task GetPeakEquity_SnapshotStampedJustAfterAWithdrawalItPrecedes_NotThePeak()
    {
        await MisplacedAfterWithdrawalAsync(Client);

        var peak = await Client.GetPeakEquityAsync(new GetPeakEquityRequest());

        Assert.Equal(8_500m, InTodaysMoney(peak));
        Assert.Equal(("10000", "-1500"), (peak.PeakEquity, peak.TransfersSincePeak));
        Assert.Equal(T0, peak.At.ToDateTimeOffset());
    }

    /// <summary>
    /// The other way round: 5,000 deposited at t1, and a balance of 15,000 read after it but stamped a second before it.
    /// Placed before the deposit, that snapshot would be 20,000 in today's money; the peak is t0's 10,000, 15,000 today.
    /// </summary>
    [Fact]
    public async Task GetPeakEquity_SnapshotStampedJustBeforeADepositItFollows_NotThePeak()
    {
        var t1 = T0.AddHours(1);
        await Client.LogPnlSnapshotAsync(PnlSnapshot("10000", T0));
        await Client.LogTransferAsync(Transfer("5000", t1));
        await Client.LogPnlSnapshotAsync(PnlSnapshot("15000", t1.AddSeconds(-1)));
        await Client.LogPnlSnapshotAsync(PnlSnapshot("15000", t1.AddHours(1)));

        var peak = await Client.GetPeakEquityAsync(new GetPeakEquityRequest());

        Assert.Equal(15_000m, InTodaysMoney(peak));
        Assert.Equal(T0, peak.At.ToDateTimeOffset());
    }

    /// <summary>
    /// The day-start candidate (the last snapshot at or before midnight) stamped a second after a withdrawal of 1,500
    /// whose balance it read before: it would be 10,000 in today's money, hiding a loss of 1,500. It is passed over, and
    /// the next by the same rule (the last before it within 24 hours) taken: 8,500 in today's money.
    /// </summary>
    [Fact]
    public async Task GetDailyPnl_DayStartCandidateNearAWithdrawal_TheNextCandidate()
    {
        await DayStartAfterWithdrawalAsync(Client);

        var daily = await Client.GetDailyPnlAsync(new GetDailyPnlRequest { Day = At(Midnight.AddHours(12)) });

        Assert.Equal(("10000", "-1500"), (daily.DayStartEquity, daily.TransfersSinceDayStart));
        Assert.Equal(Midnight.AddHours(-1), daily.DayStartEquityAt.ToDateTimeOffset());
    }

    /// <summary>No snapshot before midnight: the day's first, unless it is near a transfer; then the day's next.</summary>
    [Fact]
    public async Task GetDailyPnl_DaysFirstSnapshotNearADeposit_TheDaysNext()
    {
        await Client.LogPnlSnapshotAsync(PnlSnapshot("15000", Midnight.AddHours(1)));
        await Client.LogTransferAsync(Transfer("5000", Midnight.AddHours(1).AddSeconds(2)));
        await Client.LogPnlSnapshotAsync(PnlSnapshot("15000", Midnight.AddHours(2)));

        var daily = await Client.GetDailyPnlAsync(new GetDailyPnlRequest { Day = At(Midnight) });

        Assert.Equal(("15000", "0"), (daily.DayStartEquity, daily.TransfersSinceDayStart));
        Assert.Equal(Midnight.AddHours(2), daily.DayStartEquityAt.ToDateTimeOffset());
    }

    /// <summary>A snapshot more than the guard from every transfer is chosen as before (5 s: the default guard's edge).</summary>
    [Fact]
    public async Task GetPeakEquity_SnapshotTheGuardAwayFromATransfer_StillThePeak()
    {
        await Client.LogPnlSnapshotAsync(PnlSnapshot("12000", T0));
        await Client.LogTransferAsync(Transfer("-1500", T0.AddSeconds(5)));

        var peak = await Client.GetPeakEquityAsync(new GetPeakEquityRequest());

        Assert.Equal(("12000", "-1500"), (peak.PeakEquity, peak.TransfersSincePeak));
        Assert.Equal(T0, peak.At.ToDateTimeOffset());
    }

    /// <summary>SnapshotGuardSeconds 0 turns the guard off: the snapshot near the withdrawal is the peak and the day start.</summary>
    [Fact]
    public async Task GuardZero_SnapshotsNearATransferChosenAsBefore()
    {
        await using var unguarded = await LedgerHost.StartAsync(postgres, rabbit, relay: false,
            settings: new Dictionary<string, string?> { [GuardSetting] = "0" });
        await MisplacedAfterWithdrawalAsync(unguarded.Client);

        var peak = await unguarded.Client.GetPeakEquityAsync(new GetPeakEquityRequest());
        await DayStartAfterWithdrawalAsync(unguarded.Client);
        var daily = await unguarded.Client.GetDailyPnlAsync(new GetDailyPnlRequest { Day = At(Midnight.AddHours(12)) });

        Assert.Equal(10_000m, InTodaysMoney(peak));
        Assert.Equal(T0.AddHours(1).AddSeconds(1), peak.At.ToDateTimeOffset());
        Assert.Equal(("10000", "0"), (daily.DayStartEquity, daily.TransfersSinceDayStart));
        Assert.Equal(Midnight, daily.DayStartEquityAt.ToDateTimeOffset());
    }

    /// <summary>
    /// A fresh account: 10,000 deposited, and its only snapshot two seconds later. Every snapshot is near a transfer, so
    /// the guard would leave no peak and no day start at all, and Risk refused every check (it reads "no day-start or peak
    /// after a snapshot was written" as the Ledger failing) until a snapshot farther away came. They are answered without
    /// the guard then.
    /// </summary>
    [Fact]
    public async Task EverySnapshotNearATransfer_PeakAndDayStartAnsweredWithoutTheGuard()
    {
        var at = Midnight.AddHours(1);
        await Client.LogTransferAsync(Transfer("10000", at));
        await Client.LogPnlSnapshotAsync(PnlSnapshot("10000", at.AddSeconds(2)));

        var peak = await Client.GetPeakEquityAsync(new GetPeakEquityRequest());
        var daily = await Client.GetDailyPnlAsync(new GetDailyPnlRequest { Day = At(Midnight.AddHours(12)) });

        Assert.Equal(("10000", "0"), (peak.PeakEquity, peak.TransfersSincePeak));
        Assert.Equal(at.AddSeconds(2), peak.At.ToDateTimeOffset());
        Assert.Equal(("10000", "0"), (daily.DayStartEquity, daily.TransfersSinceDayStart));
    }

    /// <summary>10,000 at t0, 1,500 withdrawn at t1 = t0 + 1 h, 10,000 (read before it) at t1 + 1 s, 8,500 at t1 + 1 h.</summary>
    private static async Task MisplacedAfterWithdrawalAsync(LedgerService.LedgerServiceClient client)
    {
        var t1 = T0.AddHours(1);
        await client.LogPnlSnapshotAsync(PnlSnapshot("10000", T0));
        await client.LogTransferAsync(Transfer("-1500", t1));
        await client.LogPnlSnapshotAsync(PnlSnapshot("10000", t1.AddSeconds(1)));
        await client.LogPnlSnapshotAsync(PnlSnapshot("8500", t1.AddHours(1)));
    }

    /// <summary>
    /// 10,000 at 23:00; 1,500 withdrawn at 23:59:59; 10,000 (read before it) at midnight, the day-start candidate; 8,500 at
    /// 01:00.
    /// </summary>
    private static async Task DayStartAfterWithdrawalAsync(LedgerService.LedgerServiceClient client)
    {
        await client.LogPnlSnapshotAsync(PnlSnapshot("10000", Midnight.AddHours(-1)));
        await client.LogTransferAsync(Transfer("-1500", Midnight.AddSeconds(-1)));
        await client.LogPnlSnapshotAsync(PnlSnapshot("10000", Midnight));
        await client.LogPnlSnapshotAsync(PnlSnapshot("8500", Midnight.AddHours(1)));
    }

    private static decimal InTodaysMoney(GetPeakEquityResponse peak) =>
        decimal.Parse(peak.PeakEquity, System.Globalization.CultureInfo.InvariantCulture)
        + decimal.Parse(peak.TransfersSincePeak, System.Globalization.CultureInfo.InvariantCulture);
}
