using Microsoft.Extensions.Options;
using TradeEngine.PaperExchange.Engine;
using TradeEngine.PaperExchange.Options;

namespace TradeEngine.PaperExchange.State;

/// <summary>
/// Loads <c>Paper:StateFile</c> at start, then saves whenever the state changed (at most every
/// <see cref="PaperOptions.StateSaveInterval"/>) and once more on a clean shutdown.
/// </summary>
public sealed partial class StatePersistenceService(PaperEngine engine, IOptions<PaperOptions> options, ILogger<StatePersistenceService> logger)
    : BackgroundService
{
    private readonly Lock _writeLock = new();
    private long _savedVersion = -1;

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        if (options.Value.StateFile is { Length: > 0 } path)
        {
            if (StateFile.Read(path) is { } snapshot)
            {
                engine.Restore(snapshot);
                LogRestored(logger, path);
            }

            _savedVersion = engine.Version;
        }

        return base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (options.Value.StateFile is not { Length: > 0 })
        {
            return;
        }

        using var timer = new PeriodicTimer(options.Value.StateSaveInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                SaveIfChanged();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        SaveIfChanged();
    }

    /// <summary>Writes the state now if it changed since the last write (the control API's snapshot route calls this).</summary>
    public bool SaveIfChanged()
    {
        if (options.Value.StateFile is not { Length: > 0 } path)
        {
            return false;
        }

        lock (_writeLock)
        {
            var version = engine.Version;
            if (version == _savedVersion)
            {
                return false;
            }

            StateFile.Write(path, engine.SerializeSnapshot());
            _savedVersion = version;
            return true;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Restored the simulator state from {Path}")]
    private static partial void LogRestored(ILogger logger, string path);
}
