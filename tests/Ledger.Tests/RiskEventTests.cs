using Grpc.Core;
using TradeEngine.Common.V1;
using TradeEngine.Ledger.Tests.Support;
using TradeEngine.Ledger.V1;
using TradeEngine.Testing.Servers;
using static TradeEngine.Ledger.Tests.Support.Requests;

namespace TradeEngine.Ledger.Tests;

/// <summary>LogRiskEvent's correlation id and GetRiskEvents over real gRPC and PostgreSQL: round trip, filter, order, paging, bad input.</summary>
[Collection(LedgerCollection.Name)]
public sealed class RiskEventTests(PostgresServer postgres, RabbitMqServer rabbit) : IAsyncLifetime
{
    private LedgerHost _ledger = null!;

    private LedgerService.LedgerServiceClient Client => _ledger.Client;

    public async Task InitializeAsync() => _ledger = await LedgerHost.StartAsync(postgres, rabbit, relay: false);

    public async Task DisposeAsync() => await _ledger.DisposeAsync();

    [Fact]
    public async Task LogRiskEventAndGetRiskEvents_EveryField_ReturnedExactly()
    {
        var correlation = Guid.NewGuid().ToString();
        var request = Event("margin_reduce", T0, correlation);
        request.Severity = RiskEventSeverity.Warning;
        request.Symbol = "BTCUSDT";
        request.MetricValue = "1.12345678";
        request.LimitValue = "-" + Huge;
        var logged = await Client.LogRiskEventAsync(request);
        await Client.LogRiskEventAsync(Event("margin_recovered", T0.AddMinutes(1))); // no correlation id

        var read = await Client.GetRiskEventsAsync(new GetRiskEventsRequest { EventTypes = { "margin_reduce", "margin_recovered" } });

        Assert.Equal(["margin_recovered", "margin_reduce"], read.Events.Select(e => e.EventType));
        var record = read.Events[1];
        Assert.Equal(logged.RiskEventId, record.RiskEventId);
        Assert.Equal(
            (RiskEventSeverity.Warning, "reason", "BTCUSDT", "1.12345678", "-" + Huge, T0, correlation),
            (record.Severity, record.Reason, record.Symbol, record.MetricValue, record.LimitValue, record.OccurredAt.ToDateTimeOffset(), record.CorrelationId));
        Assert.NotNull(record.RecordedAt);
        Assert.Equal((string.Empty, string.Empty, string.Empty, RiskEventSeverity.Info),
            (read.Events[0].CorrelationId, read.Events[0].Symbol, read.Events[0].MetricValue, read.Events[0].Severity));
        Assert.Empty(read.NextPageToken);
        Assert.Equal(1, await _ledger.CountAsync("risk_events WHERE correlation_id = $1", Guid.Parse(correlation)));
    }

    [Fact]
    public async Task LogRiskEvent_SameKeyOtherCorrelationId_AlreadyExistsAndNothingChanged()
    {
        var request = Event("margin_reduce", T0, Guid.NewGuid().ToString());
        var first = await Client.LogRiskEventAsync(request);
        var again = await Client.LogRiskEventAsync(request);
        var other = request.Clone();
        other.CorrelationId = Guid.NewGuid().ToString();

        var ex = await RpcAssert.FailsWith(StatusCode.AlreadyExists, () => Client.LogRiskEventAsync(other).ResponseAsync);

        Assert.True(again.Replayed);
        Assert.Equal(first.RiskEventId, again.RiskEventId);
        Assert.Contains("idempotency_key", ex.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(1, await _ledger.CountAsync("risk_events"));
        Assert.Equal(1, await _ledger.CountAsync("risk_events WHERE correlation_id = $1", Guid.Parse(request.CorrelationId)));
    }

    [Fact]
    public async Task GetRiskEvents_TypesAndRange_OnlyThoseNewestFirst()
    {
        await Client.LogRiskEventAsync(Event("margin_reduce", T0));
        await Client.LogRiskEventAsync(Event("daily_loss_limit", T0.AddMinutes(1)));
        await Client.LogRiskEventAsync(Event("margin_liquidate_all", T0.AddMinutes(2)));
        await Client.LogRiskEventAsync(Event("margin_reduce", T0.AddMinutes(3)));
        await Client.LogRiskEventAsync(Event("margin_reduce", T0.AddDays(2))); // outside the range

        var read = await Client.GetRiskEventsAsync(new GetRiskEventsRequest
        {
            EventTypes = { "margin_reduce", "margin_liquidate_all" },
            Range = new TimeRange { Start = At(T0), End = At(T0.AddDays(1)) },
        });
        var all = await Client.GetRiskEventsAsync(new GetRiskEventsRequest());

        Assert.Equal([T0.AddMinutes(3), T0.AddMinutes(2), T0], read.Events.Select(e => e.OccurredAt.ToDateTimeOffset()));
        Assert.Equal(["margin_reduce", "margin_liquidate_all", "margin_reduce"], read.Events.Select(e => e.EventType));
        Assert.Equal(5, all.Events.Count);
        Assert.Equal(T0.AddDays(2), all.Events[0].OccurredAt.ToDateTimeOffset());
    }

    /// <summary>Five events, two at the same instant (ordered by id): pages of two give each once, newest first.</summary>
    [Fact]
    public async Task GetRiskEvents_PagesOfTwo_EachEventOnceNewestFirst()
    {
        var times = new[] { T0, T0.AddMinutes(1), T0.AddMinutes(1), T0.AddMinutes(2), T0.AddMinutes(3) };
        var ids = new List<(DateTimeOffset At, Guid Id)>();
        foreach (var at in times)
        {
            ids.Add((at, Guid.Parse((await Client.LogRiskEventAsync(Event("margin_reduce", at))).RiskEventId)));
        }

        await Client.LogRiskEventAsync(Event("other", T0.AddMinutes(1)));
        var request = new GetRiskEventsRequest { EventTypes = { "margin_reduce" }, Page = new PageRequest { PageSize = 2 } };
        var seen = new List<string>();
        var pages = 0;
        do
        {
            var page = await Client.GetRiskEventsAsync(request);
            Assert.InRange(page.Events.Count, 1, 2);
            seen.AddRange(page.Events.Select(e => e.RiskEventId));
            request.Page.PageToken = page.NextPageToken;
            pages++;
        }
        while (request.Page.PageToken.Length > 0);

        var expected = ids.OrderByDescending(x => x.At).ThenByDescending(x => x.Id.ToString()).Select(x => x.Id.ToString()).ToList();
        Assert.Equal(expected, seen);
        Assert.Equal(3, pages);
    }

    [Fact]
    public async Task GetRiskEvents_TokenWithOtherTypes_InvalidArgumentNamingPageToken()
    {
        await Client.LogRiskEventAsync(Event("margin_reduce", T0));
        await Client.LogRiskEventAsync(Event("margin_reduce", T0.AddMinutes(1)));
        var first = await Client.GetRiskEventsAsync(new GetRiskEventsRequest { EventTypes = { "margin_reduce" }, Page = new PageRequest { PageSize = 1 } });
        Assert.NotEmpty(first.NextPageToken);

        await RpcAssert.InvalidArgument("page.page_token", () => Client.GetRiskEventsAsync(new GetRiskEventsRequest
        {
            EventTypes = { "margin_recovered" }, Page = new PageRequest { PageSize = 1, PageToken = first.NextPageToken },
        }).ResponseAsync);
    }

    [Theory]
    [InlineData("page.page_size", "0")]
    [InlineData("page.page_size", "1001")]
    [InlineData("event_types[1]", "")]
    [InlineData("event_types[1]", "long")]
    [InlineData("range.end", "before start")]
    [InlineData("range.start", "missing")]
    public async Task GetRiskEvents_InvalidField_InvalidArgumentNamingIt(string field, string value)
    {
        var request = new GetRiskEventsRequest { EventTypes = { "margin_reduce" } };
        switch (field)
        {
            case "page.page_size": request.Page = new PageRequest { PageSize = int.Parse(value, System.Globalization.CultureInfo.InvariantCulture) }; break;
            case "event_types[1]": request.EventTypes.Add(value == "long" ? new string('t', 65) : value); break;
            case "range.end": request.Range = new TimeRange { Start = At(T0), End = At(T0.AddMinutes(-1)) }; break;
            default: request.Range = new TimeRange { End = At(T0) }; break;
        }

        await RpcAssert.InvalidArgument(field, () => Client.GetRiskEventsAsync(request).ResponseAsync);
    }

    [Theory]
    [InlineData("not-a-uuid")]
    [InlineData("12345")]
    public async Task LogRiskEvent_MalformedCorrelationId_InvalidArgumentNamingItAndNothingWritten(string value)
    {
        await RpcAssert.InvalidArgument("correlation_id", () => Client.LogRiskEventAsync(Event("margin_reduce", T0, value)).ResponseAsync);

        Assert.Equal(0, await _ledger.CountAsync("risk_events"));
        Assert.Equal(0, await _ledger.CountAsync("idempotency_keys WHERE rpc = 'LogRiskEvent'"));
        Assert.Equal(0, await _ledger.CountAsync("outbox"));
    }

    private static LogRiskEventRequest Event(string type, DateTimeOffset at, string? correlationId = null) => new()
    {
        IdempotencyKey = Key(),
        EventType = type,
        Severity = RiskEventSeverity.Info,
        Reason = "reason",
        OccurredAt = At(at),
        CorrelationId = correlationId ?? string.Empty,
    };
}
