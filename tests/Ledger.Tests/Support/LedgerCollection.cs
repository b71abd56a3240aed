using TradeEngine.Testing.Servers;

namespace TradeEngine.Ledger.Tests.Support;

/// <summary>One PostgreSQL and one RabbitMQ for every test class of this project; each test makes its own database.</summary>
[CollectionDefinition(Name)]
public sealed class LedgerCollection : ICollectionFixture<PostgresServer>, ICollectionFixture<RabbitMqServer>
{
    public const string Name = "ledger";
}
