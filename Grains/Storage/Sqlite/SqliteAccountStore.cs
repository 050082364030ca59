namespace Messenger.Grains.Storage.Sqlite;

/// <summary><see cref="IAccountStore"/> on the <c>accounts</c> table of a <see cref="SqliteDatabase"/>.</summary>
public sealed class SqliteAccountStore(SqliteDatabase database) : IAccountStore
{
    /// <inheritdoc />
    public Task<bool> CreateAccountAsync(AccountCredentials account) => database.Writer.WriteAsync(w =>
    {
        var cmd = w.Statement("INSERT INTO accounts (user_id, username, password_hash, created_at) VALUES ($u, $n, $h, $t) ON CONFLICT DO NOTHING");
        cmd.Bind("$u", account.Profile.UserId);
        cmd.Bind("$n", account.Profile.Username);
        cmd.Bind("$h", account.PasswordHash);
        cmd.Bind("$t", account.Profile.CreatedAt.ToUnixTimeMilliseconds());
        return cmd.ExecuteNonQuery() == 1;
    });

    /// <inheritdoc />
    public Task<AccountCredentials?> FindAccountByUsernameAsync(string username) => FindWhereAsync("username = $k", username);

    /// <inheritdoc />
    public Task<AccountCredentials?> FindAccountAsync(string userId) => FindWhereAsync("user_id = $k", userId);

    /// <inheritdoc />
    public Task<bool> DeleteAccountAsync(string userId) => database.Writer.WriteAsync(w =>
    {
        var cmd = w.Statement("DELETE FROM accounts WHERE user_id = $u");
        cmd.Bind("$u", userId);
        return cmd.ExecuteNonQuery() == 1;
    });

    private async Task<AccountCredentials?> FindWhereAsync(string where, string key)
    {
        await using var connection = await database.OpenReaderAsync();
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = $"SELECT user_id, username, password_hash, created_at FROM accounts WHERE {where}";
        Sql.Bind(cmd, "$k", key);
        await using var r = await cmd.ExecuteReaderAsync();
        if (!await r.ReadAsync()) return null;
        return new AccountCredentials(new UserProfile(r.GetString(0), r.GetString(1), StoreTime.FromMs(r.GetInt64(3))), r.GetString(2));
    }
}
