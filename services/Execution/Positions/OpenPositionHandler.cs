using Grpc.Core;
using TradeEngine.Binance;
using TradeEngine.Binance.Models;
using TradeEngine.Execution.Concurrency;
using TradeEngine.Execution.Ledger;
using TradeEngine.Execution.Logging;
using TradeEngine.Execution.Mapping;
using TradeEngine.Execution.Reconciliation;
using TradeEngine.Execution.V1;
using TradeEngine.Execution.Venue;
using TradeEngine.Funding.V1;
using TradeEngine.Risk.V1;
using TradeEngine.ServiceDefaults.Grpc;

namespace TradeEngine.Execution.Positions;

/// <summary>
/// The plan's open_position: read balance and price, funding rate and daily estimate, ask Risk, set margin type and
/// leverage, place the market order and the protective orders, record the fill and the position in the Ledger, and
/// answer entry, liquidation price and funding. Nothing reaches the venue when a check or Risk says no.
/// </summary>
public sealed class OpenPositionHandler(
    IBinanceClient venue,
    RiskService.RiskServiceClient risk,
    FundingService.FundingServiceClient funding,
    InstrumentDirectory instruments,
    RequestDeduplicator deduplicator,
    SymbolLocks locks,
    ReconciliationState reconciliation,
    FillRecorder fills,
    IHostApplicationLifetime lifetime,
    ILogger<OpenPositionHandler> logger)
{
    public async Task<OpenPositionResponse> OpenAsync(OpenPositionRequest request, CancellationToken cancellationToken)
    {
        var info = await instruments.GetAsync(cancellationToken).ConfigureAwait(false);
        var command = OpenCommand.Parse(request, info.Find);
        reconciliation.EnsureReady();
        var (response, replayed) = await deduplicator.RunAsync(
            "open", command.ClientOrderId, request, () => Detached.Run(() => ExecuteAsync(command))).ConfigureAwait(false);
        if (!replayed)
        {
            return response;
        }

        var copy = response.Clone();
        copy.Replayed = true;
        return copy;
    }

    private async Task<OpenPositionResponse> ExecuteAsync(OpenCommand command)
    {
        var ct = lifetime.ApplicationStopping;
        using var held = await locks.AcquireAsync(command.Symbol, ct).ConfigureAwait(false);

        // The durable idempotency check: an order with this client id at the venue means an earlier attempt got
        // that far (perhaps before a crash). Resume it; never send it again.
        var existingTask = venue.GetOrderAsync(command.Symbol, command.ClientOrderId, ct);
        var accountTask = VenueAccount.ReadAsync(venue, ct);
        var priceTask = venue.GetTickerPriceAsync(command.Symbol, ct);
        var fundingTask = FundingQuote.GetAsync(funding, command.Symbol, ExecutionWire.Side(command.Side), command.Quantity, ct);
        var existing = await existingTask.ConfigureAwait(false);
        var account = await accountTask.ConfigureAwait(false);
        var price = (await priceTask.ConfigureAwait(false)).Price;
        var quote = await fundingTask.ConfigureAwait(false);
        if (existing is not null)
        {
            Log.Resuming(logger, command.Symbol, command.ClientOrderId, existing.Status.ToString());
            var resumed = await fills.CompleteOpenAsync(command, existing, quote, resumed: true).ConfigureAwait(false);
            resumed.Replayed = true;
            return resumed;
        }

        command.CheckProtectiveSides(price);
        var position = account.FindOpen(command.Symbol);
        if (position is not null && Math.Sign(position.PositionAmt) != (command.Side == Domain.Side.Long ? 1 : -1))
        {
            throw new RpcException(new Status(StatusCode.FailedPrecondition,
                $"opposite_position: {command.Symbol} has an open {(position.PositionAmt > 0 ? "long" : "short")} position; close it before opening a {command.Side.ToString().ToLowerInvariant()}"));
        }

        var check = await risk.CheckPreTradeAsync(new CheckPreTradeRequest
        {
            Order = new OrderIntent
            {
                Symbol = command.Symbol,
                Side = ExecutionWire.Side(command.Side),
                Quantity = Wire.Format(command.Quantity),
                Price = Wire.Format(price),
                Leverage = command.Leverage,
                MarginType = ExecutionWire.MarginType(command.MarginType),
            },
            Account = account.ToSnapshot(),
        }, cancellationToken: ct).ConfigureAwait(false);
        if (!check.Allowed)
        {
            Log.Denied(logger, command.Symbol, command.ClientOrderId, string.Join("; ", check.Reasons.Select(r => r.Code + ": " + r.Message)));
            var denied = new OpenPositionResponse
            {
                Symbol = command.Symbol,
                Side = ExecutionWire.Side(command.Side),
                Quantity = Wire.Format(command.Quantity),
                FundingRate = quote.Rate,
                EstimatedDailyFunding = quote.DailyCost,
                Warnings = { quote.Warnings },
                Denials = { check.Reasons },
            };
            return denied;
        }

        var settings = account.Find(command.Symbol);
        if (settings is null || settings.MarginType != command.MarginType)
        {
            await venue.ChangeMarginTypeAsync(command.Symbol, command.MarginType, ct).ConfigureAwait(false);
        }

        if (settings is null || settings.Leverage != command.Leverage)
        {
            await venue.ChangeLeverageAsync(command.Symbol, command.Leverage, ct).ConfigureAwait(false);
        }

        var placement = await venue.PlaceOrderAsync(
            new NewOrder(command.Symbol, ExecutionWire.OpeningOrder(command.Side), OrderType.Market, command.Quantity), command.ClientOrderId, ct)
            .ConfigureAwait(false);
        return await fills.CompleteOpenAsync(command, placement.Order, quote, resumed: false).ConfigureAwait(false);
    }
}
