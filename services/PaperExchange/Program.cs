using TradeEngine.PaperExchange.Extensions;
using TradeEngine.ServiceDefaults;

// PaperExchange: a Binance USD-M compatible simulator (the default venue and the client's test double).
var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddPaperExchange();

var app = builder.Build();

app.MapPaperExchange();
app.MapDefaultEndpoints();

app.Run();

/// <summary>Entry point, public so tests can host the simulator (WebApplicationFactory).</summary>
public partial class Program;
