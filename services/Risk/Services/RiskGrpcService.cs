using Grpc.Core;
using TradeEngine.Domain.Margin;
using TradeEngine.Domain.Risk;
using TradeEngine.Risk.Checks;
using TradeEngine.Risk.Instruments;
using TradeEngine.Risk.KillSwitch;
using TradeEngine.Risk.Mapping;
using TradeEngine.Risk.State;
using TradeEngine.Risk.V1;
using TradeEngine.ServiceDefaults.Grpc;

namespace TradeEngine.Risk.Services;

/// <summary>
/// The risk v1 contract: map proto to Domain, call Domain, map back. A denial is a value in the response; bad input
/// is INVALID_ARGUMENT naming the field; Ledger state that cannot be read is UNAVAILABLE (fail closed).
/// Filters and brackets are the venue's (<see cref="RiskInstruments"/>, cached). ValidateLeverage, GetLimits,
/// GetLiquidationPrice and GetMarginHealth read no Ledger state. ResetKillSwitch needs the operator key in the
/// <c>x-operator-key</c> metadata (<see cref="OperatorKeyCheck"/>).
/// </summary>
public sealed class RiskGrpcService(
    PreTradeEvaluator evaluator, PositionPreviewer previewer, KillSwitchService killSwitch, OperatorKeyCheck operatorKey, RiskInstruments instruments)
    : RiskService.RiskServiceBase
{
    public override async Task<CheckPreTradeResponse> CheckPreTrade(CheckPreTradeRequest request, ServerCallContext context)
    {
        // Both parts' form before the venue is read for either (the order's instrument, the positions' brackets).
        var form = PreTradeEvaluator.Form(request.Order, "order");
        RiskWire.CheckAccountForm(request.Account, "account");
        var order = await PreTradeEvaluator.ResolveAsync(form, "order", instruments, context.CancellationToken).ConfigureAwait(false);
        var account = await instruments.AccountAsync(request.Account, "account", context.CancellationToken).ConfigureAwait(false);
        var outcome = await evaluator.EvaluateAsync(order, account, context.CancellationToken).ConfigureAwait(false);
        var figures = outcome.Decision.Figures;
        var response = new CheckPreTradeResponse
        {
            Allowed = outcome.Allowed,
            NotionalAfter = Wire.Format(figures.NotionalAfter),
            RequiredMargin = Wire.Format(figures.RequiredMargin),
            DailyLoss = Wire.Format(figures.DailyLoss),
            Drawdown = Wire.Format(figures.Drawdown),
        };
        PreTradeEvaluator.AddReasons(outcome, response.Reasons);
        return response;
    }

    public override Task<PreviewPositionResponse> PreviewPosition(PreviewPositionRequest request, ServerCallContext context) =>
        previewer.PreviewAsync(request, context.CancellationToken);

    public override async Task<GetLiquidationPriceResponse> GetLiquidationPrice(GetLiquidationPriceRequest request, ServerCallContext context)
    {
        var method = Wire.Enum(request.Method, "method");
        var side = RiskWire.Side(request.Side, "side");
        var entry = RiskWire.Amount(Wire.Positive(request.EntryPrice, "entry_price"), "entry_price");
        var leverage = RiskWire.Leverage(request.Leverage, "leverage");
        if (method == LiquidationMethod.Simple)
        {
            var mmr = Wire.OptionalDecimal(request.MaintenanceMarginRate, "maintenance_margin_rate") ?? LiquidationPrice.DefaultMaintenanceMarginRate;
            if (mmr is < 0m or >= 1m)
            {
                throw new RequestValidationException("maintenance_margin_rate", "must be from 0 to less than 1");
            }

            // The plan's estimate is a formula of entry, leverage and rate; it is rounded to the symbol's tick where that
            // is finer than the plan's 0.01 (LiquidationPrice.Simple), so the symbol is looked up (the catalog Risk reads
            // as it starts and keeps): an unknown one is INVALID_ARGUMENT. Before, the symbol was checked for its form
            // only, and a DOGEUSDT estimate came rounded to the cent.
            var tick = (await instruments.GetAsync(request.Symbol, "symbol", context.CancellationToken).ConfigureAwait(false)).Filters.TickSize;
            decimal price;
            try
            {
                price = LiquidationPrice.Simple(entry, leverage.Value, side, tick, mmr);
            }
            catch (Domain.DomainException ex) when (ex.Field == "entry")
            {
                throw new RequestValidationException("entry_price", ex.Rule);
            }

            return new GetLiquidationPriceResponse { LiquidationPrice = Wire.Format(price), MaintenanceMarginRate = Wire.Format(mmr) };
        }

        var marginType = RiskWire.MarginType(request.MarginType, "margin_type");
        var isolated = marginType == Domain.MarginType.Isolated;
        var quantity = Wire.Positive(request.Quantity, "quantity");
        RiskWire.CheckNotional(quantity, entry, "quantity", "entry_price");
        var walletBalance = RiskWire.Amount(Wire.Decimal(request.WalletBalance, "wallet_balance"), "wallet_balance");
        var otherMaintenance = isolated ? 0m : RiskWire.Amount(Wire.OptionalDecimal(request.OtherMaintenanceMargin, "other_maintenance_margin") ?? 0m, "other_maintenance_margin");
        if (otherMaintenance < 0m)
        {
            throw new RequestValidationException("other_maintenance_margin", "must not be negative");
        }

        var otherUnrealized = isolated ? 0m : RiskWire.Amount(Wire.OptionalDecimal(request.OtherUnrealizedPnl, "other_unrealized_pnl") ?? 0m, "other_unrealized_pnl");

        // Brackets come from the venue only once the request itself is known to be well formed.
        var brackets = (await instruments.GetAsync(request.Symbol, "symbol", context.CancellationToken).ConfigureAwait(false)).Brackets;
        var result = LiquidationPrice.Exchange(new LiquidationInput
        {
            MarginType = marginType,
            Side = side,
            Quantity = quantity,
            EntryPrice = entry,
            WalletBalance = walletBalance,
            OtherMaintenanceMargin = otherMaintenance,
            OtherUnrealizedPnl = otherUnrealized,
            Brackets = brackets,
        });
        if (result.Outcome == LiquidationOutcome.Immediate)
        {
            throw new RpcException(new Status(StatusCode.FailedPrecondition, "wallet_balance: the margin is already below maintenance at any price"));
        }

        return new GetLiquidationPriceResponse
        {
            // A long whose margin covers a fall to zero has no liquidation price: empty, as Binance shows "--".
            LiquidationPrice = result.HasPrice ? Wire.Format(Math.Round(result.Price, 8, MidpointRounding.ToEven)) : string.Empty,
            Bracket = result.Bracket,
            MaintenanceMarginRate = Wire.Format(result.MaintMarginRatio),
            MaintenanceAmount = Wire.Format(result.Cum),
        };
    }

    public override async Task<GetMarginHealthResponse> GetMarginHealth(GetMarginHealthRequest request, ServerCallContext context)
    {
        RiskWire.CheckAccountForm(request.Account, "account");
        var account = await instruments.AccountAsync(request.Account, "account", context.CancellationToken).ConfigureAwait(false);
        var buffer = evaluator.Limits.LiquidationBuffer;
        var health = RiskWire.Health(account.WalletBalance, account.UnrealizedPnl, account.MaintenanceMargin, buffer, "account");
        var exchangeRatio = MarginMath.ExchangeMarginRatio(account.MaintenanceMargin, account.WalletBalance + account.UnrealizedPnl);
        return new GetMarginHealthResponse
        {
            Action = RiskWire.Action(health.Action),
            MarginRatio = Wire.Format(health.Ratio),
            ExchangeMarginRatio = Wire.Format(exchangeRatio),
            Buffer = Wire.Format(buffer),
            Reason = health.Action switch
            {
                MarginAction.LiquidateAll => "Margin ratio at or below 1: flatten everything",
                MarginAction.Reduce => "Margin ratio below 1 + buffer: open nothing new and halve the largest position",
                _ => health.Ratio is null ? "No positions" : "Margin ratio above 1 + buffer",
            },
        };
    }

    public override async Task<ValidateLeverageResponse> ValidateLeverage(ValidateLeverageRequest request, ServerCallContext context)
    {
        // The request is checked before anything is read from the venue: bad input is INVALID_ARGUMENT whatever the venue does.
        var leverage = RiskWire.Leverage(request.Leverage, "leverage");
        var notional = Wire.OptionalDecimal(request.Notional, "notional") is { } n0 ? RiskWire.Amount(n0, "notional") : (decimal?)null;
        if (notional < 0m)
        {
            throw new RequestValidationException("notional", "must not be negative");
        }

        var instrument = await instruments.GetAsync(request.Symbol, "symbol", context.CancellationToken).ConfigureAwait(false);

        var bracketMax = instrument.MaxLeverage;
        if (notional is { } n)
        {
            if (instrument.Brackets.IndexOf(n) < 0)
            {
                throw new RequestValidationException("notional", "is above the symbol's last leverage bracket");
            }

            bracketMax = instrument.Brackets.MaxLeverageFor(n);
        }

        var limit = evaluator.Limits.MaxLeverage;
        var max = Math.Min(limit, bracketMax);
        var valid = leverage.Value <= max;
        return new ValidateLeverageResponse
        {
            Valid = valid,
            MaxLeverage = max,
            Reason = valid ? string.Empty
                : leverage.Value > limit ? $"Leverage {leverage.Value} is above the risk limit {limit}"
                : $"Leverage {leverage.Value} is above the bracket maximum {bracketMax} for this notional",
        };
    }

    public override Task<GetLimitsResponse> GetLimits(GetLimitsRequest request, ServerCallContext context)
    {
        var limits = evaluator.Limits;
        return Task.FromResult(new GetLimitsResponse
        {
            MaxPositionNotional = Wire.Format(limits.MaxNotional),
            DailyLossLimit = Wire.Format(limits.DailyLossLimit),
            MaxDrawdown = Wire.Format(limits.MaxDrawdown),
            MaxLeverage = limits.MaxLeverage,
            LiquidationBuffer = Wire.Format(limits.LiquidationBuffer),
            MinNotional = Wire.Format(limits.MinNotional),
            HardMaxPositionNotional = Wire.Format(RiskLimits.HardMaxNotional),
            HardDailyLossLimit = Wire.Format(RiskLimits.HardDailyLossLimit),
            HardMaxDrawdown = Wire.Format(RiskLimits.HardMaxDrawdown),
        });
    }

    public override async Task<KillSwitchStatus> GetKillSwitch(GetKillSwitchRequest request, ServerCallContext context) =>
        ToStatus(await killSwitch.GetAsync(context.CancellationToken).ConfigureAwait(false));

    public override async Task<KillSwitchStatus> TriggerKillSwitch(TriggerKillSwitchRequest request, ServerCallContext context)
    {
        // As the Ledger reads keys (it stores this one, prefixed): refused here, not by the Ledger after the fact.
        var key = Wire.Key(request.IdempotencyKey, "idempotency_key", 128);
        var trigger = Wire.Enum(request.Trigger, "trigger");
        var reason = Wire.Required(request.Reason, "reason", 1024);
        var actor = Wire.Required(request.Actor, "actor", 128);
        var view = await killSwitch.TriggerAsync(
            "trigger:" + key, KillSwitchTriggers.ToText(trigger), reason, actor, null, null, context.CancellationToken).ConfigureAwait(false);
        return ToStatus(view);
    }

    public override async Task<KillSwitchStatus> ResetKillSwitch(ResetKillSwitchRequest request, ServerCallContext context)
    {
        var violations = new List<FieldViolation>();
        if (Wire.KeyProblem(request.IdempotencyKey, 128) is { } keyProblem)
        {
            violations.Add(new FieldViolation("idempotency_key", keyProblem));
        }

        Check(request.Operator, "operator", 128, violations);
        Check(request.Reason, "reason", 1024, violations);
        if (violations.Count > 0)
        {
            throw new RequestValidationException(violations);
        }

        // After the request's own form (a malformed request is INVALID_ARGUMENT whoever sends it; the answer says nothing
        // about the key), before anything is written: a refused reset leaves the switch on and the Ledger untouched.
        // The key presented goes on to the Ledger, which checks it against its own (one key, both services): a Ledger
        // configured with another refuses (PERMISSION_DENIED, passed through) and the switch stays on.
        var presentedKey = operatorKey.Demand(context, request.Operator);
        var view = await killSwitch.ResetAsync("reset:" + request.IdempotencyKey, request.Operator, request.Reason, presentedKey, context.CancellationToken)
            .ConfigureAwait(false);
        return ToStatus(view);
    }

    private static void Check(string value, string field, int maxLength, List<FieldViolation> violations)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            violations.Add(new FieldViolation(field, "is required"));
        }
        else if (value.Length > maxLength)
        {
            violations.Add(new FieldViolation(field, $"must be at most {maxLength} characters"));
        }
        else if (value.Any(char.IsControl))
        {
            violations.Add(new FieldViolation(field, "must not contain control characters"));
        }
    }

    private static KillSwitchStatus ToStatus(KillSwitchView view) => new()
    {
        Active = view.Active,
        Trigger = KillSwitchTriggers.FromText(view.Trigger),
        Reason = view.Reason,
        Actor = view.Actor,
        ChangedAt = view.ChangedAt is { } at ? Wire.Timestamp(at) : null,
    };
}
