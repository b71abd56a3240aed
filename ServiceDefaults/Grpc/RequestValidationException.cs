namespace TradeEngine.ServiceDefaults.Grpc;

/// <summary>
/// A request that breaks a rule of the contract. The gRPC interceptor turns it into INVALID_ARGUMENT with a
/// <c>google.rpc.BadRequest</c> naming every offending field. Never carries secrets: only field names and rules.
/// </summary>
public sealed class RequestValidationException : Exception
{
    public RequestValidationException(string field, string description)
        : this([new FieldViolation(field, description)])
    {
    }

    public RequestValidationException(IReadOnlyList<FieldViolation> violations)
        : base(BuildMessage(violations))
    {
        Violations = violations;
    }

    public RequestValidationException()
        : this("request", "is invalid")
    {
    }

    public RequestValidationException(string message, Exception innerException)
        : base(message, innerException)
    {
        Violations = [new FieldViolation("request", message)];
    }

    public RequestValidationException(string message)
        : this("request", message)
    {
    }

    public IReadOnlyList<FieldViolation> Violations { get; }

    private static string BuildMessage(IReadOnlyList<FieldViolation> violations) =>
        string.Join("; ", violations.Select(v => $"{v.Field}: {v.Description}"));
}

public readonly record struct FieldViolation(string Field, string Description);
