using Messenger.Gateway.Auth;
using Messenger.Gateway.Protocol;
using Messenger.Grains;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace Messenger.Gateway.Endpoints;

/// <summary>Registration, login (one token per device), and user lookup.</summary>
public static class AccountEndpoints
{
    public static RouteGroupBuilder MapAccountEndpoints(this RouteGroupBuilder v1)
    {
        var accounts = v1.MapGroup("").WithTags("Accounts");
        accounts.MapPost("/accounts", RegisterAsync).AllowAnonymous().WithName("Register")
            .WithSummary("Registers an account").ProducesProblem(StatusCodes.Status409Conflict)
            .RequireRateLimiting(CredentialLimits.AddressPolicy).ProducesProblem(StatusCodes.Status429TooManyRequests);
        accounts.MapPost("/sessions", LoginAsync).AllowAnonymous().WithName("Login")
            .WithSummary("Logs in one device and returns its token")
            .RequireRateLimiting(CredentialLimits.AddressPolicy).ProducesProblem(StatusCodes.Status429TooManyRequests);
        var users = v1.MapGroup("").WithTags("Users");
        users.MapGet("/me", GetMeAsync).WithName("GetMe").WithSummary("The caller's account");
        users.MapGet("/users/by-username/{username}", FindByUsernameAsync).WithName("FindUserByUsername")
            .WithSummary("Finds a user by username").ProducesProblem(StatusCodes.Status404NotFound);
        users.MapGet("/users/{userId}", GetUserAsync).WithName("GetUser")
            .WithSummary("A user by id").ProducesProblem(StatusCodes.Status404NotFound);
        return v1;
    }

    // Both check the request's shape first, then charge the username's attempts, then hash: a malformed request
    // costs no attempt and no hash, and a refused one changes nothing.

    private static async Task<Created<WireUser>> RegisterAsync(RegisterRequest request, GrainReferences grains, IOptions<AuthOptions> auth,
        UsernameAttempts attempts, PasswordHashing passwords, HttpContext http)
    {
        var username = AccountDirectoryGrain.NormalizeUsername(Required(request.Username, "username"));
        var password = CheckPassword(request.Password, auth.Value);
        var profile = await grains.Accounts.RegisterAsync(username, await passwords.HashAsync(password, () => attempts.Charge(username), http.RequestAborted));
        return TypedResults.Created($"/v1/users/{profile.UserId}", profile.ToWire());
    }

    private static async Task<Ok<WireSession>> LoginAsync(LoginRequest request, GrainReferences grains, TokenService tokens,
        UsernameAttempts attempts, PasswordHashing passwords, HttpContext http)
    {
        var username = Required(request.Username, "username");
        var password = Required(request.Password, "password");
        var deviceId = request.DeviceId ?? Guid.NewGuid().ToString("N");
        if (deviceId.Length is < 1 or > 64) throw new MessengerException(ErrorCode.InvalidRequest, "deviceId must be 1 to 64 characters.");
        if (request.DeviceName is { Length: < 1 or > MaxDeviceNameLength })
        {
            throw new MessengerException(ErrorCode.InvalidRequest, $"deviceName must be 1 to {MaxDeviceNameLength} characters.");
        }
        var account = await VerifyAsync(grains, attempts, passwords, username, password, http.RequestAborted) ?? throw InvalidCredentials();
        long generation;
        try
        {
            generation = await grains.User(account.Profile.UserId).LogInDeviceAsync(deviceId, request.DeviceName);
        }
        catch (MessengerException ex) when (ex.Code == ErrorCode.UserNotFound)
        {
            throw InvalidCredentials(); // deleted between the password check and now
        }
        var (token, expiresAt) = tokens.Issue(account.Profile.UserId, account.Profile.Username, deviceId, generation);
        return TypedResults.Ok(new WireSession(token, account.Profile.UserId, account.Profile.Username, deviceId, expiresAt));
    }

    /// <summary>Longest <c>deviceName</c> at login.</summary>
    public const int MaxDeviceNameLength = 64;

    /// <summary>
    /// The account when <paramref name="password"/> is its password, else null: the (bounded) hash check,
    /// against a real hash even for an unknown user, with an attempt charged to the username once its turn
    /// has come (a request refused for want of a turn spends no attempt).
    /// </summary>
    internal static async Task<AccountCredentials?> VerifyAsync(GrainReferences grains, UsernameAttempts attempts, PasswordHashing passwords,
        string username, string password, CancellationToken cancellationToken)
    {
        var account = await grains.Accounts.FindAsync(username);
        return await passwords.VerifyAsync(account?.PasswordHash, password, () => attempts.Charge(username), cancellationToken) ? account : null;
    }

    private static MessengerException InvalidCredentials() => new(ErrorCode.InvalidCredentials, "username or password is wrong.");

    private static async Task<Ok<WireUser>> GetMeAsync(HttpContext http, GrainReferences grains) =>
        TypedResults.Ok((await grains.User(http.User.UserId()).GetProfileAsync()).ToWire());

    private static async Task<Ok<WireUser>> FindByUsernameAsync(string username, GrainReferences grains)
    {
        var account = await grains.Accounts.FindAsync(username)
            ?? throw new MessengerException(ErrorCode.UserNotFound, $"user '{username}' does not exist.");
        return TypedResults.Ok(account.Profile.ToWire());
    }

    private static async Task<Ok<WireUser>> GetUserAsync(string userId, GrainReferences grains)
    {
        if (!UserIds.IsValid(userId)) throw new MessengerException(ErrorCode.UserNotFound, $"user '{userId}' does not exist.");
        return TypedResults.Ok((await grains.User(userId).GetProfileAsync()).ToWire());
    }

    private static string CheckPassword(string? password, AuthOptions auth)
    {
        password = Required(password, "password");
        if (password.Length < auth.MinPasswordLength || password.Length > auth.MaxPasswordLength)
        {
            throw new MessengerException(ErrorCode.InvalidRequest, $"password must be {auth.MinPasswordLength} to {auth.MaxPasswordLength} characters.");
        }
        return password;
    }

    internal static string Required(string? value, string name) =>
        string.IsNullOrEmpty(value) ? throw new MessengerException(ErrorCode.InvalidRequest, $"'{name}' is required.") : value;
}
