export class Model {
    me;
    chats = new Map();
    presence = new Map();
    names = new Map();
    /** Who is typing where: conversation → user → when the indicator ends (ms since epoch). */
    typing = new Map();
    constructor(me) {
        this.me = me;
    }
    loadSummaries(summaries) {
        for (const s of summaries) {
            const chat = this.chat(s.conversationId, s.members);
            if (s.title !== undefined)
                chat.title = s.title;
            chat.left = s.left;
            chat.lastSeq = Math.max(chat.lastSeq, s.lastSeq);
            chat.readSeq = Math.max(chat.readSeq, s.readSeq);
            chat.mutedUntil = s.mutedUntil;
            if (s.lastMessage)
                this.addMessage(chat, s.lastMessage);
        }
    }
    chat(id, members = []) {
        let chat = this.chats.get(id);
        if (!chat) {
            chat = { id, members, left: false, lastSeq: 0, readSeq: 0, messages: new Map(), complete: false, receipts: new Map() };
            this.chats.set(id, chat);
        }
        if (chat.members.length === 0 && members.length > 0)
            chat.members = members;
        return chat;
    }
    /** Applies one update of the log (docs/PROTOCOL.md 6.3). Returns the conversation it changed. */
    apply(update) {
        const chat = this.chat(update.conversationId, membersOf(update.conversationId));
        if (update.kind === 'message' && update.message) {
            this.addMessage(chat, update.message);
            this.logged(chat, update.seq);
            if (update.message.event)
                this.applyEvent(chat, update.message);
            if (update.message.senderId === this.me)
                chat.readSeq = Math.max(chat.readSeq, update.seq);
            this.typing.get(chat.id)?.delete(update.message.senderId);
        }
        else if (update.kind === 'read') {
            chat.readSeq = Math.max(chat.readSeq, update.seq);
        }
        else if (update.kind === 'receipts') {
            for (const receipt of update.receipts ?? [])
                chat.receipts.set(receipt.seq, receipt);
        }
        else if (update.kind === 'mute') {
            chat.mutedUntil = update.mutedUntil;
        }
        return chat;
    }
    /**
     * Takes from the recent log, read once at start, only what the snapshot lacks: the receipts of my
     * messages, and which messages the log covered. Its messages, read marks and mutes are already in the
     * conversation list, and history brings the messages when a chat opens.
     */
    applyRecent(updates) {
        for (const update of updates) {
            const chat = this.chats.get(update.conversationId); // the list, read after the log's head, has them all
            if (!chat)
                continue;
            if (update.kind === 'message')
                this.logged(chat, update.seq);
            else if (update.kind === 'receipts')
                for (const receipt of update.receipts ?? [])
                    chat.receipts.set(receipt.seq, receipt);
        }
    }
    logged(chat, seq) {
        chat.receiptsFrom = Math.min(chat.receiptsFrom ?? seq, seq);
    }
    /** True while my mute of the conversation lasts (an ended mute is not marked by any update). */
    isMuted(chat, now) {
        return chat.mutedUntil !== undefined && Date.parse(chat.mutedUntil) > now;
    }
    /** What a group's membership event changes for the page: its title, and whether this user is still in it. */
    applyEvent(chat, message) {
        const event = message.event;
        if (event.title !== undefined && (event.type === 'created' || event.type === 'renamed'))
            chat.title = event.title;
        if ((event.type === 'created' || event.type === 'members_added') && event.userIds.includes(this.me))
            chat.left = false;
        if ((event.type === 'member_removed' && event.userIds.includes(this.me)) || (event.type === 'member_left' && message.senderId === this.me)) {
            chat.left = true;
        }
    }
    addMessage(chat, message) {
        if (!chat.messages.has(message.seq))
            chat.messages.set(message.seq, message);
        chat.lastSeq = Math.max(chat.lastSeq, message.seq);
        if (!chat.lastMessage || message.seq > chat.lastMessage.seq)
            chat.lastMessage = message;
    }
    /** Adds a page of history (ascending seq). */
    addHistory(chat, messages, hasMore, before) {
        for (const m of messages)
            this.addMessage(chat, m);
        if (messages.length > 0)
            chat.oldestLoaded = Math.min(chat.oldestLoaded ?? Infinity, messages[0].seq);
        if (before && !hasMore)
            chat.complete = true;
        if (!before && messages.length === 0)
            chat.complete = true;
    }
    unread(chat) {
        return Math.max(0, chat.lastSeq - chat.readSeq);
    }
    /** True for a group (`g:` ids), false for a direct conversation. */
    isGroup(chat) {
        return chat.id.startsWith('g:');
    }
    /** The other member of a direct conversation. */
    peer(chat) {
        return chat.members.find((m) => m !== this.me) ?? chat.members[0];
    }
    /** The users named by messages (their senders, and those a membership event is about), whose names the page shows. */
    people(messages) {
        const ids = new Set();
        for (const m of messages) {
            ids.add(m.senderId);
            for (const u of m.event?.userIds ?? [])
                ids.add(u);
        }
        return [...ids];
    }
    /** Conversations with the newest message first; those without messages last. */
    ordered() {
        return [...this.chats.values()].sort((a, b) => (b.lastMessage?.sentAt ?? '').localeCompare(a.lastMessage?.sentAt ?? ''));
    }
    /** Messages of a conversation in seq order. */
    messages(chat) {
        return [...chat.messages.values()].sort((a, b) => a.seq - b.seq);
    }
    contacts() {
        const ids = new Set();
        for (const chat of this.chats.values())
            for (const m of chat.members)
                if (m !== this.me)
                    ids.add(m);
        return [...ids];
    }
    /** Who is typing in a conversation now. */
    typists(conversationId, now) {
        const typing = this.typing.get(conversationId);
        if (!typing)
            return [];
        for (const [user, until] of typing)
            if (until <= now)
                typing.delete(user);
        return [...typing.keys()];
    }
    setTyping(conversationId, userId, typing, expiresInMs, now) {
        let map = this.typing.get(conversationId);
        if (!map)
            this.typing.set(conversationId, (map = new Map()));
        if (typing)
            map.set(userId, now + expiresInMs);
        else
            map.delete(userId);
    }
}
/** The members of a direct conversation, from its id (`d:{min}:{max}`). */
export function membersOf(conversationId) {
    const parts = conversationId.split(':');
    return parts[0] === 'd' && parts.length === 3 ? [parts[1], parts[2]] : [];
}
