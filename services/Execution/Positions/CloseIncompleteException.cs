using Grpc.Core;

namespace TradeEngine.Execution.Positions;

/// <summary>
/// A close the venue did not complete under its client order id: the order found under that id did not close the
/// position, filled only in part, or filled nothing. Its status is the caller's answer (ALREADY_EXISTS, ABORTED or
/// FAILED_PRECONDITION); close-all and the margin consumer tell it apart from every other failure by its type, and go on
/// under another id.
/// </summary>
public sealed class CloseIncompleteException(Status status) : RpcException(status);
