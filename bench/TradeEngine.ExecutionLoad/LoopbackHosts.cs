using System.Text.Json;

namespace TradeEngine.ExecutionLoad;

public static class LoopbackHosts
{
    /// <summary>
    /// Outside a test runner, WebApplicationFactory finds a service's content root through
    /// <c>ASPNETCORE_TEST_CONTENTROOT_{ASSEMBLY}</c>; the build writes the folders to MvcTestingAppManifest.json.
    /// </summary>
    public static void UseContentRootsFromManifest()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "MvcTestingAppManifest.json");
        if (!File.Exists(path))
        {
            return;
        }

        var manifest = JsonSerializer.Deserialize<Dictionary<string, string>>(File.ReadAllText(path)) ?? [];
        foreach (var (assembly, folder) in manifest)
        {
            var name = assembly.Split(',')[0].ToUpperInvariant().Replace('.', '_');
            Environment.SetEnvironmentVariable("ASPNETCORE_TEST_CONTENTROOT_" + name, folder);
        }
    }
}
