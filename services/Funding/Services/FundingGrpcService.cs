using TradeEngine.Funding.V1;

namespace TradeEngine.Funding.Services;

/// <summary>
/// Hosts the funding v1 contract. RPCs not implemented yet answer UNIMPLEMENTED (the generated base's default),
/// never a made-up value.
/// </summary>
public sealed class FundingGrpcService : FundingService.FundingServiceBase
{
}
