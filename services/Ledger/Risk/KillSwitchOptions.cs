namespace TradeEngine.Ledger.Risk;

/// <summary>Configuration section <c>Ledger:KillSwitch</c>.</summary>
public sealed class KillSwitchOptions
{
    public const string Section = "Ledger:KillSwitch";

    /// <summary>The full name of <see cref="OperatorKey"/>'s setting, as refusals and start-up errors name it.</summary>
    public const string OperatorKeySetting = Section + ":OperatorKey";

    /// <summary>
    /// The secret a SetKillSwitch that turns the switch off must carry in the <c>x-operator-key</c> request metadata. The
    /// Ledger holds the switch's state, so without it anyone who can reach the Ledger could clear the switch and bypass
    /// Risk's own check (Risk forwards the key its operator presented: configure the same key on both). Null: every reset
    /// is refused (FAILED_PRECONDITION) until one is configured; latching the switch needs no key. Never logged.
    /// </summary>
    public string? OperatorKey { get; set; }
}
