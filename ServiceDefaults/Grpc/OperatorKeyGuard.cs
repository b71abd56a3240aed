using System.Security.Cryptography;
using System.Text;
using Grpc.Core;
using Microsoft.Extensions.Logging;

namespace TradeEngine.ServiceDefaults.Grpc;

/// <summary>
/// Who may reset the kill switch: a caller presenting the operator key in the <see cref="HeaderName"/> request metadata.
/// Shared by Risk (ResetKillSwitch) and the Ledger (SetKillSwitch with active=false), so that the Ledger, the system of
/// record, is no backdoor around Risk's check: both give the same answers to the same mistakes. Metadata, not a field of
/// the request: messages are logged and traced, headers are not. Fails closed: with no key configured no reset is
/// accepted. Only the key's SHA-256 is kept, and the presented key is compared by its SHA-256 in constant time, so neither
/// the time taken nor a message nor a log line tells anything about the key.
/// </summary>
public sealed partial class OperatorKeyGuard
{
    /// <summary>The request metadata that carries the key (gRPC metadata names are lower case).</summary>
    public const string HeaderName = "x-operator-key";

    /// <summary>The shortest operator key accepted at start-up.</summary>
    public const int MinLength = 16;

    private readonly byte[]? _keyHash;
    private readonly string _setting;
    private readonly string _service;
    private readonly ILogger _logger;

    /// <param name="key">The configured key, already checked by <see cref="Problem"/> at start-up; null is "not configured".</param>
    /// <param name="setting">The configuration key that holds it (named in the FAILED_PRECONDITION answer, never its value).</param>
    /// <param name="service">The service that refuses, as an operator names it ("Risk", "Ledger").</param>
    /// <param name="logger">Where a wrong key is reported (operator and peer, never a key).</param>
    public OperatorKeyGuard(string? key, string setting, string service, ILogger logger)
    {
        ArgumentException.ThrowIfNullOrEmpty(setting);
        ArgumentException.ThrowIfNullOrEmpty(service);
        ArgumentNullException.ThrowIfNull(logger);
        _keyHash = key is null ? null : Hash(key);
        _setting = setting;
        _service = service;
        _logger = logger;
    }

    /// <summary>
    /// Returns the presented key (to pass on to a service that checks it again) if the call carries the configured one;
    /// throws otherwise: FAILED_PRECONDITION when none is configured, UNAUTHENTICATED when the header is missing or empty,
    /// PERMISSION_DENIED (logged with the operator and the peer) when it does not match. Called before anything is written.
    /// </summary>
    public string Demand(ServerCallContext context, string @operator)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (_keyHash is null)
        {
            throw new RpcException(new Status(StatusCode.FailedPrecondition,
                $"Resetting the kill switch is disabled until {_setting} is configured on the {_service} service."));
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
            // Names the service that refused: an operator whose key Risk took but the Ledger did not learns which one
            // holds another key.
            throw new RpcException(new Status(StatusCode.PermissionDenied,
                $"the operator key ({HeaderName}) is not the one configured on the {_service} service: the kill switch was not reset"));
        }

        return presented;
    }

    /// <summary>
    /// What is wrong with a configured operator key, or null: checked at start-up by each service that has one. Short or
    /// blank keys are guessable; a key that is not printable ASCII could never arrive in gRPC metadata, so no reset would
    /// ever be accepted. The answer never contains the key.
    /// </summary>
    public static string? Problem(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (string.IsNullOrWhiteSpace(key) || key.Length < MinLength)
        {
            return $"must be at least {MinLength} characters and not blank";
        }

        return key.All(c => c is >= '!' and <= '~')
            ? null
            : "must be printable ASCII without spaces (it is sent as gRPC metadata)";
    }

    private static byte[] Hash(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));

    [LoggerMessage(Level = LogLevel.Warning, Message = "Kill switch reset refused: wrong operator key from operator {Operator} at {Peer}")]
    private static partial void LogRefused(ILogger logger, string @operator, string peer);
}
