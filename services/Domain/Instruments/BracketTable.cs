namespace TradeEngine.Domain.Instruments;

/// <summary>
/// A symbol's leverage brackets, in ascending notional order, as taken from the exchange on
/// <see cref="TakenAt"/>. The constructor checks the table is contiguous from 0, that the
/// maintenance rate rises, and that every Cum equals the previous Cum plus
/// floor × (rate − previous rate): the continuity rule that makes maintenance margin a
/// continuous function of notional. A typo in the data fails loudly at load time.
/// </summary>
public sealed class BracketTable
{
    private readonly LeverageBracket[] _brackets;

    public BracketTable(Symbol symbol, DateOnly takenAt, string source, IReadOnlyList<LeverageBracket> brackets)
    {
        ArgumentNullException.ThrowIfNull(brackets);
        if (symbol.Value.Length == 0)
        {
            Guard.Fail("symbol", "must not be empty");
        }

        if (brackets.Count == 0)
        {
            Guard.Fail("brackets", "must hold at least one bracket");
        }

        _brackets = [.. brackets];
        Validate(_brackets);
        Symbol = symbol;
        TakenAt = takenAt;
        Source = Guard.NotBlank(source, "source");
    }

    public Symbol Symbol { get; }

    /// <summary>The date the figures were copied from the exchange; brackets change over time.</summary>
    public DateOnly TakenAt { get; }

    public string Source { get; }

    public ReadOnlySpan<LeverageBracket> Brackets => _brackets;

    public int Count => _brackets.Length;

    public LeverageBracket this[int index] => _brackets[index];

    /// <summary>Largest notional the table covers; beyond it no position may exist.</summary>
    public decimal MaxNotional => _brackets[^1].NotionalCap;

    /// <summary>Highest leverage the symbol allows (bracket 1).</summary>
    public int MaxLeverage => _brackets[0].InitialLeverage;

    /// <summary>
    /// Index of the bracket holding <paramref name="notional"/>: the first whose cap is at or
    /// above it, so a notional exactly on a cap stays in the lower (higher-leverage) bracket,
    /// as Binance's maxNotionalValue for a leverage is inclusive. Returns -1 above the table.
    /// </summary>
    public int IndexOf(decimal notional)
    {
        if (notional < 0m)
        {
            Guard.Fail("notional", "must not be negative");
        }

        var brackets = _brackets;
        for (var i = 0; i < brackets.Length; i++)
        {
            if (notional <= brackets[i].NotionalCap)
            {
                return i;
            }
        }

        return -1;
    }

    public bool TryFind(decimal notional, out LeverageBracket bracket)
    {
        var index = IndexOf(notional);
        bracket = index >= 0 ? _brackets[index] : default;
        return index >= 0;
    }

    public LeverageBracket Find(decimal notional)
    {
        var index = IndexOf(notional);
        if (index < 0)
        {
            Guard.Fail("notional", $"is above the last bracket cap {DecimalText.Format(MaxNotional)} of {Symbol}");
        }

        return _brackets[index];
    }

    /// <summary>notional × mmr − cum for the bracket of the notional (continuous in notional).</summary>
    public decimal MaintenanceMargin(decimal notional) => Find(notional).MaintenanceMargin(notional);

    /// <summary>The highest leverage allowed for a position of this notional.</summary>
    public int MaxLeverageFor(decimal notional) => Find(notional).InitialLeverage;

    private static void Validate(LeverageBracket[] brackets)
    {
        if (brackets[0].NotionalFloor != 0m || brackets[0].Cum != 0m)
        {
            Guard.Fail("brackets", "bracket 1 must start at notional 0 with cum 0");
        }

        for (var i = 1; i < brackets.Length; i++)
        {
            var previous = brackets[i - 1];
            var current = brackets[i];
            if (current.NotionalFloor != previous.NotionalCap)
            {
                Guard.Fail("brackets", $"bracket {current.Bracket} must start where bracket {previous.Bracket} ends");
            }

            if (current.MaintMarginRatio <= previous.MaintMarginRatio || current.InitialLeverage > previous.InitialLeverage)
            {
                Guard.Fail("brackets", $"bracket {current.Bracket} must raise the maintenance rate and not raise leverage");
            }

            var expectedCum = previous.Cum + current.NotionalFloor * (current.MaintMarginRatio - previous.MaintMarginRatio);
            if (current.Cum != expectedCum)
            {
                Guard.Fail("brackets", $"bracket {current.Bracket} cum must be {DecimalText.Format(expectedCum)} for continuity");
            }
        }
    }
}
