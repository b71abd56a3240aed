using System.Text.Json;
using TradeEngine.PaperExchange.Engine;

namespace TradeEngine.PaperExchange.State;

/// <summary>
/// The state file: written to a temporary file beside it, flushed to disk, then renamed over the old one, so a
/// crash leaves either the previous or the new state, never half of one.
/// </summary>
public static class StateFile
{
    public static void Write(string path, byte[] content)
    {
        var full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        var temp = full + ".tmp";
        using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 64 * 1024, FileOptions.WriteThrough))
        {
            stream.Write(content);
            stream.Flush(flushToDisk: true);
        }

        File.Move(temp, full, overwrite: true);
    }

    public static EngineSnapshot? Read(string path)
    {
        if (!File.Exists(path))
        {
            return null;
        }

        var bytes = File.ReadAllBytes(path);
        return JsonSerializer.Deserialize(bytes, StateJsonContext.Default.EngineSnapshot)
            ?? throw new InvalidDataException($"State file {path} is empty");
    }
}
