using System.Security.Cryptography;

namespace TradeEngine.AppHost.Infrastructure;

/// <summary>
/// The venue the services trade on: PaperExchange (the default), or a real Binance USD-M endpoint when
/// <c>Venue:BaseUrl</c> is configured for the AppHost, with the key and secret from the parameters
/// <c>binance-api-key</c> / <c>binance-api-secret</c> (user secrets or environment; never committed).
/// </summary>
public sealed record Venue(
    IResourceBuilder<ProjectResource>? Paper,
    string? BaseUrl,
    IResourceBuilder<ParameterResource> ApiKey,
    IResourceBuilder<ParameterResource> ApiSecret);

public static class VenueExtensions
{
    public static Venue AddVenue(this IDistributedApplicationBuilder builder)
    {
        var realUrl = builder.Configuration["Venue:BaseUrl"];
        if (!string.IsNullOrWhiteSpace(realUrl))
        {
            return new Venue(null, realUrl,
                builder.AddParameter("binance-api-key", secret: true),
                builder.AddParameter("binance-api-secret", secret: true));
        }

        // Credentials for the simulator only: fresh each run, so nothing here is a secret worth keeping.
        var key = builder.AddParameter("paper-api-key", Convert.ToHexString(RandomNumberGenerator.GetBytes(32)), secret: true);
        var secret = builder.AddParameter("paper-api-secret", Convert.ToHexString(RandomNumberGenerator.GetBytes(32)), secret: true);
        var paper = builder.AddProject<Projects.TradeEngine_PaperExchange>("paper-exchange")
            .WithEnvironment("Paper__ApiKey", key)
            .WithEnvironment("Paper__ApiSecret", secret)
            // The simulator's control API (price, clock, faults) is for local runs and tests; off by default elsewhere.
            .WithEnvironment("Paper__EnableControlApi", "true")
            .WithEnvironment("Paper__StateFile", Path.Combine(LocalProcess.StateDirectory(builder.AppHostDirectory, "paper"), "state.json"))
            .WithHttpHealthCheck("/health");
        return new Venue(paper, null, key, secret);
    }

    public static IResourceBuilder<ProjectResource> WithVenue(this IResourceBuilder<ProjectResource> service, Venue venue)
    {
        service.WithEnvironment("Binance__ApiKey", venue.ApiKey)
            .WithEnvironment("Binance__ApiSecret", venue.ApiSecret);
        if (venue.Paper is { } paper)
        {
            return service.WithEnvironment("Binance__BaseUrl", paper.GetEndpoint("http")).WaitFor(paper);
        }

        return service.WithEnvironment("Binance__BaseUrl", venue.BaseUrl!);
    }
}
