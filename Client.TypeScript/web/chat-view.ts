// The signed-in page: the conversation list and one open chat, kept current by a MessengerClient.
import {
  MessengerApi, MessengerClient, MessengerError, WebStorageStore, type Message, type OutboxEntry, type Session, type TransportMode,
} from '../src/index.js';
import { AccountView } from './account-view.js';
import { $, describeError, element, formatTime, lastSeen, showAlert, showStatus } from './dom.js';
import { Model, type ChatState } from './model.js';

const pageSize = 50;

/**
 * The page starts from a snapshot (the conversation list, then history pages as chats open), so it needs
 * the log only from the moment of the snapshot: the cursor starts at the user's newest userSeq, read
 * before the snapshot, and lives in memory. The outbox survives a reload of the tab (sessionStorage).
 */
class PageStore extends WebStorageStore {
  constructor(private cursor: number, prefix: string) {
    super(sessionStorage, prefix);
  }
  override loadCursor(): number { return this.cursor; }
  override saveCursor(cursor: number): void { this.cursor = cursor; }
}

export class ChatView {
  readonly token: string;
  private readonly api: MessengerApi;
  private readonly model: Model;
  private readonly account: AccountView;
  private client?: MessengerClient;
  private current?: string;
  private readonly failed = new Map<string, { entry: OutboxEntry; reason: string }>();
  private readonly reading = new Set<string>();
  private loadingEarlier = false;
  private typingTimer?: ReturnType<typeof setTimeout>;
  private readonly cleanups: (() => void)[] = [];
  private closed = false;

  /** `onEnded` runs when this session is over: logged out (here or from another device), expired, or the account deleted. */
  constructor(private readonly session: Session, private readonly onEnded: (message?: string) => void) {
    this.token = session.token;
    this.api = new MessengerApi({ baseUrl: location.origin, token: session.token });
    this.account = new AccountView(this.api, onEnded);
    this.model = new Model(session.userId);
    this.model.names.set(session.userId, session.username);
  }

  async start(): Promise<void> {
    $('me-name').textContent = this.session.username;
    this.bindControls();
    showStatus('Connecting…');
    const head = await this.api.sync(0, 1);
    const summaries = await this.api.conversations();
    this.model.loadSummaries(summaries);
    await this.resolveNames([...this.model.contacts(), ...this.model.people(summaries.flatMap((s) => (s.lastMessage ? [s.lastMessage] : [])))]);
    this.renderList();
    const transport = (new URLSearchParams(location.search).get('transport') ?? 'auto') as TransportMode;
    const client = new MessengerClient({
      baseUrl: location.origin, token: this.session.token, transport,
      store: new PageStore(head.userSeq, `messenger.${this.session.userId}.`),
    });
    this.client = client;
    client.on('update', async (update) => {
      const chat = this.model.apply(update);
      if (this.model.isGroup(chat)) await this.resolveNames(update.message ? this.model.people([update.message]) : []);
      else if (!this.model.names.has(this.model.peer(chat) ?? '')) await this.resolveNames(chat.members);
      this.changed(chat);
    });
    client.on('cursorReset', () => location.reload());
    client.on('presence', (p) => {
      this.model.presence.set(p.userId, p);
      this.renderList();
      this.renderHeader();
    });
    client.on('typing', (t) => {
      this.model.setTyping(t.conversationId, t.userId, t.typing, t.expiresInMs, Date.now());
      this.renderTyping();
    });
    client.on('sent', ({ entry, error }) => {
      if (error) {
        this.failed.set(entry.clientMsgId, { entry, reason: describeError(error, 'Not sent') });
        showAlert(describeError(error, 'Your message was not sent'));
      }
      if (entry.conversationId === this.current) this.renderMessages(false);
    });
    client.on('state', (state) => {
      if (state === 'online') showStatus(client.transport === 'longpoll' ? 'Connected (long-poll)' : undefined);
      else if (state === 'offline') showStatus('Offline — reconnecting…');
      else if (state === 'unauthorized') this.onEnded('This browser was logged out, or its session expired. Please log in again.');
    });
    client.on('error', (error) => {
      if (error.code !== 'closed') console.warn('messenger:', error.code, error.message);
    });
    const online = () => client.reconnectNow();
    const offline = () => client.dropConnection();
    window.addEventListener('online', online);
    window.addEventListener('offline', offline);
    this.cleanups.push(() => window.removeEventListener('online', online), () => window.removeEventListener('offline', offline));
    await client.start();
    await this.subscribePresence();
    const remembered = sessionStorage.getItem('messenger.open');
    if (remembered && this.model.chats.has(remembered)) await this.openChat(remembered);
  }

  close(): void {
    this.closed = true;
    this.client?.close();
    this.account.close();
    this.cleanups.forEach((c) => c());
    $('conversation-list').replaceChildren();
    $('messages').replaceChildren();
    $('chat').hidden = true;
    this.current = undefined;
  }

  // ---- controls ----------------------------------------------------------------------------------

  private bindControls(): void {
    const on = <K extends keyof HTMLElementEventMap>(id: string, event: K, handler: (e: HTMLElementEventMap[K]) => void) => {
      const target = $(id);
      target.addEventListener(event, handler as EventListener);
      this.cleanups.push(() => target.removeEventListener(event, handler as EventListener));
    };
    on('new-chat', 'submit', (e) => {
      e.preventDefault();
      void this.startChat();
    });
    on('composer', 'submit', (e) => {
      e.preventDefault();
      void this.send();
    });
    on('composer-text', 'keydown', (e) => {
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        void this.send();
      }
    });
    on('composer-text', 'input', () => {
      if (this.current && $<HTMLTextAreaElement>('composer-text').value.trim()) void this.client?.typing(this.current).catch(() => undefined);
    });
    on('load-earlier', 'click', () => void this.loadEarlier());
    on('message-scroller', 'scroll', () => {
      if ($('message-scroller').scrollTop < 40) void this.loadEarlier();
    });
    on('back-button', 'click', () => {
      this.current = undefined;
      sessionStorage.removeItem('messenger.open');
      $('app').classList.remove('in-chat');
      $('chat').hidden = true;
      $('empty').hidden = false;
      this.renderList();
    });
    this.account.bind();
    const visible = () => this.markRead();
    document.addEventListener('visibilitychange', visible);
    this.cleanups.push(() => document.removeEventListener('visibilitychange', visible));
  }

  private async startChat(): Promise<void> {
    const input = $<HTMLInputElement>('new-chat-username');
    const username = input.value.trim();
    if (!username) return;
    try {
      const user = await this.api.userByUsername(username);
      this.model.names.set(user.userId, user.username);
      const conversation = await this.api.openDirect(user.userId);
      this.model.chat(conversation.conversationId, conversation.members);
      input.value = '';
      await this.subscribePresence();
      await this.openChat(conversation.conversationId);
    } catch (error) {
      showAlert(describeError(error, `Could not open a chat with ${username}`));
    }
  }

  private async openChat(id: string): Promise<void> {
    this.current = id;
    sessionStorage.setItem('messenger.open', id);
    $('app').classList.add('in-chat');
    $('chat').hidden = false;
    $('empty').hidden = true;
    const chat = this.model.chat(id);
    this.renderList();
    this.renderHeader();
    this.renderTyping();
    this.renderMessages(true);
    if (chat.oldestLoaded === undefined && !chat.complete) {
      try {
        const page = await this.client!.history(id, { limit: pageSize });
        this.model.addHistory(chat, page.messages, page.hasMore, true);
        if (this.model.isGroup(chat)) await this.resolveNames(this.model.people(page.messages));
        if (page.messages.length === 0) chat.complete = true;
      } catch (error) {
        showAlert(describeError(error, 'Could not load the messages'));
      }
      if (this.current === id) this.renderMessages(true);
    }
    this.markRead();
    $<HTMLTextAreaElement>('composer-text').focus();
  }

  private async loadEarlier(): Promise<void> {
    const id = this.current;
    if (!id || this.loadingEarlier) return;
    const chat = this.model.chat(id);
    if (chat.complete || chat.oldestLoaded === undefined) return;
    this.loadingEarlier = true;
    const scroller = $('message-scroller');
    const fromBottom = scroller.scrollHeight - scroller.scrollTop;
    try {
      const page = await this.client!.history(id, { before: chat.oldestLoaded, limit: pageSize });
      this.model.addHistory(chat, page.messages, page.hasMore, true);
      if (this.model.isGroup(chat)) await this.resolveNames(this.model.people(page.messages));
      if (this.current === id) {
        this.renderMessages(false);
        scroller.scrollTop = scroller.scrollHeight - fromBottom; // keep what was on screen in place
      }
    } catch (error) {
      showAlert(describeError(error, 'Could not load earlier messages'));
    } finally {
      this.loadingEarlier = false;
    }
  }

  private async send(): Promise<void> {
    const box = $<HTMLTextAreaElement>('composer-text');
    const text = box.value;
    const id = this.current;
    if (!id || !text.trim() || !this.client) return;
    box.value = '';
    this.client.typingStopped(id);
    const sending = this.client.send(id, text);
    this.renderMessages(true); // shows it as "Sending…" from the outbox
    try {
      await sending;
    } catch {
      // The 'sent' event has told the person why.
    }
  }

  private markRead(): void {
    const id = this.current;
    if (!id || !this.client || document.visibilityState !== 'visible' || this.reading.has(id)) return;
    const chat = this.model.chat(id);
    if (chat.lastSeq <= chat.readSeq) return;
    this.reading.add(id);
    this.client.markRead(id, chat.lastSeq)
      .then((readSeq) => {
        chat.readSeq = Math.max(chat.readSeq, readSeq);
        this.renderList();
      })
      .catch(() => undefined)
      .finally(() => {
        this.reading.delete(id);
        if (this.current === id && chat.lastSeq > chat.readSeq && !this.closed) this.markRead();
      });
  }

  private async subscribePresence(): Promise<void> {
    const contacts = this.model.contacts().slice(0, 500);
    try {
      for (const p of await this.client!.subscribePresence(contacts)) this.model.presence.set(p.userId, p);
    } catch (error) {
      console.warn('presence:', error instanceof MessengerError ? error.code : error);
    }
    this.renderList();
    this.renderHeader();
  }

  private async resolveNames(userIds: readonly string[]): Promise<void> {
    await Promise.all(userIds.filter((id) => !this.model.names.has(id)).map(async (id) => {
      try {
        this.model.names.set(id, (await this.api.user(id)).username);
      } catch (error) {
        // A user who deleted their account is gone, but what they sent stays (PROTOCOL 4.14).
        const deleted = error instanceof MessengerError && error.code === 'user_not_found';
        if (deleted) this.model.names.set(id, 'deleted user');
      }
    }));
  }

  private changed(chat: ChatState): void {
    const isNewContact = chat.members.some((m) => m !== this.model.me && !this.model.presence.has(m));
    this.renderList();
    if (chat.id === this.current) {
      this.renderHeader(); // a group's title or membership may have changed
      this.renderMessages(this.nearBottom());
      this.renderTyping();
      this.markRead();
    }
    if (isNewContact) void this.subscribePresence();
  }

  // ---- rendering ---------------------------------------------------------------------------------

  private name(userId: string | undefined): string {
    return (userId && this.model.names.get(userId)) || 'unknown user';
  }

  /** A group's title, or the other member's name for a direct conversation. */
  private chatName(chat: ChatState): string {
    return this.model.isGroup(chat) ? chat.title || 'Group' : this.name(this.model.peer(chat));
  }

  /** A membership event in words: "Alice added Bob and Carol". */
  private describeEvent(message: Message): string {
    const event = message.event!;
    const actor = message.senderId === this.model.me ? 'You' : this.name(message.senderId);
    const who = event.userIds.map((u) => (u === this.model.me ? 'you' : this.name(u)));
    const list = who.length > 1 ? `${who.slice(0, -1).join(', ')} and ${who[who.length - 1]}` : (who[0] ?? '');
    switch (event.type) {
      case 'created': return `${actor} created the group “${event.title ?? ''}”`;
      case 'members_added': return `${actor} added ${list}`;
      case 'member_removed': return `${actor} removed ${list}`;
      case 'member_left': return `${actor} left`;
      case 'renamed': return `${actor} renamed the group to “${event.title ?? ''}”`;
      case 'role_changed': return `${actor} made ${list} ${event.role === 'member' ? 'a member' : `an ${event.role ?? 'admin'}`}`;
      default: return `${actor} changed the group`;
    }
  }

  private preview(chat: ChatState): string {
    const last = chat.lastMessage;
    if (!last) return 'No messages yet';
    if (last.event) return this.describeEvent(last);
    const mine = last.senderId === this.model.me;
    return `${mine ? 'You: ' : this.model.isGroup(chat) ? `${this.name(last.senderId)}: ` : ''}${last.text}`;
  }

  private renderList(): void {
    const list = $('conversation-list');
    const items = this.model.ordered().map((chat) => {
      const peer = this.model.isGroup(chat) ? undefined : this.model.peer(chat);
      const unread = this.model.unread(chat);
      const online = !!(peer && this.model.presence.get(peer)?.online);
      const button = element('button');
      button.type = 'button';
      button.dataset.conversationId = chat.id;
      if (chat.id === this.current) button.setAttribute('aria-current', 'true');
      if (unread > 0) button.classList.add('unread');
      const dot = element('span', online ? 'dot online' : 'dot');
      dot.setAttribute('aria-hidden', 'true');
      const preview = this.preview(chat);
      const name = this.chatName(chat);
      button.append(dot, element('span', 'name', name), element('span', 'preview', preview));
      if (unread > 0) button.append(element('span', 'badge', String(unread)));
      const status = this.model.isGroup(chat) ? 'group' : online ? 'online' : 'offline';
      button.setAttribute('aria-label', `${name}, ${status}${unread > 0 ? `, ${unread} unread` : ''}. ${preview}`);
      button.addEventListener('click', () => void this.openChat(chat.id));
      const item = element('li');
      item.append(button);
      return item;
    });
    list.replaceChildren(...items);
  }

  private renderHeader(): void {
    if (!this.current) return;
    const chat = this.model.chat(this.current);
    const group = this.model.isGroup(chat);
    const peer = group ? undefined : this.model.peer(chat);
    const presence = peer ? this.model.presence.get(peer) : undefined;
    $('chat-title').textContent = this.chatName(chat);
    $('chat-dot').className = presence?.online ? 'dot online' : 'dot';
    const status = group ? (chat.left ? 'you are no longer in this group' : 'group')
      : presence?.online ? 'online' : lastSeen(presence?.lastSeen, Date.now());
    $('chat-presence').textContent = status;
    $('chat-presence').dataset.online = String(!!presence?.online);
  }

  private renderTyping(): void {
    clearTimeout(this.typingTimer);
    const typing = $('typing');
    if (!this.current) return void (typing.textContent = '');
    const now = Date.now();
    const typists = this.model.typists(this.current, now);
    typing.textContent = typists.length ? `${typists.map((u) => this.name(u)).join(', ')} ${typists.length > 1 ? 'are' : 'is'} typing…` : '';
    const until = Math.min(...[...(this.model.typing.get(this.current)?.values() ?? [])]);
    if (Number.isFinite(until)) this.typingTimer = setTimeout(() => this.renderTyping(), Math.max(50, until - now));
  }

  private renderMessages(scrollToEnd: boolean): void {
    if (!this.current) return;
    const chat = this.model.chat(this.current);
    const items: HTMLLIElement[] = [];
    const delivered = new Set<string>();
    for (const message of this.model.messages(chat)) {
      if (message.event) {
        const item = element('li', 'event');
        item.dataset.seq = String(message.seq);
        item.append(element('span', 'meta', `${this.describeEvent(message)} · ${formatTime(message.sentAt)}`));
        items.push(item);
        continue;
      }
      const mine = message.senderId === this.model.me;
      if (mine) delivered.add(message.clientMsgId);
      const item = element('li', mine ? 'mine' : 'theirs');
      item.dataset.seq = String(message.seq);
      item.append(element('span', 'text', message.text),
        element('span', 'meta', `${mine ? '' : `${this.name(message.senderId)} · `}${formatTime(message.sentAt)}${mine ? ' · Sent' : ''}`));
      items.push(item);
    }
    for (const entry of this.client?.unsent ?? []) {
      if (entry.conversationId !== chat.id || delivered.has(entry.clientMsgId)) continue;
      const item = element('li', 'mine pending');
      item.append(element('span', 'text', entry.text), element('span', 'meta', 'Sending…'));
      items.push(item);
    }
    for (const { entry, reason } of this.failed.values()) {
      if (entry.conversationId !== chat.id) continue;
      const item = element('li', 'mine failed');
      item.append(element('span', 'text', entry.text), element('span', 'meta', reason));
      items.push(item);
    }
    $('messages').replaceChildren(...items);
    $('load-earlier').hidden = chat.complete || chat.oldestLoaded === undefined;
    if (scrollToEnd) {
      const scroller = $('message-scroller');
      scroller.scrollTop = scroller.scrollHeight;
    }
  }

  private nearBottom(): boolean {
    const scroller = $('message-scroller');
    return scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 80;
  }
}
