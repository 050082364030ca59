using Messenger.Grains.Conversations;
using Messenger.Grains.Storage;

namespace Messenger.Grains;

/// <summary>
/// A group's commands. Each is checked by <see cref="ConversationMembers"/> against every change already queued,
/// then appended to the log as an event through the same ordered commit as messages (so it has a seq and
/// reaches every member's devices like a message), and answered once the actor's own log holds it.
/// </summary>
public sealed partial class ConversationGrain
{
    public async Task<GroupChange> CreateGroupAsync(string creatorId, string title, IReadOnlyList<string> memberIds)
    {
        if (!ConversationIds.IsGroup(Id)) throw new MessengerException(ErrorCode.InvalidRequest, $"'{Id}' is not a group id.");
        if (_members is not null) throw new MessengerException(ErrorCode.InvalidRequest, $"group '{Id}' exists already.");
        if (memberIds.Count > _options.MaxGroupMembers)
        {
            throw new MessengerException(ErrorCode.GroupFull, $"a group has at most {_options.MaxGroupMembers} members.");
        }
        // The cheap checks (title, duplicates, size) before a look-up per member: a throwaway state that is never kept.
        new ConversationMembers(ConversationKind.Group, null, [], _options.MaxGroupMembers, _options.MaxTitleLength).Create(creatorId, title, memberIds);
        await CheckUsersExistAsync(memberIds);
        if (_members is not null) throw new MessengerException(ErrorCode.InvalidRequest, $"group '{Id}' exists already.");
        await _store.CreateConversationAsync(new ConversationInfo(Id, ConversationKind.Group, [], _time.GetUtcNow(), MemberCount: 0));
        var record = await _store.GetConversationAsync(Id) ?? throw new InvalidOperationException($"Group {Id} vanished after creation.");
        if (_members is null) SetMembers(record);
        return await CommitEventsAsync(creatorId, [_members!.Create(creatorId, title, memberIds)]);
    }

    public async Task<GroupChange> AddMembersAsync(string actorId, IReadOnlyList<string> userIds)
    {
        Group().RequireAdmin(actorId);
        if (userIds.Count > _options.MaxGroupMembers)
        {
            throw new MessengerException(ErrorCode.GroupFull, $"a group has at most {_options.MaxGroupMembers} members.");
        }
        await CheckUsersExistAsync(userIds);
        // Checked again now: the look-ups yielded, and other changes may have been queued meanwhile.
        return await CommitEventsAsync(actorId, [Group().Add(actorId, userIds, CaughtUp)]);
    }

    public Task<GroupChange> RemoveMemberAsync(string actorId, string userId) => CommitEventsAsync(actorId, [Group().Remove(actorId, userId)]);

    public Task<GroupChange> LeaveAsync(string userId) => CommitEventsAsync(userId, Group().Leave(userId));

    public Task<GroupChange> RenameAsync(string actorId, string title) => CommitEventsAsync(actorId, [Group().Rename(actorId, title)]);

    public Task<GroupChange> SetRoleAsync(string actorId, string userId, MemberRole role) =>
        Group().SetRole(actorId, userId, role) is { } change ? CommitEventsAsync(actorId, [change]) : Task.FromResult(new GroupChange(_info!, []));

    public Task<IReadOnlyList<string>> FindMembersAsync(string callerId, IReadOnlyList<string> userIds)
    {
        var found = new List<string>();
        if (_members?.Current(callerId) is null) return Task.FromResult<IReadOnlyList<string>>(found);
        foreach (var userId in userIds) if (_members.Current(userId) is not null) found.Add(userId);
        return Task.FromResult<IReadOnlyList<string>>(found);
    }

    private ConversationMembers Group() => _broken ? throw Broken() : _members ?? throw NotMember();

    // A former member rejoins only once they hold everything up to where they left (else a crash could lose its end).
    private bool CaughtUp(MemberRecord former) => former.LeftSeq != ConversationMembers.Pending && _fanOut!.DeliveredTo(former.UserId) >= former.LeftSeq;

    private async Task CheckUsersExistAsync(IReadOnlyList<string> userIds)
    {
        foreach (var userId in userIds)
        {
            if (!UserIds.IsValid(userId)) throw new MessengerException(ErrorCode.UserNotFound, $"user '{userId}' does not exist.");
        }
        // Looked up 32 at a time: a create of a thousand members is 32 rounds, not a thousand.
        for (var start = 0; start < userIds.Count; start += 32)
        {
            var lookups = new List<Task<AccountCredentials?>>(32);
            for (var i = start; i < Math.Min(start + 32, userIds.Count); i++) lookups.Add(_accounts.FindAccountAsync(userIds[i]));
            var found = await Task.WhenAll(lookups);
            for (var i = 0; i < found.Length; i++)
            {
                if (found[i] is null) throw new MessengerException(ErrorCode.UserNotFound, $"user '{userIds[start + i]}' does not exist.");
            }
        }
    }

    /// <summary>Queues the events (already applied to the members) in order and answers once all are committed and in the actor's log.</summary>
    private async Task<GroupChange> CommitEventsAsync(string actorId, IReadOnlyList<ConversationEvent> events)
    {
        RefreshInfo(committed: false);
        var acks = new Task<SendAck>[events.Count];
        var sends = new PendingSend[events.Count];
        for (var i = 0; i < events.Count; i++)
        {
            sends[i] = new PendingSend(new NewMessage(actorId, $"event:{Guid.NewGuid():N}", "", _time.GetUtcNow(), events[i]));
            acks[i] = sends[i].Ack.Task;
        }
        _commits.AddRange(sends); // one command's events commit together or not at all
        var done = await Task.WhenAll(acks);
        return new GroupChange(_info!, done);
    }

    /// <summary>A membership event is committed: the members learn its seq, and fan-out starts or stops at it.</summary>
    private void ApplyCommittedEvent(ChatMessage message)
    {
        _members!.Committed(message);
        var e = message.Event!;
        switch (e.Type)
        {
            case ConversationEventType.Created or ConversationEventType.MembersAdded:
                foreach (var user in e.UserIds)
                {
                    _receipts!.Joined(user, message.Seq);
                    _fanOut!.Join(user, message.Seq);
                }
                break;
            case ConversationEventType.MemberRemoved or ConversationEventType.MemberLeft:
                var leaver = e.Type == ConversationEventType.MemberLeft ? message.SenderId : e.UserIds[0];
                _fanOut!.Leave(leaver, message.Seq);
                // The messages they had not received or read are now for one member fewer: their counts changed.
                if (_members.Find(leaver) is { } record) ChangedReceipts(Math.Max(1, record.JoinedSeq), message.Seq);
                break;
        }
        RefreshInfo();
    }
}
