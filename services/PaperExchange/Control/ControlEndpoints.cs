using TradeEngine.Domain;
using TradeEngine.PaperExchange.Engine;
using TradeEngine.PaperExchange.State;
using TradeEngine.PaperExchange.Venue;

namespace TradeEngine.PaperExchange.Control;

/// <summary>
/// The simulator's control API, under <c>/paper/v1</c>: not part of Binance's surface and NOT authenticated (anyone
/// who reaches it can move prices, the clock and balances). It shares the venue's port, so it is mapped only when
/// <c>Paper:EnableControlApi</c> is true; unset, that is true in Development and Testing and false in any other
/// environment (see <see cref="Extensions.PaperExchangeExtensions.MapPaperExchange"/>).
/// </summary>
public static class ControlEndpoints
{
    public const string Prefix = "/paper/v1";

    public static IEndpointRouteBuilder MapPaperControl(this IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var g = app.MapGroup(Prefix).WithTags("paper-control");

        g.MapGet("/state", (PaperEngine e) => Results.Ok(e.Summary()));
        g.MapPost("/price", (SetPriceRequest r, PaperEngine e) => Run(() => e.SetPrice(r.Symbol, r.Price, r.MarkPrice)));
        g.MapPost("/path", (SetPathRequest r, PaperEngine e) => Run(() => e.SetPath(r.Symbol, r.Prices, r.Immediate)));
        g.MapPost("/volatility", (SetVolatilityRequest r, PaperEngine e) => Run(() => e.SetVolatility(r.Symbol, r.Volatility)));
        g.MapPost("/funding-rate", (SetFundingRateRequest r, PaperEngine e) => Run(() => e.SetFundingRate(r.Symbol, r.Rate)));
        g.MapPost("/funding-info", (SetFundingInfoRequest r, PaperEngine e) =>
            Run(() => e.SetFundingTerms(r.Symbol, r.FundingIntervalHours, r.AdjustedFundingRateCap, r.AdjustedFundingRateFloor)));
        g.MapPost("/liquidation", (SetLiquidationRequest r, PaperEngine e) => Run(() => e.SetLiquidationPaused(r.Paused)));
        g.MapPost("/clock/advance", (AdvanceClockRequest r, PaperEngine e) =>
        {
            var delta = TimeSpan.FromSeconds(r.Seconds ?? 0) + TimeSpan.FromMilliseconds(r.Milliseconds ?? 0);
            if (delta < TimeSpan.Zero)
            {
                return Results.Problem("the clock only moves forward", statusCode: 400);
            }

            return Results.Ok(new ClockResponse(e.Advance(delta), e.Clock.Speed));
        });
        g.MapPost("/clock/speed", (ClockSpeedRequest r, PaperEngine e) =>
        {
            try
            {
                e.Clock.SetSpeed(r.Speed);
            }
            catch (ArgumentOutOfRangeException ex)
            {
                return Results.Problem(ex.Message, statusCode: 400);
            }

            return Results.Ok(new ClockResponse(e.NowMs, e.Clock.Speed));
        });
        g.MapPost("/fees", (SetFeesRequest r, PaperEngine e) => Run(() => e.SetFees(r.MakerRate, r.TakerRate)));
        g.MapPost("/slippage", (SetSlippageRequest r, PaperEngine e) => Run(() => e.SetSlippage(r.Bps)));
        g.MapPost("/depth", (SetDepthRequest r, PaperEngine e) => Run(() => e.SetDepth(r.Symbol, r.Quantity)));
        g.MapPost("/status", (SetStatusRequest r, PaperEngine e) => Run(() => e.SetStatus(r.Symbol, r.Status)));
        g.MapPost("/faults", (FaultRequest r, FaultInjector f) =>
        {
            if (!Enum.TryParse<FaultKind>(r.Kind, ignoreCase: true, out var kind) || !Enum.IsDefined(kind))
            {
                return Results.Problem($"unknown fault kind '{r.Kind}'; one of {string.Join(", ", Enum.GetNames<FaultKind>())}", statusCode: 400);
            }

            try
            {
                f.Add(new FaultRule(kind, r.Path, r.Count, r.RetryAfterSeconds, r.LatencyMs, r.Status, r.Code, r.Message, r.RetryAfterAsDate));
            }
            catch (ArgumentOutOfRangeException ex)
            {
                return Results.Problem(ex.Message, statusCode: 400);
            }

            return Results.NoContent();
        });
        g.MapGet("/faults", (FaultInjector f) => Results.Ok(f.Pending()));
        g.MapDelete("/faults", (FaultInjector f) =>
        {
            f.Clear();
            return Results.NoContent();
        });
        g.MapGet("/requests", (FaultInjector f) => Results.Ok(f.Received));
        g.MapDelete("/requests", (FaultInjector f) =>
        {
            f.ResetCounts();
            return Results.NoContent();
        });
        g.MapPost("/transfer", (TransferRequest? r, PaperEngine e) =>
        {
            if (r?.Amount is not { } amount)
            {
                return Results.Problem("amount is required: a signed decimal, positive into the account, negative out of it", statusCode: 400);
            }

            try
            {
                return Results.Ok(e.Transfer(amount, r.Asset, r.Type));
            }
            catch (DomainException ex)
            {
                return Results.Problem(ex.Message, statusCode: 400);
            }
        });
        g.MapGet("/orders", (string? clientOrderId, PaperEngine e) => Results.Ok(e.Orders(clientOrderId)));
        g.MapPost("/reset", (ResetRequest? r, PaperEngine e, FaultInjector f, RateCounters c) =>
        {
            e.Reset(r?.Balance);
            f.Clear();
            f.ResetCounts();
            c.Reset();
            return Results.NoContent();
        });
        g.MapPost("/state/save", (IEnumerable<IHostedService> hosted) =>
        {
            var saver = hosted.OfType<StatePersistenceService>().FirstOrDefault();
            return saver is null ? Results.Problem("no state persistence service", statusCode: 409) : Results.Ok(new { saved = saver.SaveIfChanged() });
        });
        return app;
    }

    private static IResult Run(Action action)
    {
        try
        {
            action();
            return Results.NoContent();
        }
        catch (DomainException e)
        {
            return Results.Problem(e.Message, statusCode: 400);
        }
        catch (VenueRejection e)
        {
            return Results.Problem(e.Message, statusCode: 400);
        }
    }
}
