using TradeEngine.Execution.V1;

namespace TradeEngine.Execution.Services;

/// <summary>
/// Hosts the execution v1 contract. RPCs not implemented yet answer UNIMPLEMENTED (the generated base's default),
/// never a made-up value.
/// </summary>
public sealed class ExecutionGrpcService : ExecutionService.ExecutionServiceBase
{
}
