using System.Globalization;
using Grpc.Core;
using TradeEngine.Domain;
using TradeEngine.Domain.Funding;
using TradeEngine.Ledger.V1;
using TradeEngine.ServiceDefaults.Grpc;

namespace TradeEngine.Funding.Accrual;

public sealed partial class FundingAccrual
{
    private async Task<bool> PostAsync(PositionRecord position, Symbol symbol, DateTimeOffset t, decimal rate, decimal mark, CancellationToken cancellationToken)
    {
        var ms = t.ToUnixTimeMilliseconds();
        var size = await ledger.GetPositionSizeAtAsync(
            new GetPositionSizeAtRequest { PositionId = position.PositionId, At = Wire.Timestamp(t) }, cancellationToken: cancellationToken)
            .ConfigureAwait(false);
        var quantity = DecimalText.Parse(size.Quantity, "quantity");
        if (quantity == 0m)
        {
            // Not held at that instant (opened just after it): nothing was paid or received.
            _posted.Add((position.PositionId, ms));
            return false;
        }

        var signed = size.Side == Common.V1.Side.Short ? -quantity : quantity;
        var payment = FundingMath.SettlementAmount(signed, mark, rate);
        var key = string.Create(CultureInfo.InvariantCulture, $"funding:{position.PositionId}:{ms}");
        try
        {
            var response = await ledger.LogFundingEventAsync(Posting(position, symbol, t, rate, mark, signed, key), cancellationToken: cancellationToken)
                .ConfigureAwait(false);
            _posted.Add((position.PositionId, ms));
            reconciler.Expect(position.PositionId, symbol, t, payment);
            if (!response.Replayed)
            {
                LogPosted(logger, position.PositionId, symbol.Value, t, payment);
            }

            return !response.Replayed;
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.InvalidArgument)
        {
            // A posting the Ledger cannot take is a defect here, not a settlement done: it stays due (and loud) so
            // that nothing owed is silently dropped.
            LogInvalid(logger, position.PositionId, t, ex.Status.Detail);
            return false;
        }
        catch (RpcException ex) when (ex.StatusCode is StatusCode.AlreadyExists or StatusCode.FailedPrecondition)
        {
            // The Ledger holds a different posting for this position and time (or refuses this one): never post twice.
            _posted.Add((position.PositionId, ms));
            LogRefused(logger, position.PositionId, t, ex.Status.Detail);
            return false;
        }
    }

    /// <summary>
    /// The funding event of one settlement: payment = signed size × mark × rate (<see cref="FundingMath.SettlementAmount"/>)
    /// and notional = |size| × mark, both rounded to the Ledger's 8 decimals half to even (<see cref="FundingMath.PostedAmount"/>).
    /// </summary>
    public static LogFundingEventRequest Posting(PositionRecord position, Symbol symbol, DateTimeOffset t, decimal rate, decimal mark, decimal signed, string key)
    {
        var payment = FundingMath.SettlementAmount(signed, mark, rate);
        return new LogFundingEventRequest
        {
            IdempotencyKey = key,
            PositionId = position.PositionId,
            Symbol = symbol.Value,
            Venue = position.Venue,
            FundingRate = Wire.Format(rate),
            PositionSize = Wire.Format(signed),
            MarkPrice = Wire.Format(mark),
            // The venue's mark has up to 8 decimals, so size × mark can have more than the Ledger's 8: rounded
            // like the payment (FundingMath.PostedAmount, half to even).
            Notional = Wire.Format(FundingMath.PostedAmount(Math.Abs(signed) * mark)),
            Payment = Wire.Format(payment),
            FundingTime = Wire.Timestamp(t),
        };
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Funding posted: position {PositionId} {Symbol} at {FundingTime}: {Payment}")]
    private static partial void LogPosted(ILogger logger, string positionId, string symbol, DateTimeOffset fundingTime, decimal payment);

    [LoggerMessage(Level = LogLevel.Error, Message = "Funding of position {PositionId} at {FundingTime} refused as invalid by the Ledger; it stays due: {Detail}")]
    private static partial void LogInvalid(ILogger logger, string positionId, DateTimeOffset fundingTime, string detail);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The Ledger refused the funding event of position {PositionId} at {FundingTime}: {Detail}")]
    private static partial void LogRefused(ILogger logger, string positionId, DateTimeOffset fundingTime, string detail);
}
