using TradeEngine.Common.V1;
using TradeEngine.Ledger.Tests.Support;
using TradeEngine.Ledger.V1;
using TradeEngine.Testing.Servers;
using static TradeEngine.Ledger.Tests.Support.Requests;

namespace TradeEngine.Ledger.Tests;

/// <summary>
/// A page of the largest size with rows of the longest texts would pass the 1 MiB a service sends: the page ends early,
/// within the limit, and its token leads on to every other row.
/// </summary>
[Collection(LedgerCollection.Name)]
public sealed class LargePageTests(PostgresServer postgres, RabbitMqServer rabbit) : IAsyncLifetime
{
    private const int Rows = 1000;

    private LedgerHost _ledger = null!;

    private LedgerService.LedgerServiceClient Client => _ledger.Client;

    public async Task InitializeAsync() => _ledger = await LedgerHost.StartAsync(postgres, rabbit, relay: false);

    public async Task DisposeAsync() => await _ledger.DisposeAsync();

    /// <summary>1,000 changes with 1,024-character reasons (about 1.07 MB) failed RESOURCE_EXHAUSTED at page size 1,000.</summary>
    [Fact]
    public async Task GetKillSwitchHistory_ThousandLongReasonsPageOfThousand_EndsEarlyWithTokenPagingReturnsEveryChange()
    {
        await _ledger.ExecuteAsync(
            "INSERT INTO kill_switch_history (active, trigger, reason, actor, changed_at) " +
            "SELECT i % 2 = 1, 'operator', repeat('r', 1016) || lpad(i::text, 8, '0'), 'ops', $1 + i * interval '1 second' " +
            "FROM generate_series(1, $2) i", T0.UtcDateTime, Rows);

        var request = new GetKillSwitchHistoryRequest { Page = new PageRequest { PageSize = Rows } };
        var first = await Client.GetKillSwitchHistoryAsync(request);
        var reasons = first.Changes.Select(c => c.Reason).ToList();
        var pages = 1;
        for (var token = first.NextPageToken; token.Length > 0; pages++)
        {
            request.Page.PageToken = token;
            var page = await Client.GetKillSwitchHistoryAsync(request);
            reasons.AddRange(page.Changes.Select(c => c.Reason));
            token = page.NextPageToken;
        }

        Assert.InRange(first.Changes.Count, 1, Rows - 1);
        Assert.NotEmpty(first.NextPageToken);
        Assert.Equal(2, pages);
        // Every change once, newest first.
        Assert.Equal(Enumerable.Range(1, Rows).Reverse().Select(i => i.ToString("D8", System.Globalization.CultureInfo.InvariantCulture)), reasons.Select(r => r[^8..]));
        Assert.All(reasons, r => Assert.Equal(1024, r.Length));
    }

    /// <summary>Positions with texts at their longest in non-ASCII characters (three bytes each) pass 1 MiB at 1,000 a page.</summary>
    [Fact]
    public async Task GetPositions_ThousandNonAsciiLongTextsPageOfThousand_EndsEarlyWithTokenPagingReturnsEveryPosition()
    {
        await _ledger.ExecuteAsync(
            "INSERT INTO positions (position_id, account, venue, symbol, side, quantity, entry_price, exit_price, closed_quantity, " +
            "leverage, margin_type, status, strategy, opened_at, closed_at, exit_reason) " +
            "SELECT gen_random_uuid(), repeat('é', 64), 'binance', 'BTCUSDT', 'long', 1, 100, 100, 1, 5, 'isolated', 'closed', repeat('€', 64), " +
            "$1 + i * interval '1 minute', $1 + i * interval '1 minute' + interval '1 second', repeat('€', 256) FROM generate_series(1, $2) i",
            T0.UtcDateTime, Rows);

        var request = new GetPositionsRequest { Venue = "binance", Page = new PageRequest { PageSize = Rows } };
        var first = await Client.GetPositionsAsync(request);
        var ids = first.Positions.Select(p => p.PositionId).ToList();
        for (var token = first.NextPageToken; token.Length > 0;)
        {
            request.Page.PageToken = token;
            var page = await Client.GetPositionsAsync(request);
            ids.AddRange(page.Positions.Select(p => p.PositionId));
            token = page.NextPageToken;
        }

        Assert.InRange(first.Positions.Count, 1, Rows - 1);
        Assert.NotEmpty(first.NextPageToken);
        Assert.Equal(Rows, ids.Count);
        Assert.Equal(Rows, ids.Distinct(StringComparer.Ordinal).Count());
    }
}
