using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using TradeEngine.Ledger.V1;
using TradeEngine.ServiceDefaults.Grpc;

namespace TradeEngine.Messaging.Inbox;

public static class InboxServiceCollectionExtensions
{
    /// <summary>
    /// The shared inbox for <see cref="InboxConsumer{TMessage}"/>s: processed event ids are kept by the Ledger
    /// (service "ledger", resolved from <c>services__ledger__http__0</c>).
    /// </summary>
    public static IHostApplicationBuilder AddLedgerInbox(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddServiceGrpcClient<LedgerService.LedgerServiceClient>("ledger");
        builder.Services.AddTransient<IInbox, LedgerInbox>();
        return builder;
    }
}
