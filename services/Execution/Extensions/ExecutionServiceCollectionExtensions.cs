namespace TradeEngine.Execution.Extensions;

public static class ExecutionServiceCollectionExtensions
{
    public static IHostApplicationBuilder AddExecutionServices(this IHostApplicationBuilder builder)
    {
        return builder;
    }
}
