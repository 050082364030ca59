using Npgsql;

namespace Messenger.Grains.Storage.Postgres;

/// <summary>
/// <see cref="IAccountStore"/> over partitioned databases. The account row lives with the partition of
/// its username (whose primary key makes the name unique); an id row, with the partition of the user
/// id, says which username that id registered with. Registration writes the id row first and the
/// account row last: the account row is the commit point, and an id row left behind by a failed or
/// interrupted registration points at a name that is free or someone else's, which
/// <see cref="FindAccountAsync"/> recognises.
/// </summary>
internal sealed class PostgresAccountStore(PostgresShards shards) : IAccountStore
{
    /// <inheritdoc />
    public async Task<bool> CreateAccountAsync(AccountCredentials account)
    {
        var profile = account.Profile;
        await using (var id = shards.For(profile.UserId).Command(
            "INSERT INTO account_ids (user_id, username) VALUES ($1, $2) ON CONFLICT (user_id) DO UPDATE SET username = excluded.username"))
        {
            id.Parameters.With(profile.UserId).With(profile.Username);
            await id.ExecuteNonQueryAsync();
        }
        await using var insert = shards.For(profile.Username).Command(
            "INSERT INTO accounts (username, user_id, password_hash, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (username) DO NOTHING");
        insert.Parameters.With(profile.Username).With(profile.UserId).With(account.PasswordHash).With(profile.CreatedAt.ToUnixTimeMilliseconds());
        if (await insert.ExecuteNonQueryAsync() == 1) return true;

        // The name is taken: take back the id row (were this lost, it would still find nothing).
        await using var undo = shards.For(profile.UserId).Command("DELETE FROM account_ids WHERE user_id = $1 AND username = $2");
        undo.Parameters.With(profile.UserId).With(profile.Username);
        await undo.ExecuteNonQueryAsync();
        return false;
    }

    /// <inheritdoc />
    public async Task<AccountCredentials?> FindAccountByUsernameAsync(string username)
    {
        await using var cmd = shards.For(username).Command("SELECT user_id, username, password_hash, created_at FROM accounts WHERE username = $1");
        cmd.Parameters.With(username);
        await using var r = await cmd.ExecuteReaderAsync();
        return await r.ReadAsync() ? Read(r) : null;
    }

    /// <inheritdoc />
    public async Task<AccountCredentials?> FindAccountAsync(string userId)
    {
        string? username;
        await using (var cmd = shards.For(userId).Command("SELECT username FROM account_ids WHERE user_id = $1"))
        {
            cmd.Parameters.With(userId);
            username = await cmd.ExecuteScalarAsync() as string;
        }
        if (username is null) return null;
        var account = await FindAccountByUsernameAsync(username);
        return account?.Profile.UserId == userId ? account : null;
    }

    /// <inheritdoc />
    /// <remarks>
    /// The account row goes first (the commit point: from then on the id finds nothing and the name is free),
    /// then the id row; an id row left behind by a crash in between is what <see cref="FindAccountAsync"/>
    /// already ignores, and a repeated call removes it.
    /// </remarks>
    public async Task<bool> DeleteAccountAsync(string userId)
    {
        string? username;
        await using (var find = shards.For(userId).Command("SELECT username FROM account_ids WHERE user_id = $1"))
        {
            find.Parameters.With(userId);
            username = await find.ExecuteScalarAsync() as string;
        }
        if (username is null) return false;
        int deleted;
        await using (var account = shards.For(username).Command("DELETE FROM accounts WHERE username = $1 AND user_id = $2"))
        {
            account.Parameters.With(username).With(userId);
            deleted = await account.ExecuteNonQueryAsync();
        }
        await using var id = shards.For(userId).Command("DELETE FROM account_ids WHERE user_id = $1");
        id.Parameters.With(userId);
        await id.ExecuteNonQueryAsync();
        return deleted == 1;
    }

    private static AccountCredentials Read(NpgsqlDataReader r) =>
        new(new UserProfile(r.GetString(0), r.GetString(1), StoreTime.FromMs(r.GetInt64(3))), r.GetString(2));
}
