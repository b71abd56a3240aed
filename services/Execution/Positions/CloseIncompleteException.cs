using Grpc.Core;

namespace TradeEngine.Execution.Positions;

/// <summary>
/// A close the venue did not complete under its client order id: the order found under that id did not close the
/// position, filled only in part, or filled nothing. Its status is the caller's answer (ALREADY_EXISTS, ABORTED or
/// FAILED_PRECONDITION); close-all and the margin consumer tell it apart from every other failure by its type, and go on
/// under another id.
/// </summary>
/// <param name="status">The caller's answer.</param>
/// <param name="earlier">
/// The order under the id was placed by an earlier call (found, not placed now): close-all steps over such an id
/// without counting it against the orders one pass may place.
/// </param>
public sealed class CloseIncompleteException(Status status, bool earlier = false) : RpcException(status)
{
    /// <summary>Whether the order under the id was placed by an earlier call, not by this one.</summary>
    public bool Earlier { get; } = earlier;
}
