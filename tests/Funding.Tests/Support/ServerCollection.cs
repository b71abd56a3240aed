using TradeEngine.Testing.Servers;

namespace TradeEngine.Funding.Tests.Support;

/// <summary>One throwaway PostgreSQL and RabbitMQ for the whole suite; each test gets its own database.</summary>
[CollectionDefinition(Name)]
public sealed class ServerCollection : ICollectionFixture<PostgresServer>, ICollectionFixture<RabbitMqServer>
{
    public const string Name = "servers";
}
