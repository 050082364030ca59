// The sidebar's conversation list: each conversation a button with its name, presence dot, last message,
// muted mark and unread count, newest first.
import { $, element } from './dom.js';
import type { Model } from './model.js';
import type { Words } from './words.js';

// A conversation keeps its list item from one rendering to the next (only its contents and place change), so a tap
// that lands while an update redraws the list still presses the same button: with new buttons each time, a press that
// began on a button replaced before it ended clicked nothing.
const items = new Map<string, HTMLLIElement>();
let openChat: (id: string) => void = () => {};

export function renderConversationList(model: Model, words: Words, current: string | undefined, open: (id: string) => void): void {
  openChat = open;
  const now = Date.now();
  const shown = new Set<string>();
  const list = model.ordered().map((chat) => {
    shown.add(chat.id);
    const peer = model.isGroup(chat) ? undefined : model.peer(chat);
    const unread = model.unread(chat);
    const online = !!(peer && model.presence.get(peer)?.online);
    const muted = model.isMuted(chat, now);
    let item = items.get(chat.id);
    if (!item) {
      item = element('li');
      const created = element('button');
      created.type = 'button';
      created.dataset.conversationId = chat.id;
      created.addEventListener('click', () => openChat(chat.id));
      item.append(created);
      items.set(chat.id, item);
    }
    const button = item.firstElementChild as HTMLButtonElement;
    if (chat.id === current) button.setAttribute('aria-current', 'true');
    else button.removeAttribute('aria-current');
    button.classList.toggle('unread', unread > 0);
    const dot = element('span', online ? 'dot online' : 'dot');
    dot.setAttribute('aria-hidden', 'true');
    const preview = words.preview(chat);
    const name = words.chatName(chat);
    button.replaceChildren(dot, element('span', 'name', name), element('span', 'preview', preview));
    if (muted) button.append(element('span', 'muted-mark', 'muted'));
    if (unread > 0) button.append(element('span', 'badge', String(unread)));
    const status = model.isGroup(chat) ? 'group' : online ? 'online' : 'offline';
    button.setAttribute('aria-label', `${name}, ${status}${muted ? ', muted' : ''}${unread > 0 ? `, ${unread} unread` : ''}. ${preview}`);
    return item;
  });
  for (const id of [...items.keys()]) if (!shown.has(id)) items.delete(id);
  $('conversation-list').replaceChildren(...list);
}
