namespace TradeEngine.PaperExchange.Engine;

/// <summary>Moves the simulation along between requests, so triggers, funding and liquidation happen on time.</summary>
public sealed class EngineTicker(PaperEngine engine) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(100));
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                engine.Sync();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}
