using Grpc.Core;
using TradeEngine.Binance.Errors;
using TradeEngine.Binance.Instruments;
using TradeEngine.Domain;
using TradeEngine.Domain.Instruments;
using TradeEngine.Domain.Margin;
using TradeEngine.Risk.Mapping;
using TradeEngine.Common.V1;
using TradeEngine.ServiceDefaults.Grpc;

namespace TradeEngine.Risk.Instruments;

/// <summary>
/// Filters and brackets of the symbols the venue lists (<see cref="IInstrumentSource"/>, the venue's instrument
/// catalog), as the risk contract needs them: a symbol the venue does not list is INVALID_ARGUMENT naming the field,
/// a venue that cannot be read is UNAVAILABLE, one whose rate limit holds the read back RESOURCE_EXHAUSTED (fail closed
/// either way: no check passes on guessed filters).
/// </summary>
public sealed class RiskInstruments(IInstrumentSource source)
{
    public async ValueTask<Instrument> GetAsync(string? text, string field, CancellationToken cancellationToken)
    {
        var symbol = RiskWire.Symbol(text, field);
        return await FindAsync(symbol, cancellationToken).ConfigureAwait(false)
            ?? throw new RequestValidationException(field, $"unknown symbol: the venue does not list {symbol}");
    }

    /// <summary>
    /// The account of a snapshot. When it states no maintenance margin, the positions' brackets are read here so
    /// <see cref="RiskWire.Account"/> can compute it; a position on an unlisted symbol is then INVALID_ARGUMENT naming it.
    /// A caller that answers bad input runs <see cref="RiskWire.CheckAccountForm"/> first, before the venue is read.
    /// </summary>
    public async ValueTask<AccountView> AccountAsync(AccountSnapshot? snapshot, string field, CancellationToken cancellationToken)
    {
        if (snapshot is null || !string.IsNullOrWhiteSpace(snapshot.MaintenanceMargin) || snapshot.Positions.Count == 0)
        {
            return RiskWire.Account(snapshot, field, null);
        }

        var brackets = new Dictionary<Symbol, BracketTable>();
        for (var i = 0; i < snapshot.Positions.Count; i++)
        {
            var symbol = RiskWire.Symbol(snapshot.Positions[i].Symbol, $"{field}.positions[{i}].symbol");
            if (!brackets.ContainsKey(symbol) && await FindAsync(symbol, cancellationToken).ConfigureAwait(false) is { } instrument)
            {
                brackets[symbol] = instrument.Brackets;
            }
        }

        return RiskWire.Account(snapshot, field, brackets);
    }

    /// <summary>
    /// A position's maintenance margin at its mark in its symbol's brackets (what the venue liquidates an isolated
    /// position against); null when the venue does not list the symbol or the notional is past its last bracket (brackets
    /// older than the venue's).
    /// </summary>
    public async ValueTask<decimal?> MaintenanceAtMarkAsync(PositionView position, CancellationToken cancellationToken)
    {
        if (await FindAsync(position.Symbol, cancellationToken).ConfigureAwait(false) is not { } instrument)
        {
            return null;
        }

        try
        {
            return MarginMath.MaintenanceMargin(MarginMath.Notional(position.SignedSize, position.MarkPrice), instrument.Brackets);
        }
        catch (DomainException)
        {
            return null;
        }
    }

    /// <remarks>
    /// Warm, the catalog answers at once. Cold (its first read, or the first after a failed one) the read is shared and
    /// bounded only by its own timeout: a caller under a hold limit (an open's check, its symbol's lock held, the limit
    /// carried in x-venue-hold-ms) waits no longer than the limit, then RESOURCE_EXHAUSTED (the read goes on and fills the
    /// catalog for a retry). A read the venue's rate limit holds back is RESOURCE_EXHAUSTED with its delay, not UNAVAILABLE
    /// (which a client retries at once into the same refusal).
    /// </remarks>
    public async ValueTask<Instrument?> FindAsync(Symbol symbol, CancellationToken cancellationToken)
    {
        try
        {
            return await HoldLimitedWait.WaitAsync(
                source.TryGetAsync(symbol, cancellationToken), "The venue's instrument list is still being read and", null, cancellationToken)
                .ConfigureAwait(false);
        }
        catch (BinanceRateLimitException ex)
        {
            throw GrpcStatuses.VenueRateLimited("The venue's rate limit holds the instruments' read back", ex.RetryAfter);
        }
        catch (Exception ex) when (ex is BinanceException or HttpRequestException)
        {
            throw new RpcException(new Status(StatusCode.Unavailable, "The venue's instruments could not be read."), ex.Message);
        }
    }
}
