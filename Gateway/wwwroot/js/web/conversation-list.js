// The sidebar's conversation list: each conversation a button with its name, presence dot, last message,
// muted mark and unread count, newest first.
import { $, element } from './dom.js';
export function renderConversationList(model, words, current, open) {
    const now = Date.now();
    const items = model.ordered().map((chat) => {
        const peer = model.isGroup(chat) ? undefined : model.peer(chat);
        const unread = model.unread(chat);
        const online = !!(peer && model.presence.get(peer)?.online);
        const muted = model.isMuted(chat, now);
        const button = element('button');
        button.type = 'button';
        button.dataset.conversationId = chat.id;
        if (chat.id === current)
            button.setAttribute('aria-current', 'true');
        if (unread > 0)
            button.classList.add('unread');
        const dot = element('span', online ? 'dot online' : 'dot');
        dot.setAttribute('aria-hidden', 'true');
        const preview = words.preview(chat);
        const name = words.chatName(chat);
        button.append(dot, element('span', 'name', name), element('span', 'preview', preview));
        if (muted)
            button.append(element('span', 'muted-mark', 'muted'));
        if (unread > 0)
            button.append(element('span', 'badge', String(unread)));
        const status = model.isGroup(chat) ? 'group' : online ? 'online' : 'offline';
        button.setAttribute('aria-label', `${name}, ${status}${muted ? ', muted' : ''}${unread > 0 ? `, ${unread} unread` : ''}. ${preview}`);
        button.addEventListener('click', () => open(chat.id));
        const item = element('li');
        item.append(button);
        return item;
    });
    $('conversation-list').replaceChildren(...items);
}
