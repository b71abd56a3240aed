using System.Text.Json.Serialization;
using Microsoft.Extensions.Options;
using TradeEngine.PaperExchange.Clock;
using TradeEngine.PaperExchange.Control;
using TradeEngine.PaperExchange.Engine;
using TradeEngine.PaperExchange.Options;
using TradeEngine.PaperExchange.State;
using TradeEngine.PaperExchange.Venue;

namespace TradeEngine.PaperExchange.Extensions;

public static class PaperExchangeExtensions
{
    /// <summary>Registers the simulator: options (section <c>Paper</c>), its clock, the engine, the venue pipeline and the background services.</summary>
    public static IHostApplicationBuilder AddPaperExchange(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        services.AddOptions<PaperOptions>()
            .Bind(builder.Configuration.GetSection(PaperOptions.SectionName))
            .Validate(o => o.ApiKey.Length > 0 && o.ApiSecret.Length > 0, "Paper:ApiKey and Paper:ApiSecret must be configured (appsettings.Development.json has fake ones)")
            .ValidateOnStart();
        services.AddSingleton(sp =>
        {
            var o = sp.GetRequiredService<IOptions<PaperOptions>>().Value;
            return new SimulatedClock(TimeProvider.System, o.StartTime, o.ClockSpeed);
        });
        services.AddSingleton(sp => new PaperEngine(
            sp.GetRequiredService<SimulatedClock>(),
            sp.GetRequiredService<IOptions<PaperOptions>>().Value,
            sp.GetRequiredService<ILogger<PaperEngine>>()));
        services.AddSingleton<RequestAuthenticator>();
        services.AddSingleton<FaultInjector>();
        services.AddSingleton<RateCounters>();
        services.AddSingleton<VenueGate>();
        services.AddHostedService<StatePersistenceService>();
        services.AddHostedService<EngineTicker>();
        services.ConfigureHttpJsonOptions(o => o.SerializerOptions.NumberHandling = JsonNumberHandling.AllowReadingFromString);
        services.PostConfigure<LoggerFilterOptions>(KeepRequestLogOff);
        return builder;
    }

    /// <summary>ASP.NET Core's request log, which writes each request's query string: a signed request's signature.</summary>
    public const string RequestLogCategory = "Microsoft.AspNetCore.Hosting.Diagnostics";

    /// <summary>
    /// Keeps <see cref="RequestLogCategory"/> at Warning for every logging provider whatever the configuration says
    /// (<c>Logging__LogLevel__Default=Trace</c>, or a provider's own level): its Information lines ("Request starting
    /// ... ?symbol=...&amp;signature=...") would put every signature in the logs. The rule names the category in full, for
    /// each provider named in the rules and for all, and is added last, so it wins over every rule written without a
    /// wildcard. A wildcard rule longer than the category (<c>Microsoft.AspNetCore.Hosting.Diagnostics*</c>) would still
    /// win; so would Kestrel's Debug log of a malformed request's target.
    /// </summary>
    private static void KeepRequestLogOff(LoggerFilterOptions options)
    {
        foreach (var provider in options.Rules.Select(r => r.ProviderName).Append(null).Distinct().ToList())
        {
            options.Rules.Add(new LoggerFilterRule(provider, RequestLogCategory, LogLevel.Warning, filter: null));
        }
    }

    /// <summary>
    /// Maps Binance's REST subset at Binance's paths, and the control API under <c>/paper/v1</c> only when
    /// <c>Paper:EnableControlApi</c> allows it. The control API has no authentication and shares the venue's port, so
    /// anyone who can reach the simulator could move its prices and clock: unset, it is on only in Development and
    /// Testing (where the simulator binds to loopback) and off everywhere else.
    /// </summary>
    public static WebApplication MapPaperExchange(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapBinanceSurface();
        var enabled = app.Services.GetRequiredService<IOptions<PaperOptions>>().Value.EnableControlApi
            ?? (app.Environment.IsDevelopment() || app.Environment.IsEnvironment("Testing"));
        if (enabled)
        {
            app.MapPaperControl();
        }

        return app;
    }
}
