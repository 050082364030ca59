namespace Messenger.Grains;

/// <summary>
/// Stable, machine-readable error codes. The wire carries them in snake_case
/// (see <see cref="ErrorCodes.ToWire"/>); clients branch on them, so never rename one.
/// </summary>
public enum ErrorCode
{
    /// <summary>The request is well-formed JSON but a field is missing or invalid.</summary>
    InvalidRequest = 1,
    /// <summary>The body or frame is not valid JSON.</summary>
    MalformedJson,
    /// <summary>The frame's <c>type</c> is not one the server knows.</summary>
    UnknownFrameType,
    /// <summary>The frame or body exceeds the documented size limit.</summary>
    TooLarge,
    /// <summary>No valid token was presented.</summary>
    Unauthorized,
    /// <summary>The token was valid once but has expired.</summary>
    TokenExpired,
    /// <summary>Username or password is wrong.</summary>
    InvalidCredentials,
    /// <summary>The username is already registered.</summary>
    UsernameTaken,
    /// <summary>The user does not exist.</summary>
    UserNotFound,
    /// <summary>The conversation does not exist or the caller is not a member of it.</summary>
    NotMember,
    /// <summary>A page size or cursor is outside its documented range.</summary>
    OutOfRange,
    /// <summary>The caller sends faster than the documented rate.</summary>
    RateLimited,
    /// <summary>The connection could not keep up with its outbound traffic and was closed.</summary>
    SlowConsumer,
    /// <summary>Something failed on the server; the request may be retried.</summary>
    Internal,
    /// <summary>No such endpoint or resource.</summary>
    NotFound,
    /// <summary>The user asked about someone they share no conversation with.</summary>
    NotContact,
    /// <summary>A part of the service (a silo, the database) cannot be reached right now; the request may be retried.</summary>
    Unavailable,
    /// <summary>The gateway is shutting down and closed the connection; reconnect at once, to another gateway if possible.</summary>
    ServerShutdown,
    /// <summary>A newer long-poll of the same device replaced this one.</summary>
    PollReplaced,
    /// <summary>The token's device was logged out, or its account deleted: the token no longer works.</summary>
    LoggedOut,
    /// <summary>The user has no logged-in device with that id.</summary>
    DeviceNotFound,
    /// <summary>The other member of a direct conversation deleted their account; it takes no more messages.</summary>
    UserDeleted,
    /// <summary>The password given to confirm an action (deleting the account) is not the account's.</summary>
    WrongPassword,
    /// <summary>Changing a group's members, admins or title needs the admin or owner role.</summary>
    NotAdmin,
    /// <summary>Granting or taking the owner role, or removing or demoting an owner, needs the owner role.</summary>
    NotOwner,
    /// <summary>A user to add is a member of the group already.</summary>
    AlreadyMember,
    /// <summary>The user to remove or whose role to change is not a member of the group.</summary>
    MemberNotFound,
    /// <summary>The change would leave a group that has members without an owner.</summary>
    LastOwner,
    /// <summary>The change would take the group past its member limit.</summary>
    GroupFull,
    /// <summary>The operation is for groups and the conversation is a direct one.</summary>
    NotGroup,
    /// <summary>A push subscription is malformed: a bad endpoint or keys, an unknown webhook target, too large.</summary>
    InvalidSubscription,
    /// <summary>The device has no push subscription.</summary>
    SubscriptionNotFound,
}

/// <summary>Conversions of <see cref="ErrorCode"/> to its wire form.</summary>
public static class ErrorCodes
{
    /// <summary>The snake_case name used on the wire.</summary>
    public static string ToWire(this ErrorCode code) => code switch
    {
        ErrorCode.InvalidRequest => "invalid_request",
        ErrorCode.MalformedJson => "malformed_json",
        ErrorCode.UnknownFrameType => "unknown_frame_type",
        ErrorCode.TooLarge => "too_large",
        ErrorCode.Unauthorized => "unauthorized",
        ErrorCode.TokenExpired => "token_expired",
        ErrorCode.InvalidCredentials => "invalid_credentials",
        ErrorCode.UsernameTaken => "username_taken",
        ErrorCode.UserNotFound => "user_not_found",
        ErrorCode.NotMember => "not_member",
        ErrorCode.OutOfRange => "out_of_range",
        ErrorCode.RateLimited => "rate_limited",
        ErrorCode.SlowConsumer => "slow_consumer",
        ErrorCode.NotFound => "not_found",
        ErrorCode.NotContact => "not_contact",
        ErrorCode.Unavailable => "unavailable",
        ErrorCode.ServerShutdown => "server_shutdown",
        ErrorCode.PollReplaced => "poll_replaced",
        ErrorCode.LoggedOut => "logged_out",
        ErrorCode.DeviceNotFound => "device_not_found",
        ErrorCode.UserDeleted => "user_deleted",
        ErrorCode.WrongPassword => "wrong_password",
        ErrorCode.NotAdmin => "not_admin",
        ErrorCode.NotOwner => "not_owner",
        ErrorCode.AlreadyMember => "already_member",
        ErrorCode.MemberNotFound => "member_not_found",
        ErrorCode.LastOwner => "last_owner",
        ErrorCode.GroupFull => "group_full",
        ErrorCode.NotGroup => "not_group",
        ErrorCode.InvalidSubscription => "invalid_subscription",
        ErrorCode.SubscriptionNotFound => "subscription_not_found",
        _ => "internal_error",
    };
}

/// <summary>
/// The one exception type grains throw for a rule the caller broke. It crosses the silo
/// boundary intact, so the Gateway maps <see cref="Code"/> to an error frame or ProblemDetails.
/// </summary>
[GenerateSerializer]
public sealed class MessengerException : Exception
{
    /// <summary>
    /// Why a token with a good signature is refused: its device was logged out or its account deleted
    /// (<see cref="ErrorCode.LoggedOut"/>), or its account was never known here (<see cref="ErrorCode.Unauthorized"/>).
    /// One wording for every place that refuses one (REST, handshake, poll, the user's grain).
    /// </summary>
    public static MessengerException TokenRefused(ErrorCode refusal) => refusal == ErrorCode.LoggedOut
        ? new(ErrorCode.LoggedOut, "this device was logged out (or its account deleted); log in again.")
        : new(ErrorCode.Unauthorized, "the token's account does not exist.");

    /// <summary>Creates the exception.</summary>
    public MessengerException(ErrorCode code, string message) : base(message)
    {
        Code = code;
        Detail = message;
    }

    /// <summary>Creates the exception for a refusal that ends by itself, e.g. a rate limit's.</summary>
    public MessengerException(ErrorCode code, string message, TimeSpan retryAfter) : this(code, message)
    {
        RetryAfter = retryAfter;
    }

    /// <summary>The stable error code.</summary>
    [Id(0)]
    public ErrorCode Code { get; }

    /// <summary>A human-readable explanation, safe to show to the caller.</summary>
    [Id(1)]
    public string Detail { get; }

    /// <summary>How long until the same request may succeed, when that is known; REST sends it as <c>Retry-After</c>.</summary>
    [Id(2)]
    public TimeSpan? RetryAfter { get; }
}
