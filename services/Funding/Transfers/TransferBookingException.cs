namespace TradeEngine.Funding.Transfers;

/// <summary>
/// The venue or the Ledger failed during a transfer run: what was booked before it stays booked, the rest is booked on a
/// later run. The message names neither a key nor a secret.
/// </summary>
public sealed class TransferBookingException : Exception
{
    public TransferBookingException()
    {
    }

    public TransferBookingException(string message)
        : base(message)
    {
    }

    public TransferBookingException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
