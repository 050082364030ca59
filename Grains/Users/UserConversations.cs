using Messenger.Grains.Storage;

namespace Messenger.Grains.Users;

/// <summary>
/// A user's conversation list: per conversation the newest delivered seq and the read mark, both
/// only ever moving forward, so applying an update twice (a replay after a crash) changes nothing.
/// Remembers which entries changed since the last checkpoint. For use inside one grain activation.
/// </summary>
internal sealed class UserConversations(string userId)
{
    private readonly Dictionary<string, UserConversation> _entries = new(StringComparer.Ordinal);
    private Dictionary<string, UserConversation>? _dirty; // null until something changes after a checkpoint: an idle user holds none
    private HashSet<string>? _contacts;

    public IEnumerable<UserConversation> All => _entries.Values;

    public bool HasUnsavedChanges => _dirty is { Count: > 0 };

    /// <summary>Entries as a checkpoint saved them (not marked changed).</summary>
    public void Load(IReadOnlyList<UserConversation> saved)
    {
        foreach (var entry in saved) _entries[entry.Conversation.ConversationId] = entry;
        _contacts = null;
    }

    public bool TryGet(string conversationId, out UserConversation entry) => _entries.TryGetValue(conversationId, out entry!);

    /// <summary>Adds or replaces an entry and marks it changed.</summary>
    public void Set(UserConversation entry)
    {
        if (!_entries.ContainsKey(entry.Conversation.ConversationId)) _contacts = null;
        _entries[entry.Conversation.ConversationId] = entry;
        (_dirty ??= new(StringComparer.Ordinal))[entry.Conversation.ConversationId] = entry;
    }

    /// <summary>The entry after <paramref name="update"/>: a message moves the last seq (and the read mark if the user sent it); a read moves the read mark.</summary>
    public static UserConversation Applied(UserConversation entry, UpdatePointer update) => update.Kind switch
    {
        UpdateKind.Message => entry with
        {
            LastSeq = Math.Max(entry.LastSeq, update.Seq),
            // Sending in a conversation means having read it up to there.
            ReadSeq = update.FromSelf ? Math.Max(entry.ReadSeq, update.Seq) : entry.ReadSeq,
        },
        UpdateKind.Read => entry with { ReadSeq = Math.Max(entry.ReadSeq, update.Seq) },
        UpdateKind.Mute => entry with { MutedUntilMs = update.Seq },
        _ => entry,
    };

    /// <summary>
    /// Whether the user is out of the group after <paramref name="e"/> (sent by <paramref name="senderId"/>):
    /// true when it removed them or they left, false when it made them a member, null when it is not about them.
    /// </summary>
    public static bool? LeftAfter(ConversationEvent e, string senderId, string userId) => e.Type switch
    {
        ConversationEventType.MemberLeft when senderId == userId => true,
        ConversationEventType.MemberRemoved when e.UserIds.Contains(userId) => true,
        ConversationEventType.Created or ConversationEventType.MembersAdded when e.UserIds.Contains(userId) => false,
        _ => null,
    };

    /// <summary>The groups the user is a member of now.</summary>
    public List<string> CurrentGroups()
    {
        var groups = new List<string>();
        foreach (var entry in _entries.Values)
        {
            if (entry.Conversation.Kind == ConversationKind.Group && !entry.Left) groups.Add(entry.Conversation.ConversationId);
        }
        return groups;
    }

    /// <summary>Applies an update to a known conversation; false if the conversation is not in the list.</summary>
    public bool Apply(UpdatePointer update)
    {
        if (!_entries.TryGetValue(update.ConversationId, out var entry)) return false;
        Set(Applied(entry, update));
        return true;
    }

    /// <summary>The entries changed since the last call, for a checkpoint; <see cref="Restore"/> them if saving fails.</summary>
    public IReadOnlyList<UserConversation> TakeChanged()
    {
        if (_dirty is not { Count: > 0 } dirty) return [];
        var changed = new List<UserConversation>(dirty.Values);
        _dirty = null;
        return changed;
    }

    /// <summary>Marks entries changed again after a failed checkpoint (newer values win).</summary>
    public void Restore(IReadOnlyList<UserConversation> changed)
    {
        if (changed.Count == 0) return;
        var dirty = _dirty ??= new(StringComparer.Ordinal);
        foreach (var entry in changed)
        {
            var id = entry.Conversation.ConversationId;
            dirty.TryAdd(id, _entries[id]);
        }
    }

    /// <summary>True when <paramref name="otherUserId"/> is a member of one of the user's conversations.</summary>
    public bool IsContact(string otherUserId)
    {
        if (_contacts is null)
        {
            _contacts = new HashSet<string>(StringComparer.Ordinal);
            foreach (var entry in _entries.Values)
            {
                foreach (var member in entry.Conversation.Members) _contacts.Add(member);
            }
        }
        return otherUserId == userId || _contacts.Contains(otherUserId);
    }
}
