using Messenger.Grains.Storage;

namespace Messenger.Grains.Conversations;

/// <summary>
/// A conversation's members as its grain holds them, and a group's rules: who may add, remove, rename and
/// change roles, the member limit, the title. A command is checked against every change already queued (a
/// command's event changes this state when it is queued, before its commit), so two queued commands never
/// contradict each other and a send queued after a removal is refused; the seqs of a queued change are filled
/// in by <see cref="Committed"/>. If a commit fails the grain reloads, and this state with it.
/// For use inside one grain activation.
/// </summary>
internal sealed class ConversationMembers
{
    /// <summary>The seq of a change that is queued and not yet committed.</summary>
    public const long Pending = long.MaxValue;

    private readonly Dictionary<string, MemberRecord> _all = new(StringComparer.Ordinal);
    private MemberRecord[]? _allList;
    private readonly ConversationKind _kind;
    private readonly int _maxMembers;
    private readonly int _maxTitleLength;
    private int _current;

    public ConversationMembers(ConversationKind kind, string? title, IEnumerable<MemberRecord> members, int maxMembers, int maxTitleLength)
    {
        _kind = kind;
        Title = title;
        _maxMembers = maxMembers;
        _maxTitleLength = maxTitleLength;
        foreach (var member in members) Set(member);
    }

    public string? Title { get; private set; }

    public int Count => _current;

    /// <summary>
    /// Every member the conversation has had, current or not: a list kept until the next change (receipts count over
    /// it for every message, and a dictionary's values would box an enumerator each time).
    /// </summary>
    public IReadOnlyList<MemberRecord> All => _allList ??= [.. _all.Values];

    /// <summary>The member's record if they are a member now (a queued removal counts as done).</summary>
    public MemberRecord? Current(string userId) => _all.TryGetValue(userId, out var m) && m.Current ? m : null;

    /// <summary>Their record, current or not.</summary>
    public MemberRecord? Find(string userId) => _all.GetValueOrDefault(userId);

    /// <summary>The full metadata as of every queued change.</summary>
    public ConversationInfo Info(string conversationId, DateTimeOffset createdAt) =>
        ConversationRecord.InfoOf(conversationId, _kind, createdAt, Title, _all.Values);

    // ---- commands: each checks, queues its change here, and returns the event to append ----

    /// <summary>The group's first event; <paramref name="others"/> exist (the grain checked) and may name the creator.</summary>
    public ConversationEvent Create(string creatorId, string title, IReadOnlyList<string> others)
    {
        title = CheckTitle(title);
        var users = new List<string>(others.Count + 1) { creatorId };
        var seen = new HashSet<string>(StringComparer.Ordinal) { creatorId };
        foreach (var user in others)
        {
            if (user == creatorId) continue;
            if (!seen.Add(user)) throw new MessengerException(ErrorCode.InvalidRequest, $"userIds names '{user}' twice.");
            users.Add(user);
        }
        CheckRoom(users.Count);
        var e = new ConversationEvent(ConversationEventType.Created, users, title);
        Queue(creatorId, e);
        return e;
    }

    /// <summary>Adds users (who exist: the grain checked).</summary>
    public ConversationEvent Add(string actorId, IReadOnlyList<string> userIds, Func<MemberRecord, bool> formerMemberCaughtUp)
    {
        RequireRole(actorId, MemberRole.Admin);
        if (userIds.Count == 0) throw new MessengerException(ErrorCode.InvalidRequest, "userIds must name at least one user.");
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var user in userIds)
        {
            if (!seen.Add(user)) throw new MessengerException(ErrorCode.InvalidRequest, $"userIds names '{user}' twice.");
            if (Current(user) is not null) throw new MessengerException(ErrorCode.AlreadyMember, $"user '{user}' is a member of the group already.");
            if (Find(user) is { } former && !formerMemberCaughtUp(former))
            {
                // Their earlier membership is still being delivered to them; a rejoin now would lose its end after a crash.
                throw new MessengerException(ErrorCode.Unavailable, $"user '{user}' left the group a moment ago; try again shortly.");
            }
        }
        CheckRoom(_current + userIds.Count);
        var e = new ConversationEvent(ConversationEventType.MembersAdded, [.. userIds]);
        Queue(actorId, e);
        return e;
    }

    public ConversationEvent Remove(string actorId, string userId)
    {
        if (userId == actorId) throw new MessengerException(ErrorCode.InvalidRequest, "to leave a group, leave it; remove is for other members.");
        var actor = RequireRole(actorId, MemberRole.Admin);
        var target = Current(userId) ?? throw new MessengerException(ErrorCode.MemberNotFound, $"user '{userId}' is not a member of the group.");
        if (target.Role == MemberRole.Owner && actor.Role != MemberRole.Owner)
        {
            throw new MessengerException(ErrorCode.NotOwner, "only an owner can remove an owner.");
        }
        var e = new ConversationEvent(ConversationEventType.MemberRemoved, [userId]);
        Queue(actorId, e);
        return e;
    }

    /// <summary>
    /// The member leaves. The last owner of a group that keeps members first hands the owner role on (to the
    /// longest-standing admin, else the longest-standing member), so the group is never left without one.
    /// </summary>
    public List<ConversationEvent> Leave(string actorId)
    {
        var actor = Current(actorId) ?? throw NotMember();
        RequireGroup();
        var events = new List<ConversationEvent>(2);
        if (actor.Role == MemberRole.Owner && Owners() == 1 && _current > 1)
        {
            MemberRecord? heir = null;
            foreach (var m in _all.Values)
            {
                if (!m.Current || m.UserId == actorId) continue;
                if (heir is null || RanksBefore(m, heir)) heir = m;
            }
            var handOver = new ConversationEvent(ConversationEventType.RoleChanged, [heir!.UserId], Role: MemberRole.Owner);
            Queue(actorId, handOver);
            events.Add(handOver);
        }
        var left = new ConversationEvent(ConversationEventType.MemberLeft, []);
        Queue(actorId, left);
        events.Add(left);
        return events;
    }

    // Admins before members, then who joined first, then by id: a stable, explainable choice.
    private static bool RanksBefore(MemberRecord a, MemberRecord b)
    {
        var (ra, rb) = (a.Role == MemberRole.Admin ? 0 : 1, b.Role == MemberRole.Admin ? 0 : 1);
        if (ra != rb) return ra < rb;
        if (a.JoinedSeq != b.JoinedSeq) return a.JoinedSeq < b.JoinedSeq;
        return string.CompareOrdinal(a.UserId, b.UserId) < 0;
    }

    public ConversationEvent Rename(string actorId, string title)
    {
        RequireRole(actorId, MemberRole.Admin);
        var e = new ConversationEvent(ConversationEventType.Renamed, [], CheckTitle(title));
        Queue(actorId, e);
        return e;
    }

    /// <summary>Gives a member a role; null when they have it already (nothing to record).</summary>
    public ConversationEvent? SetRole(string actorId, string userId, MemberRole role)
    {
        var actor = RequireRole(actorId, MemberRole.Admin);
        var target = Current(userId) ?? throw new MessengerException(ErrorCode.MemberNotFound, $"user '{userId}' is not a member of the group.");
        if (target.Role == role) return null;
        if ((role == MemberRole.Owner || target.Role == MemberRole.Owner) && actor.Role != MemberRole.Owner)
        {
            throw new MessengerException(ErrorCode.NotOwner, "only an owner can grant or take the owner role.");
        }
        if (target.Role == MemberRole.Owner && Owners() == 1)
        {
            throw new MessengerException(ErrorCode.LastOwner, "the group needs an owner: make another member owner first.");
        }
        var e = new ConversationEvent(ConversationEventType.RoleChanged, [userId], Role: role);
        Queue(actorId, e);
        return e;
    }

    /// <summary>A queued event was committed at <paramref name="message"/>'s seq: its joins and leaves get that seq.</summary>
    public void Committed(ChatMessage message)
    {
        var e = message.Event!;
        switch (e.Type)
        {
            case ConversationEventType.Created or ConversationEventType.MembersAdded:
                foreach (var user in e.UserIds)
                {
                    if (_all.TryGetValue(user, out var m) && m.JoinedSeq == Pending) Replace(m with { JoinedSeq = message.Seq });
                }
                break;
            case ConversationEventType.MemberRemoved or ConversationEventType.MemberLeft:
                var leaver = e.Type == ConversationEventType.MemberLeft ? message.SenderId : e.UserIds[0];
                if (_all.TryGetValue(leaver, out var l) && l.LeftSeq == Pending) Replace(l with { LeftSeq = message.Seq });
                break;
        }
    }

    /// <summary>Records that a member deleted their account.</summary>
    public void MarkDeleted(string userId)
    {
        if (_all.TryGetValue(userId, out var m)) Replace(m with { Deleted = true });
    }

    private void Queue(string actorId, ConversationEvent e)
    {
        switch (e.Type)
        {
            case ConversationEventType.Created:
                Title = e.Title;
                foreach (var user in e.UserIds) Set(new MemberRecord(user, user == actorId ? MemberRole.Owner : MemberRole.Member, Pending, 0, false));
                break;
            case ConversationEventType.MembersAdded:
                foreach (var user in e.UserIds) Set(new MemberRecord(user, MemberRole.Member, Pending, 0, false));
                break;
            case ConversationEventType.MemberRemoved:
                Set(_all[e.UserIds[0]] with { LeftSeq = Pending });
                break;
            case ConversationEventType.MemberLeft:
                Set(_all[actorId] with { LeftSeq = Pending });
                break;
            case ConversationEventType.Renamed:
                Title = e.Title;
                break;
            case ConversationEventType.RoleChanged:
                Set(_all[e.UserIds[0]] with { Role = e.Role!.Value });
                break;
        }
    }

    private void Set(MemberRecord member)
    {
        if (_all.TryGetValue(member.UserId, out var old) && old.Current) _current--;
        Replace(member);
        if (member.Current) _current++;
    }

    // Every write of a record goes here: the list of all is made again when next asked for.
    private void Replace(MemberRecord member)
    {
        _all[member.UserId] = member;
        _allList = null;
    }

    private int Owners()
    {
        var owners = 0;
        foreach (var m in _all.Values) if (m.Current && m.Role == MemberRole.Owner) owners++;
        return owners;
    }

    /// <summary>Throws unless <paramref name="actorId"/> is a current admin or owner of a group.</summary>
    public MemberRecord RequireAdmin(string actorId) => RequireRole(actorId, MemberRole.Admin);

    private MemberRecord RequireRole(string actorId, MemberRole least)
    {
        var actor = Current(actorId) ?? throw NotMember();
        RequireGroup();
        if (actor.Role < least) throw new MessengerException(ErrorCode.NotAdmin, "changing the group needs the admin or owner role.");
        return actor;
    }

    private void RequireGroup()
    {
        if (_kind != ConversationKind.Group) throw new MessengerException(ErrorCode.NotGroup, "a direct conversation has no members to change.");
    }

    private void CheckRoom(int count)
    {
        if (count > _maxMembers) throw new MessengerException(ErrorCode.GroupFull, $"a group has at most {_maxMembers} members; this would make {count}.");
    }

    private string CheckTitle(string? title)
    {
        var trimmed = title?.Trim();
        if (string.IsNullOrEmpty(trimmed) || trimmed.Length > _maxTitleLength)
        {
            throw new MessengerException(ErrorCode.InvalidRequest, $"title must be 1 to {_maxTitleLength} characters (not only spaces).");
        }
        return trimmed;
    }

    public static MessengerException NotMember() => new(ErrorCode.NotMember, "the conversation does not exist or you are not a member of it.");
}
