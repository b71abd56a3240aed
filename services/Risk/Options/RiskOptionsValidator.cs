using Microsoft.Extensions.Options;
using TradeEngine.Domain;
using TradeEngine.ServiceDefaults.Grpc;

namespace TradeEngine.Risk.Options;

/// <summary>Refuses, at start-up, limits looser than the hard ones, and intervals that make no sense.</summary>
public sealed class RiskOptionsValidator : IValidateOptions<RiskOptions>
{
    public const int MaxMonitorIntervalSeconds = 60;

    public ValidateOptionsResult Validate(string? name, RiskOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        try
        {
            options.ToLimits();
        }
        catch (DomainException ex)
        {
            failures.Add($"Risk:{ConfigKey(ex.Field)} {ex.Rule}.");
        }

        if (options.StateRefreshSeconds is < 1 or > 3600)
        {
            failures.Add("Risk:StateRefreshSeconds must be from 1 to 3600.");
        }

        // Bounded above too: while the Ledger cannot be read, checks go on with the kill switch, day-start and peak equity
        // last read for this long. Before, any age was taken (a day's would judge with yesterday's kill switch).
        if (options.StateMaxAgeSeconds < options.StateRefreshSeconds || options.StateMaxAgeSeconds > 3600)
        {
            failures.Add("Risk:StateMaxAgeSeconds must be from Risk:StateRefreshSeconds to 3600.");
        }

        if (options.TransferCheckSeconds is < 1 or > 30)
        {
            failures.Add("Risk:TransferCheckSeconds must be from 1 to 30: a loss-limit latch waits that long for the venue's transfers to be booked.");
        }

        // The monitor is what latches the kill switch on a daily-loss or drawdown breach while no order is checked, and
        // what sends the margin alerts: an hour between two looks (3600 was accepted) is an hour of losses unwatched.
        if (options.MarginMonitor.IntervalSeconds is < 1 or > MaxMonitorIntervalSeconds)
        {
            failures.Add($"Risk:MarginMonitor:IntervalSeconds must be from 1 to {MaxMonitorIntervalSeconds}: the margin monitor latches the kill switch on a daily-loss or drawdown breach while no orders are checked.");
        }

        // Checked only when set (unset, resets are refused at call time). The message never echoes the key.
        if (options.KillSwitch.OperatorKey is { } operatorKey && OperatorKeyGuard.Problem(operatorKey) is { } problem)
        {
            failures.Add($"Risk:KillSwitch:OperatorKey {problem}: it is the secret that lets an operator reset the kill switch.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    // Domain names the limit by its property; configuration calls the notional limit MaxPositionNotional.
    private static string ConfigKey(string field) => field == "MaxNotional" ? "MaxPositionNotional" : field;
}
