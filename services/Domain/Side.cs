namespace TradeEngine.Domain;

/// <summary>Direction of a position or order. There is no "none": a flat position has size 0.</summary>
public enum Side
{
    Long = 1,
    Short = 2,
}

public static class SideExtensions
{
    /// <summary>+1 for Long, -1 for Short; an undefined value throws (nothing is guessed).</summary>
    public static int Sign(this Side side) => Guard.Sign(side, nameof(side));

    public static Side Opposite(this Side side) => side.Sign() > 0 ? Side.Short : Side.Long;

    /// <summary>Side of a signed position size (long positive). Zero has no side.</summary>
    public static Side FromSignedSize(decimal signedSize)
    {
        if (signedSize == 0m)
        {
            Guard.Fail(nameof(signedSize), "a flat position has no side");
        }

        return signedSize > 0m ? Side.Long : Side.Short;
    }
}
