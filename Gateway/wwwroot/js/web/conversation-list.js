// The sidebar's conversation list: each conversation a button with its name, presence dot, last message
// and unread count, newest first.
import { $, element } from './dom.js';
export function renderConversationList(model, words, current, open) {
    const items = model.ordered().map((chat) => {
        const peer = model.isGroup(chat) ? undefined : model.peer(chat);
        const unread = model.unread(chat);
        const online = !!(peer && model.presence.get(peer)?.online);
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
        if (unread > 0)
            button.append(element('span', 'badge', String(unread)));
        const status = model.isGroup(chat) ? 'group' : online ? 'online' : 'offline';
        button.setAttribute('aria-label', `${name}, ${status}${unread > 0 ? `, ${unread} unread` : ''}. ${preview}`);
        button.addEventListener('click', () => open(chat.id));
        const item = element('li');
        item.append(button);
        return item;
    });
    $('conversation-list').replaceChildren(...items);
}
