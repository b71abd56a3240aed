using TradeEngine.Risk.V1;

namespace TradeEngine.Risk.Services;

/// <summary>
/// Hosts the risk v1 contract. RPCs not implemented yet answer UNIMPLEMENTED (the generated base's default),
/// never a made-up value.
/// </summary>
public sealed class RiskGrpcService : RiskService.RiskServiceBase
{
}
