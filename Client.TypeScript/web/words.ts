// What the page calls people, conversations and a group's membership events, in one place so that the
// list, the chat, the receipts and the group panel all say the same thing.
import type { GroupRole, Message } from '../src/index.js';
import type { ChatState, Model } from './model.js';

export class Words {
  constructor(private readonly model: Model) {}

  /** A user's name, as far as the page has looked it up. */
  name(userId: string | undefined): string {
    return (userId && this.model.names.get(userId)) || 'unknown user';
  }

  /** A group's title, or the other member's name for a direct conversation. */
  chatName(chat: ChatState): string {
    return this.model.isGroup(chat) ? chat.title || 'Group' : this.name(this.model.peer(chat));
  }

  /** A membership event in words: "Alice added Bob and Carol". */
  describeEvent(message: Message): string {
    const event = message.event!;
    const actor = message.senderId === this.model.me ? 'You' : this.name(message.senderId);
    const who = joined(event.userIds.map((u) => (u === this.model.me ? 'you' : this.name(u))));
    switch (event.type) {
      case 'created': return `${actor} created the group “${event.title ?? ''}”`;
      case 'members_added': return `${actor} added ${who}`;
      case 'member_removed': return `${actor} removed ${who}`;
      case 'member_left': return `${actor} left`;
      case 'renamed': return `${actor} renamed the group to “${event.title ?? ''}”`;
      case 'role_changed': return `${actor} made ${who} ${roleWithArticle(event.role as GroupRole | undefined)}`;
      default: return `${actor} changed the group`;
    }
  }

  /** The conversation list's second line: the last message (or event), with who sent it. */
  preview(chat: ChatState): string {
    const last = chat.lastMessage;
    if (!last) return 'No messages yet';
    if (last.event) return this.describeEvent(last);
    const mine = last.senderId === this.model.me;
    return `${mine ? 'You: ' : this.model.isGroup(chat) ? `${this.name(last.senderId)}: ` : ''}${last.text}`;
  }

  /** "Bob, Carol and Dave" for these users. */
  names(userIds: readonly string[]): string {
    return joined(userIds.map((u) => (u === this.model.me ? 'you' : this.name(u))));
  }
}

/** "a", "a and b", "a, b and c". */
export function joined(words: readonly string[]): string {
  return words.length > 1 ? `${words.slice(0, -1).join(', ')} and ${words[words.length - 1]}` : (words[0] ?? '');
}

/** "an admin", "a member", "an owner". */
export function roleWithArticle(role: GroupRole | undefined): string {
  return role === 'member' ? 'a member' : `an ${role ?? 'admin'}`;
}
