namespace TradeEngine.PaperExchange.Options;

/// <summary>
/// Simulator configuration, section <c>Paper</c> (<c>Paper__ApiKey</c>, <c>Paper__StateFile</c>, ...).
/// None of this is part of Binance's surface.
/// </summary>
public sealed class PaperOptions
{
    public const string SectionName = "Paper";

    /// <summary>The one accepted API key. Development defaults live in appsettings.Development.json and are fake.</summary>
    public string ApiKey { get; set; } = "";

    public string ApiSecret { get; set; } = "";

    /// <summary>When set, state is saved here (atomically: temp file + rename) and loaded at start.</summary>
    public string? StateFile { get; set; }

    /// <summary>How often a changed state is written, at most.</summary>
    public TimeSpan StateSaveInterval { get; set; } = TimeSpan.FromMilliseconds(250);

    public decimal StartingBalance { get; set; } = 10_000m;

    /// <summary>Taker fee rate (0.0005 = 0.05 %), charged as COMMISSION income.</summary>
    public decimal TakerFeeRate { get; set; } = 0.0005m;

    public decimal MakerFeeRate { get; set; } = 0.0002m;

    /// <summary>
    /// The account's BNB fee discount at start (Binance's "feeBurn", off by default; POST /fapi/v1/feeBurn changes it at
    /// run time). On, a fill's commission is charged in BNB, 10 % off, at BNBUSDT's mark price, while the futures wallet
    /// holds enough BNB (<see cref="StartingBnbBalance"/>); otherwise in USDT as usual.
    /// </summary>
    public bool FeeBurn { get; set; }

    /// <summary>
    /// The account's position mode at start (and after a reset): false one-way (Binance's default), true hedge
    /// (dual-side). POST /fapi/v1/positionSide/dual changes it at run time while the account is flat with no open orders.
    /// The simulator has no hedge book: in hedge mode every order is refused with -4061 (as Binance answers one without
    /// positionSide LONG or SHORT; one with it, which Binance would take, gets the same here) and positionRisk lists a
    /// LONG and a SHORT row a symbol, both flat.
    /// </summary>
    public bool DualSidePosition { get; set; }

    /// <summary>BNB in the futures wallet at start (and after a reset), for the BNB fee discount. Not margin (single-asset mode).</summary>
    public decimal StartingBnbBalance { get; set; }

    /// <summary>Market orders fill this many basis points worse than the mark price.</summary>
    public decimal SlippageBps { get; set; }

    /// <summary>Seed of the random walk; the same seed and clock give the same prices.</summary>
    public int Seed { get; set; } = 42;

    /// <summary>The price path moves one step per this much simulated time.</summary>
    public TimeSpan PriceStep { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Simulated-clock start (ISO 8601). Empty: the real time. The Ledger refuses facts dated more than
    /// <c>Ledger:RecordedTimes:MaxAheadOfClock</c> (a day) ahead of its own clock: a start in the future needs it raised.
    /// </summary>
    public DateTimeOffset? StartTime { get; set; }

    /// <summary>
    /// Simulated seconds per real second (0 freezes the clock; the control API changes it at run time). Above 1 the
    /// venue's clock runs ahead of the services' by more every hour; raise <c>Ledger:RecordedTimes:MaxAheadOfClock</c>
    /// to match, or the Ledger refuses the fills Execution records with the venue's times.
    /// </summary>
    public double ClockSpeed { get; set; } = 1.0;

    /// <summary>
    /// Off (default), as Binance USD-M: a client order id must be unique among OPEN orders of the symbol, so the id of
    /// a filled, cancelled or expired order may be used again (and the query by that id then finds the newest order).
    /// On: an id is never accepted twice; stricter than Binance, for tests that want that guarantee from the venue.
    /// </summary>
    public bool StrictClientOrderIds { get; set; }

    /// <summary>
    /// Maps the unauthenticated control API (<c>/paper/v1/*</c>) on the venue's port. Unset: on in the Development
    /// and Testing environments, off in any other.
    /// </summary>
    public bool? EnableControlApi { get; set; }

    /// <summary>Answer 429 once a window's limit is used up (otherwise the limits are only reported in headers).</summary>
    public bool EnforceRateLimits { get; set; }

    public int RequestWeightLimitPerMinute { get; set; } = 2400;

    public int OrderLimitPerMinute { get; set; } = 1200;

    public int OrderLimitPer10Seconds { get; set; } = 300;

    /// <summary>
    /// Requests per 5 minutes that GET fundingRate and GET fundingInfo share (Binance: 500 per IP; neither weighs on
    /// the request weight, and the venue reports this count in no header).
    /// </summary>
    public int FundingRouteLimitPer5Minutes { get; set; } = 500;

    /// <summary>Per-symbol settings, keyed by symbol (BTCUSDT, ETHUSDT and the simulated markets: SOLUSDT, BNBUSDT, ...).</summary>
    public Dictionary<string, PaperMarketOptions> Markets { get; set; } = new(StringComparer.Ordinal);

    public override string ToString() => $"PaperOptions {{ StateFile = {StateFile}, ApiKey = <redacted>, ApiSecret = <redacted> }}";
}

/// <summary>
/// One simulated market. <see cref="FundingIntervalHours"/> is simulator configuration: SOLUSDT defaults to 4 h here
/// so a 4-hour symbol exists to test against, whatever the live exchange uses for it today.
/// </summary>
public sealed class PaperMarketOptions
{
    public decimal? InitialPrice { get; set; }

    public int? FundingIntervalHours { get; set; }

    /// <summary>The funding rate charged at each funding time until changed (positive: longs pay shorts).</summary>
    public decimal? FundingRate { get; set; }

    /// <summary>Random-walk step size as a fraction of price (0.0005 = up to ±5 bp a step); 0 holds the price still.</summary>
    public decimal? Volatility { get; set; }

    /// <summary>A file of prices, one per line (optionally "epochMillis,price"), replayed one per step, then held.</summary>
    public string? ReplayFile { get; set; }
}
