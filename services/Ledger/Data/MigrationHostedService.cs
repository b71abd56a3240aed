namespace TradeEngine.Ledger.Data;

/// <summary>Runs the migrations before the server accepts calls (hosted services start before Kestrel).</summary>
public sealed class MigrationHostedService(MigrationRunner runner) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => runner.RunAsync(cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
