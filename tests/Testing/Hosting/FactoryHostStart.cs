using System.Reflection;
using System.Runtime.ExceptionServices;
using Microsoft.Extensions.Hosting;

namespace TradeEngine.Testing.Hosting;

/// <summary>
/// <c>WebApplicationFactory.CreateHost</c> for the tests' hosts: builds and starts the host, and when the start fails,
/// throws what the service threw. With minimal hosting the factory lets the service's own <c>Main</c> start the host
/// (<c>app.Run()</c>, on another thread) and waits for it; when that start fails (an options validation at start-up),
/// <c>Main</c> disposes the host, and if it did so before the factory looked at the host's services, the factory reports
/// <see cref="ObjectDisposedException"/> ("IServiceProvider") instead (dotnet/aspnetcore#33494). A test that asserts the
/// setting a refused start names then fails on the factory's race. The start's own exception is kept by the factory's
/// deferred host (the entry point's completion, <c>_hostStartedTcs</c>): read there. When the factory's internals are not
/// as expected, the factory's exception is thrown as it was.
/// </summary>
public static class FactoryHostStart
{
    public static IHost Run(IHostBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var host = builder.Build();
        try
        {
            host.Start();
            return host;
        }
        catch (ObjectDisposedException) when (StartFailure(host) is { } failure)
        {
            ExceptionDispatchInfo.Throw(failure);
            throw;
        }
    }

    private static Exception? StartFailure(IHost host)
    {
        if (host.GetType().GetField("_hostStartedTcs", BindingFlags.Instance | BindingFlags.NonPublic)?.GetValue(host) is not TaskCompletionSource started)
        {
            return null;
        }

        try
        {
            // The entry point completes (and sets this) once Main has ended, right after it disposed the host. Completed
            // without an exception, or not at all: nothing better to throw than the factory's own.
            started.Task.Wait(TimeSpan.FromSeconds(30));
            return null;
        }
        catch (AggregateException ex) when (ex.InnerException is not null)
        {
            return ex.InnerException;
        }
    }
}
