using Grpc.Core;
using Microsoft.Extensions.Options;
using TradeEngine.Binance;
using TradeEngine.Binance.Errors;
using TradeEngine.Binance.Models;
using TradeEngine.Domain;
using TradeEngine.Domain.Funding;
using TradeEngine.Funding.Mapping;
using TradeEngine.Funding.Market;
using TradeEngine.Funding.Options;
using TradeEngine.Funding.Transfers;
using TradeEngine.Funding.V1;
using TradeEngine.ServiceDefaults.Grpc;

namespace TradeEngine.Funding.Services;

/// <summary>
/// The funding v1 contract over the venue's market data and Domain's funding math. Sign convention (Domain's): a
/// positive rate means longs pay shorts; a cost is positive when we pay. Estimates round to 0.01 half to even.
/// </summary>
public sealed class FundingGrpcService(FundingMarketData market, IBinanceClient venue, IOptions<FundingOptions> options, IServiceProvider services)
    : FundingService.FundingServiceBase
{
    /// <summary>
    /// Books the venue's transfers now (<see cref="TransferBooker"/>, shared with the poller: one run at a time).
    /// FAILED_PRECONDITION without the venue's API credentials or without a Ledger; RESOURCE_EXHAUSTED with the delay
    /// when the venue's rate limit holds the read back; UNAVAILABLE when the venue or the Ledger failed (what was booked
    /// stays booked; the rest on a later run).
    /// </summary>
    public override async Task<BookTransfersResponse> BookTransfers(BookTransfersRequest request, ServerCallContext context)
    {
        var booker = services.GetService<TransferBooker>()
            ?? throw new RpcException(new Status(StatusCode.FailedPrecondition, "transfers: this service has no Ledger configured (services:ledger), so transfers cannot be booked"));
        if (!booker.HasCredentials)
        {
            throw new RpcException(new Status(
                StatusCode.FailedPrecondition,
                "transfers: this service has no venue API credentials (Binance:ApiKey, Binance:ApiSecret), and transfers cannot be read without them"));
        }

        try
        {
            // Never under a caller's hold limit: Risk asks before it latches the kill switch, and a booking refused for a
            // limit would leave a withdrawal reading as a loss (the caller's deadline bounds the ask).
            using var unbounded = VenueHoldLimit.Enter(null);
            var run = await booker.RunOnceAsync(context.CancellationToken).ConfigureAwait(false);
            return new BookTransfersResponse { Booked = run.Booked, BookedNet = Wire.Format(run.BookedNet) };
        }
        catch (TransferBookingException ex) when (ex.InnerException is BinanceRateLimitException limited)
        {
            // Held back by the venue's rate limit (a back-off, or the client's share used up), as Funding's other reads
            // answer it: the delay before a retry (google.rpc.RetryInfo), not an UNAVAILABLE retried at once into the
            // same refusal. What was booked before stays booked.
            throw GrpcStatuses.VenueRateLimited("transfers: the venue's rate limit holds the transfers' read back", limited.RetryAfter);
        }
        catch (TransferBookingException ex)
        {
            throw new RpcException(new Status(StatusCode.Unavailable, "transfers: " + ex.Message));
        }
    }

    public override async Task<GetCurrentRateResponse> GetCurrentRate(GetCurrentRateRequest request, ServerCallContext context)
    {
        var symbol = FundingWire.Symbol(request.Symbol);
        var current = await market.GetCurrentAsync(symbol, context.CancellationToken).ConfigureAwait(false);
        return new GetCurrentRateResponse
        {
            Symbol = symbol.Value,
            FundingRate = Wire.Format(current.FundingRate),
            MarkPrice = Wire.Format(current.MarkPrice),
            IndexPrice = Wire.Format(current.IndexPrice),
            NextFundingTime = Wire.Timestamp(current.NextFundingTime),
            FundingIntervalHours = current.Terms.IntervalHours,
            RateCap = Wire.Format(current.Terms.Cap),
            RateFloor = Wire.Format(current.Terms.Floor),
            AsOf = Wire.Timestamp(current.AsOf),
        };
    }

    public override async Task<GetFundingHistoryResponse> GetFundingHistory(GetFundingHistoryRequest request, ServerCallContext context)
    {
        var symbol = FundingWire.Symbol(request.Symbol);
        if (request.Range is null)
        {
            throw new RequestValidationException("range", "is required");
        }

        var start = Wire.Instant(request.Range.Start, "range.start");
        var end = Wire.Instant(request.Range.End, "range.end");
        if (end <= start)
        {
            throw new RequestValidationException("range.end", "must be after range.start");
        }

        var size = FundingWire.PageSize(request.Page);
        var from = FundingWire.PageStart(request.Page?.PageToken) ?? start;
        if (from < start || from >= end)
        {
            throw new RequestValidationException("page.page_token", "does not belong to this range");
        }

        // Validates the symbol against the venue (cached), so an unknown one is INVALID_ARGUMENT, not an empty page.
        await market.GetCurrentAsync(symbol, context.CancellationToken).ConfigureAwait(false);
        var ct = context.CancellationToken;
        // The venue's endTime is inclusive, in milliseconds, and ours exclusive, to the tick: the last millisecond before
        // end is end rounded up to the millisecond, less one (08:00:00.0005 keeps a settlement at 08:00:00.000, which is
        // before it). One page is at most the venue's limit (1000).
        var lastMs = CeilingMillisecond(end).AddMilliseconds(-1);
        // Its startTime is inclusive, in milliseconds, and ours inclusive, to the tick: the first millisecond at or after
        // from is from rounded up (08:00:00.0005 starts at 08:00:00.001). Sent cut to 08:00:00.000, the venue's page began
        // with the 08:00 settlement, which the range leaves out: a page of only that one answered no rates and no token
        // although later settlements were in the range.
        var firstMs = CeilingMillisecond(from);
        var response = new GetFundingHistoryResponse();
        if (firstMs > lastMs)
        {
            // The range holds no whole millisecond, and the venue stamps settlements in whole milliseconds: none is in it.
            return response;
        }

        var page = await VenueCall.Run(() => venue.GetFundingRateHistoryAsync(
            new FundingRateQuery(symbol.Value, firstMs, lastMs, size), ct), caller: ct).ConfigureAwait(false);
        foreach (var entry in page.Where(e => e.FundingTime >= from && e.FundingTime < end).OrderBy(e => e.FundingTime))
        {
            response.Rates.Add(new FundingRateRecord
            {
                Symbol = entry.Symbol,
                FundingRate = Wire.Format(entry.FundingRate),
                FundingTime = Wire.Timestamp(entry.FundingTime),
                MarkPrice = Wire.Format(entry.MarkPrice),
            });
        }

        if (page.Count >= size && response.Rates.Count > 0)
        {
            var next = response.Rates[^1].FundingTime.ToDateTimeOffset().AddMilliseconds(1);
            response.NextPageToken = next < end ? FundingWire.PageToken(next) : string.Empty;
        }

        return response;
    }

    private static DateTimeOffset CeilingMillisecond(DateTimeOffset t) =>
        new((t.UtcTicks + TimeSpan.TicksPerMillisecond - 1) / TimeSpan.TicksPerMillisecond * TimeSpan.TicksPerMillisecond, TimeSpan.Zero);

    public override async Task<EstimateCostResponse> EstimateCost(EstimateCostRequest request, ServerCallContext context)
    {
        var symbol = FundingWire.Symbol(request.Symbol);
        var side = FundingWire.Side(request.Side);
        var quantity = Wire.Positive(request.Quantity, "quantity");
        var givenPrice = Wire.OptionalPositive(request.Price, "price");
        var givenRate = FundingWire.OptionalRate(request.FundingRate, "funding_rate");
        var horizonCase = request.HorizonCase;
        switch (horizonCase)
        {
            case EstimateCostRequest.HorizonOneofCase.Settlements when request.Settlements is < 1 or > FundingWire.MaxSettlements:
                throw new RequestValidationException("settlements", $"must be from 1 to {FundingWire.MaxSettlements}");
            case EstimateCostRequest.HorizonOneofCase.HorizonHours when request.HorizonHours is < 1 or > FundingWire.MaxHorizonHours:
                throw new RequestValidationException("horizon_hours", $"must be from 1 to {FundingWire.MaxHorizonHours} (a year)");
            case EstimateCostRequest.HorizonOneofCase.None:
                throw new RequestValidationException("horizon", "set settlements or horizon_hours");
        }

        var terms = await market.GetTermsAsync(symbol, context.CancellationToken).ConfigureAwait(false);
        decimal price;
        decimal rate;
        if (givenPrice is { } p && givenRate is { } r)
        {
            // Still checks the symbol exists at the venue: an unknown one is refused, not priced.
            await market.GetCurrentAsync(symbol, context.CancellationToken).ConfigureAwait(false);
            (price, rate) = (p, r);
        }
        else
        {
            var current = await market.GetCurrentAsync(symbol, context.CancellationToken).ConfigureAwait(false);
            (price, rate) = (givenPrice ?? current.MarkPrice, givenRate ?? current.ClampedRate);
        }

        FundingWire.CheckNotional(quantity, price);
        var schedule = terms.Schedule;
        var settlements = horizonCase == EstimateCostRequest.HorizonOneofCase.Settlements
            ? request.Settlements
            : schedule.SettlementsInHorizon(TimeSpan.FromHours(request.HorizonHours));
        var signed = side == Domain.Side.Long ? quantity : -quantity;
        return new EstimateCostResponse
        {
            Cost = FundingWire.Estimate(FundingMath.EstimateRounded(signed, price, rate, settlements)),
            ExactCost = FundingWire.ExactCost(signed, price, rate, settlements),
            Settlements = settlements,
            FundingIntervalHours = schedule.IntervalHours,
            FundingRate = Wire.Format(rate),
            Price = Wire.Format(price),
        };
    }

    public override async Task<EstimateDailyCostResponse> EstimateDailyCost(EstimateDailyCostRequest request, ServerCallContext context)
    {
        var symbol = FundingWire.Symbol(request.Symbol);
        var side = FundingWire.Side(request.Side);
        var quantity = Wire.Positive(request.Quantity, "quantity");
        var givenPrice = Wire.OptionalPositive(request.Price, "price");
        var current = await market.GetCurrentAsync(symbol, context.CancellationToken).ConfigureAwait(false);
        var price = givenPrice ?? current.MarkPrice;
        FundingWire.CheckNotional(quantity, price);
        var rate = current.ClampedRate;
        var schedule = current.Terms.Schedule;
        var signed = side == Domain.Side.Long ? quantity : -quantity;
        var daily = FundingMath.EstimateDaily(signed, price, rate, schedule);
        var threshold = options.Value.HighFundingThreshold;
        var response = new EstimateDailyCostResponse
        {
            DailyCost = FundingWire.Estimate(daily),
            SettlementsPerDay = schedule.SettlementsPerDay,
            FundingRate = Wire.Format(rate),
            Price = Wire.Format(price),
            HighFundingWarning = daily > threshold,
            WarningThreshold = Wire.Format(threshold),
        };
        if (response.HighFundingWarning)
        {
            response.Warnings.Add(
                $"Estimated daily funding cost {response.DailyCost} USDT on {symbol} is above {Wire.Format(threshold)} USDT " +
                $"({schedule.SettlementsPerDay} settlements a day at rate {Wire.Format(rate)})");
        }

        return response;
    }
}
