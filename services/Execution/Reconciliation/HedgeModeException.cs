namespace TradeEngine.Execution.Reconciliation;

/// <summary>
/// The venue account is in hedge (dual-side) position mode. Execution trades in one-way mode only (one position a
/// symbol, orders without a position side): reconciliation does not compare or repair such an account, and opening is
/// refused until the operator switches it back (<see cref="ReconciliationState"/>).
/// </summary>
public sealed class HedgeModeException : InvalidOperationException
{
    public const string Text =
        "the venue account is in hedge (dual-side) position mode; Execution trades in one-way mode only: switch the account to " +
        "one-way mode (POST /fapi/v1/positionSide/dual with dualSidePosition=false, which Binance takes only with no position and no open order)";

    public HedgeModeException()
        : base(Text)
    {
    }

    public HedgeModeException(string message)
        : base(message)
    {
    }

    public HedgeModeException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
