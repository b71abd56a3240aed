using TradeEngine.Domain;
using TradeEngine.Domain.Instruments;
using TradeEngine.Execution.Mapping;
using TradeEngine.Execution.V1;
using TradeEngine.ServiceDefaults.Grpc;
using DomainMarginType = TradeEngine.Domain.MarginType;
using DomainSide = TradeEngine.Domain.Side;

namespace TradeEngine.Execution.Positions;

/// <summary>An OpenPosition request that passed every check that needs no price; nothing has been sent anywhere yet.</summary>
public sealed record OpenCommand(
    OpenPositionRequest Request,
    string ClientOrderId,
    Instrument Instrument,
    DomainSide Side,
    decimal Quantity,
    int Leverage,
    DomainMarginType MarginType,
    decimal? StopLoss,
    decimal? TakeProfit,
    string? Strategy)
{
    public string Symbol => Instrument.Symbol.Value;

    /// <summary>Every field violation at once, so the caller fixes them in one go.</summary>
    /// <param name="instrument">The venue's instrument of <c>request.symbol</c>, or null when the venue does not list it.</param>
    public static OpenCommand Parse(OpenPositionRequest request, Instrument? instrument)
    {
        ArgumentNullException.ThrowIfNull(request);
        var violations = new List<FieldViolation>();
        var (clientOrderId, side, quantity, leverage, marginType, stopLoss, takeProfit, strategy) = ReadFields(request, violations);
        instrument = Try(violations, () => string.IsNullOrEmpty(request.Symbol)
            ? throw new RequestValidationException("symbol", "is required")
            : instrument ?? throw new RequestValidationException("symbol", $"'{request.Symbol}' is not a symbol the venue lists"));

        if (instrument is not null && quantity > 0m)
        {
            var filters = instrument.Filters;
            if ((quantity - filters.MinQty) % filters.StepSize != 0m)
            {
                violations.Add(new FieldViolation("quantity", $"must be on the symbol's step size {Wire.Format(filters.StepSize)}"));
            }

            if (quantity < filters.MarketMinQty || quantity > filters.MarketMaxQty)
            {
                violations.Add(new FieldViolation("quantity",
                    $"must be from {Wire.Format(filters.MarketMinQty)} to {Wire.Format(filters.MarketMaxQty)} (the symbol's market order limits)"));
            }

            CheckTick(violations, stopLoss, filters.TickSize, "stop_loss_price");
            CheckTick(violations, takeProfit, filters.TickSize, "take_profit_price");
            // The venue would refuse a protective order outside PRICE_FILTER only after the market order filled, and a
            // refused stop-loss closes the position at once: refused here, before anything is sent.
            CheckBounds(violations, stopLoss, instrument, "stop_loss_price");
            CheckBounds(violations, takeProfit, instrument, "take_profit_price");
        }

        if (violations.Count > 0)
        {
            throw new RequestValidationException(violations);
        }

        return new OpenCommand(request, clientOrderId!, instrument!, side, quantity, leverage, marginType, stopLoss, takeProfit,
            strategy);
    }

    /// <summary>
    /// The request's violations that need no instrument list: every field's own form, and a symbol that is missing or
    /// could be no symbol at all. The answer when the venue's list cannot be read, so a malformed request is
    /// INVALID_ARGUMENT (fix it) whatever the venue's state, not UNAVAILABLE (retry it as it is).
    /// </summary>
    public static IReadOnlyList<FieldViolation> FormViolations(OpenPositionRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var violations = new List<FieldViolation>();
        _ = ReadFields(request, violations);
        if (string.IsNullOrEmpty(request.Symbol))
        {
            violations.Add(new FieldViolation("symbol", "is required"));
        }
        else if (!Domain.Symbol.TryParse(request.Symbol, out _))
        {
            violations.Add(new FieldViolation("symbol", $"'{request.Symbol}' is not a symbol the venue lists"));
        }

        return violations;
    }

    /// <summary>The fields that need no instrument, each read on its own; their violations go to <paramref name="violations"/>.</summary>
    private static (string? ClientOrderId, DomainSide Side, decimal Quantity, int Leverage, DomainMarginType MarginType,
        decimal? StopLoss, decimal? TakeProfit, string? Strategy) ReadFields(OpenPositionRequest request, List<FieldViolation> violations)
    {
        var clientOrderId = Try(violations, () => ExecutionWire.ClientOrderId(request.ClientOrderId));
        var side = Try(violations, () => ExecutionWire.Side(request.Side, "side"));
        var quantity = Try(violations, () => Wire.Positive(request.Quantity, "quantity"));
        var leverage = Try(violations, () => request.Leverage is >= Domain.Leverage.Min and <= Domain.Leverage.Max
            ? request.Leverage
            : throw new RequestValidationException("leverage", $"must be from {Domain.Leverage.Min} to {Domain.Leverage.Max}"));
        var marginType = Try(violations, () => ExecutionWire.MarginType(request.MarginType, "margin_type"));
        var stopLoss = Try(violations, () => Wire.OptionalPositive(request.StopLossPrice, "stop_loss_price"));
        var takeProfit = Try(violations, () => Wire.OptionalPositive(request.TakeProfitPrice, "take_profit_price"));
        // As the Ledger reads it (at most 64 characters, no control characters): refused here, before the order, not by
        // the Ledger's write after the fill.
        var strategy = Try(violations, () => Wire.OptionalText(request.Strategy, "strategy", 64));
        return (clientOrderId, side, quantity, leverage, marginType, stopLoss, takeProfit, strategy);
    }

    /// <summary>A long's stop-loss sits below the entry and its take-profit above; a short's the other way round.</summary>
    public void CheckProtectiveSides(decimal price)
    {
        var violations = new List<FieldViolation>();
        var isLong = Side == DomainSide.Long;
        if (StopLoss is { } sl && (isLong ? sl >= price : sl <= price))
        {
            violations.Add(new FieldViolation("stop_loss_price",
                $"must be {(isLong ? "below" : "above")} the entry price {Wire.Format(price)} for a {(isLong ? "long" : "short")}"));
        }

        if (TakeProfit is { } tp && (isLong ? tp <= price : tp >= price))
        {
            violations.Add(new FieldViolation("take_profit_price",
                $"must be {(isLong ? "above" : "below")} the entry price {Wire.Format(price)} for a {(isLong ? "long" : "short")}"));
        }

        if (violations.Count > 0)
        {
            throw new RequestValidationException(violations);
        }
    }

    private static void CheckTick(List<FieldViolation> violations, decimal? price, decimal tick, string field)
    {
        if (price is { } p && p % tick != 0m)
        {
            violations.Add(new FieldViolation(field, $"must be on the symbol's tick size {Wire.Format(tick)}"));
        }
    }

    private static void CheckBounds(List<FieldViolation> violations, decimal? price, Instrument instrument, string field)
    {
        if (price is { } p && ((instrument.MinPrice is { } min && p < min) || (instrument.MaxPrice is { } max && p > max)))
        {
            violations.Add(new FieldViolation(field,
                $"must be from {Wire.Format(instrument.MinPrice)} to {Wire.Format(instrument.MaxPrice)} (the symbol's price filter)"));
        }
    }

    private static T? Try<T>(List<FieldViolation> violations, Func<T> parse)
    {
        try
        {
            return parse();
        }
        catch (RequestValidationException ex)
        {
            violations.AddRange(ex.Violations);
            return default;
        }
    }
}
