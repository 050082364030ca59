namespace Messenger.Grains.Storage;

/// <summary>What a membership change does to the stored members and title.</summary>
internal enum MembershipChangeKind
{
    /// <summary>The user becomes a member from the event's seq, with <see cref="MembershipChange.Role"/> (a former member's row is reused).</summary>
    Join,
    /// <summary>The user stops being a member at the event's seq.</summary>
    Leave,
    /// <summary>The current member gets <see cref="MembershipChange.Role"/>.</summary>
    SetRole,
    /// <summary>The conversation gets <see cref="MembershipChange.Title"/>.</summary>
    SetTitle,
}

/// <summary>One row change a membership event makes; every backend applies these in the append's transaction.</summary>
internal readonly record struct MembershipChange(MembershipChangeKind Kind, string? UserId, MemberRole Role, string? Title)
{
    /// <summary>The changes <paramref name="message"/>'s event makes (none for a text message). One reading of events for every backend.</summary>
    public static List<MembershipChange> Of(ChatMessage message)
    {
        var changes = new List<MembershipChange>();
        if (message.Event is not { } e) return changes;
        switch (e.Type)
        {
            case ConversationEventType.Created:
                changes.Add(new(MembershipChangeKind.SetTitle, null, default, e.Title));
                foreach (var user in e.UserIds)
                {
                    changes.Add(new(MembershipChangeKind.Join, user, user == message.SenderId ? MemberRole.Owner : MemberRole.Member, null));
                }
                break;
            case ConversationEventType.MembersAdded:
                foreach (var user in e.UserIds) changes.Add(new(MembershipChangeKind.Join, user, MemberRole.Member, null));
                break;
            case ConversationEventType.MemberRemoved:
                foreach (var user in e.UserIds) changes.Add(new(MembershipChangeKind.Leave, user, default, null));
                break;
            case ConversationEventType.MemberLeft:
                changes.Add(new(MembershipChangeKind.Leave, message.SenderId, default, null));
                break;
            case ConversationEventType.Renamed:
                changes.Add(new(MembershipChangeKind.SetTitle, null, default, e.Title));
                break;
            case ConversationEventType.RoleChanged:
                foreach (var user in e.UserIds) changes.Add(new(MembershipChangeKind.SetRole, user, e.Role ?? MemberRole.Member, null));
                break;
        }
        return changes;
    }
}
