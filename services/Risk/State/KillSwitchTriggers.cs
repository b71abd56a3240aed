using TradeEngine.Risk.V1;

namespace TradeEngine.Risk.State;

/// <summary>The Ledger stores the trigger as text; the risk contract has an enum. One mapping, both ways.</summary>
public static class KillSwitchTriggers
{
    public const string DailyLoss = "daily_loss";
    public const string Drawdown = "drawdown";
    public const string LiquidateAll = "liquidate_all";
    public const string Operator = "operator";
    public const string EmergencyCloseAll = "emergency_close_all";

    public static string ToText(KillSwitchTrigger trigger) => trigger switch
    {
        KillSwitchTrigger.DailyLoss => DailyLoss,
        KillSwitchTrigger.Drawdown => Drawdown,
        KillSwitchTrigger.LiquidateAll => LiquidateAll,
        KillSwitchTrigger.Operator => Operator,
        KillSwitchTrigger.EmergencyCloseAll => EmergencyCloseAll,
        _ => throw new ArgumentOutOfRangeException(nameof(trigger), trigger, "not a kill switch trigger"),
    };

    public static KillSwitchTrigger FromText(string? text) => text switch
    {
        DailyLoss => KillSwitchTrigger.DailyLoss,
        Drawdown => KillSwitchTrigger.Drawdown,
        LiquidateAll => KillSwitchTrigger.LiquidateAll,
        Operator => KillSwitchTrigger.Operator,
        EmergencyCloseAll => KillSwitchTrigger.EmergencyCloseAll,
        _ => KillSwitchTrigger.Unspecified,
    };
}
