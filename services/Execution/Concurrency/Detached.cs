using System.Diagnostics;
using TradeEngine.Domain;

namespace TradeEngine.Execution.Concurrency;

/// <summary>
/// Runs work that must finish once started (an order was sent; its fill must reach the Ledger) apart from the
/// caller: the caller's cancellation and deadline are not propagated to the outbound calls (the HttpContext does not
/// flow), while the trace does (the current activity is carried over), so the spans stay under the caller's trace, and
/// so does the venue priority (<see cref="VenueRequestPriority"/>: a close-all's sweep is as urgent as its call).
/// The work is bound to the process instead: it stops when the host stops (as in a crash), except what follows an
/// order the venue has taken (its fill's protection and record, which the host's stop waits for), and the
/// reconciliation at the next start repairs whatever it left half-done.
/// </summary>
public static class Detached
{
    public static Task<T> Run<T>(Func<Task<T>> work)
    {
        var parent = Activity.Current;
        var priority = VenueRequestPriority.Current;
        using (ExecutionContext.SuppressFlow())
        {
            return Task.Run(() =>
            {
                Activity.Current = parent;
                using var scope = VenueRequestPriority.Enter(priority);
                return work();
            });
        }
    }
}
