namespace Messenger.Grains.Storage.Sqlite;

/// <summary>The SQLite backend: every store over one database file, or (tests) user logs in a file of their own.</summary>
public static class SqliteStorage
{
    /// <summary>The database file name inside the data directory.</summary>
    public const string FileName = "messenger.db";

    /// <summary>Accounts, conversations and user logs in one file, so one flush commits them all.</summary>
    public static MessengerStorage Open(string path, SqliteSettings? settings = null)
    {
        var database = new SqliteDatabase(path, settings);
        return new MessengerStorage(
            new SqliteAccountStore(database), new SqliteConversationStore(database), new SqliteUserLogStore(database), new SqlitePushOutboxStore(database),
            [database], [database], GrainStorage: serializer => new SqliteGrainStorage(database, serializer),
            Reminders: new SqliteReminderTable(database));
    }

    /// <summary>
    /// User logs in another file than accounts and conversations, as a partitioned backend may place
    /// them: whatever works over this split needs no query or transaction spanning the two.
    /// </summary>
    public static MessengerStorage OpenSplit(string path, string userLogPath)
    {
        var main = new SqliteDatabase(path);
        var userLogs = new SqliteDatabase(userLogPath);
        return new MessengerStorage(
            new SqliteAccountStore(main), new SqliteConversationStore(main), new SqliteUserLogStore(userLogs), new SqlitePushOutboxStore(userLogs),
            [main, userLogs], [main, userLogs], GrainStorage: serializer => new SqliteGrainStorage(main, serializer),
            Reminders: new SqliteReminderTable(main));
    }
}
