using Messenger.Grains.Storage;
using Orleans.Concurrency;

namespace Messenger.Grains;

/// <summary>Registers and finds accounts; the store's unique username makes concurrent registrations safe.</summary>
[StatelessWorker]
public sealed class AccountDirectoryGrain(IAccountStore store) : Grain, IAccountDirectoryGrain
{
    /// <summary>The form a username is stored and looked up in (trimmed, lower case), its shape unchecked.</summary>
    public static string CanonicalUsername(string username) => username.Trim().ToLowerInvariant();

    /// <summary>Normalises a username (lower case) and checks its shape.</summary>
    public static string NormalizeUsername(string username)
    {
        var normalized = CanonicalUsername(username);
        if (normalized.Length is < 3 or > 32)
        {
            throw new MessengerException(ErrorCode.InvalidRequest, "username must be 3 to 32 characters.");
        }
        foreach (var c in normalized)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('_' or '.' or '-'))
            {
                throw new MessengerException(ErrorCode.InvalidRequest, "username may contain only letters, digits, '_', '.' and '-'.");
            }
        }
        return normalized;
    }

    public async Task<UserProfile> RegisterAsync(string username, string passwordHash)
    {
        // At the precision the store keeps, so this profile equals every later read of it.
        var createdAt = DateTimeOffset.FromUnixTimeMilliseconds(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        var profile = new UserProfile(UserIds.New(), NormalizeUsername(username), createdAt);
        if (!await store.CreateAccountAsync(new AccountCredentials(profile, passwordHash)))
        {
            throw new MessengerException(ErrorCode.UsernameTaken, $"username '{profile.Username}' is already taken.");
        }
        return profile;
    }

    public Task<AccountCredentials?> FindAsync(string username) =>
        store.FindAccountByUsernameAsync(username.Trim().ToLowerInvariant());
}
