namespace TradeEngine.PaperExchange.Control;

// Request bodies of the control API (/paper/v1/...). Decimals may be JSON numbers or strings.

public sealed record SetPriceRequest(string Symbol, decimal Price, decimal? MarkPrice = null);

public sealed record SetPathRequest(string Symbol, IReadOnlyList<decimal> Prices, bool Immediate = false);

public sealed record SetVolatilityRequest(string Symbol, decimal Volatility);

public sealed record SetFundingRateRequest(string Symbol, decimal Rate);

/// <summary>Funding terms as fundingInfo shows them; a null term is left as it is.</summary>
public sealed record SetFundingInfoRequest(string Symbol, int? FundingIntervalHours = null, decimal? AdjustedFundingRateCap = null, decimal? AdjustedFundingRateFloor = null);

public sealed record SetLiquidationRequest(bool Paused);

public sealed record AdvanceClockRequest(long? Seconds = null, long? Milliseconds = null);

public sealed record ClockSpeedRequest(double Speed);

public sealed record SetFeesRequest(decimal? MakerRate = null, decimal? TakerRate = null);

public sealed record SetSlippageRequest(decimal Bps);

/// <summary>The most one market order fills on the symbol (a whole number of its steps); null lifts the limit.</summary>
public sealed record SetDepthRequest(string Symbol, decimal? Quantity);

/// <summary>The symbol's contract status as exchangeInfo lists it (TRADING, SETTLING, CLOSE, ...).</summary>
public sealed record SetStatusRequest(string Symbol, string Status);

public sealed record FaultRequest(
    string Kind,
    string? Path = null,
    int Count = 1,
    int RetryAfterSeconds = 1,
    int LatencyMs = 0,
    int? Status = null,
    int? Code = null,
    string? Message = null,
    bool RetryAfterAsDate = false);

public sealed record ResetRequest(decimal? Balance = null);

/// <summary>
/// A transfer into (positive <see cref="Amount"/>) or out of (negative) the futures account's cross wallet; the asset
/// defaults to USDT, the only one the simulated account holds. <see cref="Type"/> is the income type it is booked as,
/// one of Binance's capital flows (<see cref="Engine.PaperEngine.TransferTypes"/>); TRANSFER when absent.
/// </summary>
public sealed record TransferRequest(decimal? Amount, string? Asset = null, string? Type = null);

public sealed record ClockResponse(long ServerTime, double Speed);
