using System.Security.Cryptography;
using System.Text;
using Grpc.Core;
using Microsoft.Extensions.Options;
using TradeEngine.Risk.Options;

namespace TradeEngine.Risk.KillSwitch;

/// <summary>
/// Who may reset the kill switch: a caller presenting <c>Risk:KillSwitch:OperatorKey</c> in the <see cref="HeaderName"/>
/// request metadata. Metadata, not a field of the request: messages are logged and traced, headers are not. Fails closed:
/// with no key configured no reset is accepted. Only the key's SHA-256 is kept, and the presented key is compared by its
/// SHA-256 in constant time, so neither the time taken nor a message nor a log line tells anything about the key.
/// </summary>
public sealed partial class OperatorKeyCheck
{
    public const string HeaderName = "x-operator-key";

    private readonly byte[]? _keyHash;
    private readonly ILogger<OperatorKeyCheck> _logger;

    public OperatorKeyCheck(IOptions<RiskOptions> options, ILogger<OperatorKeyCheck> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        // Start-up validation refused a configured key that is blank or short; null is "not configured".
        _keyHash = options.Value.KillSwitch.OperatorKey is { } key ? Hash(key) : null;
        _logger = logger;
    }

    /// <summary>
    /// Throws unless the call carries the configured key: FAILED_PRECONDITION when none is configured, UNAUTHENTICATED when
    /// the header is missing or empty, PERMISSION_DENIED (logged with the operator and the peer) when it does not match.
    /// Called before anything is written.
    /// </summary>
    public void Demand(ServerCallContext context, string @operator)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (_keyHash is null)
        {
            throw new RpcException(new Status(StatusCode.FailedPrecondition,
                "Resetting the kill switch is disabled until Risk:KillSwitch:OperatorKey is configured on the Risk service."));
        }

        var presented = context.RequestHeaders.GetValue(HeaderName);
        if (string.IsNullOrEmpty(presented))
        {
            throw new RpcException(new Status(StatusCode.Unauthenticated,
                $"an operator key ({HeaderName}) is required to reset the kill switch"));
        }

        if (!CryptographicOperations.FixedTimeEquals(Hash(presented), _keyHash))
        {
            LogRefused(_logger, @operator, context.Peer);
            throw new RpcException(new Status(StatusCode.PermissionDenied,
                $"the operator key ({HeaderName}) is not the one configured: the kill switch was not reset"));
        }
    }

    private static byte[] Hash(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));

    [LoggerMessage(Level = LogLevel.Warning, Message = "Kill switch reset refused: wrong operator key from operator {Operator} at {Peer}")]
    private static partial void LogRefused(ILogger logger, string @operator, string peer);
}
