using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace TradeEngine.Domain;

/// <summary>
/// Argument checks shared by the value types and the math. The throw sits in a separate,
/// non-inlined method so the checks stay cheap on the hot paths (pre-trade, liquidation).
/// </summary>
internal static class Guard
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static decimal Positive(decimal value, string field)
    {
        if (value <= 0m)
        {
            Fail(field, "must be greater than 0");
        }

        return value;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static decimal NonNegative(decimal value, string field)
    {
        if (value < 0m)
        {
            Fail(field, "must not be negative");
        }

        return value;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Sign(Side side, string field)
    {
        if (side == Side.Long)
        {
            return 1;
        }

        if (side == Side.Short)
        {
            return -1;
        }

        Fail(field, "must be Long or Short");
        return 0;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static MarginType Defined(MarginType marginType, string field)
    {
        if (marginType is not (MarginType.Isolated or MarginType.Cross))
        {
            Fail(field, "must be Isolated or Cross");
        }

        return marginType;
    }

    public static string NotBlank(string? value, string field)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            Fail(field, "must not be empty");
        }

        return value;
    }

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void Fail(string field, string rule) => throw new DomainException(field, rule);
}
