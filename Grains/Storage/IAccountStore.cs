namespace Messenger.Grains.Storage;

/// <summary>
/// Accounts: user id, unique username and password hash. Every write is durable when its task completes.
/// </summary>
public interface IAccountStore
{
    /// <summary>Inserts an account; false when the username is taken (and nothing is written).</summary>
    Task<bool> CreateAccountAsync(AccountCredentials account);

    /// <summary>The account with this (normalised) username, or null.</summary>
    Task<AccountCredentials?> FindAccountByUsernameAsync(string username);

    /// <summary>The account with this user id, or null.</summary>
    Task<AccountCredentials?> FindAccountAsync(string userId);

    /// <summary>
    /// Deletes the account with this user id: it is found neither by id nor by username any more, and
    /// the username may be registered again. False when there was no such account. Idempotent.
    /// </summary>
    Task<bool> DeleteAccountAsync(string userId);
}
