namespace Messenger.Grains.Storage;

/// <summary>
/// Each user's push outbox: one row per message that may need a notification, written in the same
/// transaction as the message's pointer (<see cref="IUserLogStore.AppendUpdatesAsync"/>), so a crash
/// between the commit and the notification loses none, then moved through its <see cref="PushState"/>s.
/// Every row a method touches belongs to the user it names (the user log's partition), except
/// <see cref="ListUsersDueAsync"/> and <see cref="PruneAsync"/>, which visit every database.
/// </summary>
public interface IPushOutboxStore
{
    /// <summary>The user's rows still <see cref="PushState.Pending"/>, in <c>userSeq</c> order.</summary>
    Task<IReadOnlyList<PushRecord>> ReadPendingAsync(string userId);

    /// <summary>Saves new states of existing rows (matched by conversation and seq); rows not found are ignored.</summary>
    Task UpdateAsync(string userId, IReadOnlyList<PushRecord> records);

    /// <summary>The user's rows of a conversation with a seq above <paramref name="afterSeq"/>, oldest first, at most <paramref name="limit"/>.</summary>
    Task<IReadOnlyList<PushRecord>> ReadAsync(string userId, string conversationId, long afterSeq, int limit);

    /// <summary>Users with a pending row due at or before <paramref name="dueMs"/> (unix ms), each once, the most overdue first, at most <paramref name="limit"/>.</summary>
    Task<IReadOnlyList<string>> ListUsersDueAsync(long dueMs, int limit);

    /// <summary>Deletes rows no longer pending that last changed before <paramref name="beforeMs"/>; returns how many.</summary>
    Task<int> PruneAsync(long beforeMs);
}
