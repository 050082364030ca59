using Messenger.Grains.Storage;
using Messenger.Grains.Support;
using Microsoft.Extensions.Logging;

namespace Messenger.Grains.Users;

/// <summary>
/// One user's update log as its grain holds it: the end of the log (<see cref="LastUserSeq"/>), the
/// conversation list rebuilt from the last checkpoint plus the log after it, and the checkpoint
/// saved off the hot path. The log holds pointers; message bodies are read from the conversations'
/// store when a page or the list needs them. For use inside one grain activation.
/// </summary>
internal sealed class UserLog
{
    private const int ReplayPage = 500;

    private readonly string _userId;
    private readonly IUserLogStore _store;
    private readonly IConversationStore _conversationStore;
    private readonly ThrottledSave _checkpoint;

    public UserLog(string userId, IUserLogStore store, IConversationStore conversationStore, TimeSpan checkpointInterval, TimeProvider time, ILogger logger)
    {
        _userId = userId;
        _store = store;
        _conversationStore = conversationStore;
        Conversations = new UserConversations(userId);
        _checkpoint = new ThrottledSave(_ => SaveCheckpointAsync(), checkpointInterval, time,
            (ex, _) => logger.LogWarning(ex, "User {UserId}: could not save the conversation-list checkpoint", userId));
    }

    /// <summary>The newest <c>userSeq</c>: the log is gapless from 1 to here.</summary>
    public long LastUserSeq { get; private set; }

    /// <summary>The conversation list, up to date with the whole log.</summary>
    public UserConversations Conversations { get; }

    /// <summary>Loads the checkpoint and replays the log after it; returns when the user was last seen.</summary>
    public async Task<DateTimeOffset?> LoadAsync()
    {
        var record = await _store.LoadUserAsync(_userId);
        LastUserSeq = record.LastUserSeq;
        Conversations.Load(record.Conversations);
        var cursor = record.CheckpointUserSeq;
        while (cursor < LastUserSeq)
        {
            var page = await _store.ReadUpdatesAsync(_userId, cursor, ReplayPage);
            if (page.Count == 0) break;
            foreach (var update in page)
            {
                if (!Conversations.Apply(update) && await _conversationStore.GetConversationAsync(update.ConversationId) is { } conversation)
                {
                    Conversations.Set(UserConversations.Applied(new UserConversation(conversation.Info.ForList(), 0, 0), update));
                }
            }
            cursor = page[^1].UserSeq;
        }
        if (Conversations.HasUnsavedChanges) _checkpoint.Request(LastUserSeq);
        return record.LastSeen;
    }

    /// <summary>
    /// Makes updates durable; once it has, the caller moves the end of the log with <see cref="Appended"/> (two steps
    /// rather than one async method: the grain awaits the store itself, one continuation fewer per append). Throws
    /// <see cref="StoreConflictException"/> when another activation of the user wrote first (the caller must retire
    /// this one). <paramref name="pushes"/> (new push outbox rows) commit with the pointers.
    /// </summary>
    public Task WriteAsync(List<UpdatePointer> pointers, IReadOnlyList<UserConversation> entries, IReadOnlyList<PushRecord>? pushes = null) =>
        _store.AppendUpdatesAsync(_userId, pointers, entries, pushes);

    /// <summary>Moves the end of the log past <paramref name="pointers"/>, once <see cref="WriteAsync"/> made them durable.</summary>
    public void Appended(List<UpdatePointer> pointers)
    {
        LastUserSeq = pointers[^1].UserSeq;
        _checkpoint.Request(LastUserSeq);
    }

    /// <summary>Adds a conversation to the list durably at once (without moving the checkpoint).</summary>
    public async Task JoinAsync(ConversationInfo conversation)
    {
        var entry = new UserConversation(conversation, 0, 0);
        await _store.SaveConversationsAsync(_userId, [entry], 0);
        Conversations.Set(entry);
    }

    /// <summary>The <c>userSeq</c> under which a message was delivered, or 0.</summary>
    public Task<long> FindUserSeqAsync(string conversationId, long seq) => _store.FindUserSeqAsync(_userId, conversationId, seq);

    /// <summary>
    /// Saves the newest checkpoint now and none after it (deactivation, and account deletion): a failed save is not
    /// tried again from a gone activation, nor after the user's data is deleted.
    /// </summary>
    public async Task CloseAsync()
    {
        await _checkpoint.FlushAsync();
        _checkpoint.Stop();
    }

    /// <summary>No checkpoint from now on, not even a last one (an activation that failed: it never deactivates).</summary>
    public void Abandon() => _checkpoint.Stop();

    private async Task SaveCheckpointAsync()
    {
        var upTo = LastUserSeq;
        var changed = Conversations.TakeChanged();
        try
        {
            await _store.SaveConversationsAsync(_userId, changed, upTo);
        }
        catch
        {
            Conversations.Restore(changed);
            throw;
        }
    }

    /// <summary>Up to <paramref name="limit"/> updates after <paramref name="after"/>, messages read from their conversations.</summary>
    public async Task<UserUpdate[]> ReadAsync(long after, int limit)
    {
        var pointers = await _store.ReadUpdatesAsync(_userId, after, limit);
        var keys = new List<MessageKey>(pointers.Count);
        foreach (var p in pointers) if (p.Kind == UpdateKind.Message) keys.Add(new MessageKey(p.ConversationId, p.Seq));
        var bodies = await _conversationStore.ReadMessagesByKeyAsync(keys);
        var updates = new UserUpdate[pointers.Count];
        var b = 0;
        for (var i = 0; i < pointers.Count; i++)
        {
            var p = pointers[i];
            ChatMessage? message = null;
            if (p.Kind == UpdateKind.Message && b < bodies.Count && bodies[b].Seq == p.Seq && bodies[b].ConversationId == p.ConversationId) message = bodies[b++];
            updates[i] = new UserUpdate(p.UserSeq, p.Kind, p.ConversationId, p.Seq, message, p.Receipts);
        }
        return updates;
    }

    /// <summary>The conversation list with each conversation's newest message, most recently active first.</summary>
    public async Task<List<ConversationSummary>> SummariesAsync(DateTimeOffset now)
    {
        var entries = new List<UserConversation>(Conversations.All);
        var keys = new List<MessageKey>(entries.Count);
        foreach (var e in entries) if (e.LastSeq > 0) keys.Add(new MessageKey(e.Conversation.ConversationId, e.LastSeq));
        var last = await _conversationStore.ReadMessagesByKeyAsync(keys);
        var byConversation = new Dictionary<string, ChatMessage>(last.Count, StringComparer.Ordinal);
        foreach (var message in last) byConversation[message.ConversationId] = message;
        var list = new List<ConversationSummary>(entries.Count);
        foreach (var e in entries)
        {
            var info = e.Conversation;
            var mutedUntil = e.MutedUntilMs > now.ToUnixTimeMilliseconds() ? DateTimeOffset.FromUnixTimeMilliseconds(e.MutedUntilMs) : (DateTimeOffset?)null;
            list.Add(new ConversationSummary(info, e.LastSeq, e.ReadSeq, e.LastSeq - e.ReadSeq, byConversation.GetValueOrDefault(info.ConversationId), e.Left, mutedUntil));
        }
        list.Sort(static (a, b) => (b.LastMessage?.SentAt ?? DateTimeOffset.MinValue).CompareTo(a.LastMessage?.SentAt ?? DateTimeOffset.MinValue));
        return list;
    }
}
