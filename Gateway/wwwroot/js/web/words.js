export class Words {
    model;
    constructor(model) {
        this.model = model;
    }
    /** A user's name, as far as the page has looked it up. */
    name(userId) {
        return (userId && this.model.names.get(userId)) || 'unknown user';
    }
    /** A group's title, or the other member's name for a direct conversation. */
    chatName(chat) {
        return this.model.isGroup(chat) ? chat.title || 'Group' : this.name(this.model.peer(chat));
    }
    /** A membership event in words: "Alice added Bob and Carol". */
    describeEvent(message) {
        const event = message.event;
        const actor = message.senderId === this.model.me ? 'You' : this.name(message.senderId);
        const who = joined(event.userIds.map((u) => (u === this.model.me ? 'you' : this.name(u))));
        switch (event.type) {
            case 'created': return `${actor} created the group “${event.title ?? ''}”`;
            case 'members_added': return `${actor} added ${who}`;
            case 'member_removed': return `${actor} removed ${who}`;
            case 'member_left': return `${actor} left`;
            case 'renamed': return `${actor} renamed the group to “${event.title ?? ''}”`;
            case 'role_changed': return `${actor} made ${who} ${roleWithArticle(event.role)}`;
            default: return `${actor} changed the group`;
        }
    }
    /** The conversation list's second line: the last message (or event), with who sent it. */
    preview(chat) {
        const last = chat.lastMessage;
        if (!last)
            return 'No messages yet';
        if (last.event)
            return this.describeEvent(last);
        const mine = last.senderId === this.model.me;
        return `${mine ? 'You: ' : this.model.isGroup(chat) ? `${this.name(last.senderId)}: ` : ''}${last.text}`;
    }
    /** "Bob, Carol and Dave" for these users. */
    names(userIds) {
        return joined(userIds.map((u) => (u === this.model.me ? 'you' : this.name(u))));
    }
}
/** "a", "a and b", "a, b and c". */
export function joined(words) {
    return words.length > 1 ? `${words.slice(0, -1).join(', ')} and ${words[words.length - 1]}` : (words[0] ?? '');
}
/** "an admin", "a member", "an owner". */
export function roleWithArticle(role) {
    return role === 'member' ? 'a member' : `an ${role ?? 'admin'}`;
}
