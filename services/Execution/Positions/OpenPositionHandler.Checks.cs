using Grpc.Core;
using TradeEngine.Binance.Models;
using TradeEngine.Execution.Mapping;
using TradeEngine.Execution.V1;
using TradeEngine.Execution.Venue;
using TradeEngine.Risk.V1;
using TradeEngine.ServiceDefaults.Grpc;

namespace TradeEngine.Execution.Positions;

// OpenPositionHandler's checks before Risk is asked (nothing sent when one fails) and its answer when Risk says no.
public sealed partial class OpenPositionHandler
{
    private static void RequireOpenedHere(OpenCommand command)
    {
        // Judged as RequireTrading is, after a retry's order found at the venue has been resumed: a contract whose type
        // changed since the first attempt (a perpetual being delisted) still gets its filled order booked and protected.
        if (command.Instrument.NotOpenedReason is { } notOpened)
        {
            throw new RequestValidationException("symbol", $"'{command.Symbol}' is listed by the venue but not opened here: {notOpened}; nothing was sent");
        }
    }

    private static void RequireTrading(OpenCommand command)
    {
        // A contract the venue is settling, delivering or has closed refuses the order (-4140), and only after the margin
        // type and leverage changes: refused here. The catalog is refreshed in the background, so a status that changed
        // since is still refused by the venue, as FAILED_PRECONDITION too.
        if (!command.Instrument.IsTrading)
        {
            throw new RpcException(new Status(StatusCode.FailedPrecondition,
                $"symbol: {command.Symbol} is not open for trading at the venue (status {command.Instrument.Status}); nothing was sent"));
        }
    }

    /// <summary>The symbol's open position at the venue, if any, when this open may add to it (same side and settings).</summary>
    private static PositionRisk? RequireCompatiblePosition(OpenCommand command, VenueAccount account)
    {
        var position = account.FindOpen(command.Symbol);
        if (position is not null && Math.Sign(position.PositionAmt) != (command.Side == Domain.Side.Long ? 1 : -1))
        {
            throw new RpcException(new Status(StatusCode.FailedPrecondition,
                $"opposite_position: {command.Symbol} has an open {(position.PositionAmt > 0 ? "long" : "short")} position; close it before opening a {command.Side.ToString().ToLowerInvariant()}"));
        }

        // An add keeps the position's settings: Binance applies a symbol's leverage to its whole position, so an add at
        // another leverage re-levered what was already open (its liquidation price moved) while the Ledger kept the old
        // figure, and a margin type cannot change under a position at all (-4048, refused only after Risk). Change the
        // leverage first (SetLeverage), then add.
        if (position is not null && account.Find(command.Symbol) is { } settingsHeld)
        {
            if (settingsHeld.MarginType != command.MarginType)
            {
                throw new RpcException(new Status(StatusCode.FailedPrecondition,
                    $"margin_type: {command.Symbol}'s open position is {settingsHeld.MarginType.ToString().ToLowerInvariant()} margin; an add keeps its margin type"));
            }

            if (settingsHeld.Leverage != command.Leverage)
            {
                throw new RpcException(new Status(StatusCode.FailedPrecondition,
                    $"leverage: {command.Symbol}'s open position is at {settingsHeld.Leverage}x; an add keeps its leverage (change it with SetLeverage first, which applies to the whole position)"));
            }
        }

        return position;
    }

    private static OpenPositionResponse Denied(OpenCommand command, FundingQuote quote, CheckPreTradeResponse check) =>
        new()
        {
            Symbol = command.Symbol,
            Side = ExecutionWire.Side(command.Side),
            Quantity = Wire.Format(command.Quantity),
            FundingRate = quote.Rate,
            EstimatedDailyFunding = quote.DailyCost,
            Warnings = { quote.Warnings },
            Denials = { check.Reasons },
        };
}
