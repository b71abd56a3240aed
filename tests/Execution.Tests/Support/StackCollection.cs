using TradeEngine.Testing.Servers;

namespace TradeEngine.Execution.Tests.Support;

/// <summary>One PostgreSQL and one RabbitMQ for the suite; each test starts its own stack on its own database.</summary>
[CollectionDefinition(Name)]
public sealed class StackCollection : ICollectionFixture<PostgresServer>, ICollectionFixture<RabbitMqServer>
{
    public const string Name = "execution-stack";
}
