// The signed-in page: the conversation list and one open chat, kept current by a MessengerClient.
import { MessengerApi, MessengerClient, MessengerError, WebStorageStore, } from '../src/index.js';
import { AccountView } from './account-view.js';
import { renderConversationList } from './conversation-list.js';
import { $, describeError, element, formatTime, lastSeen, showAlert, showStatus } from './dom.js';
import { GroupPanel } from './group-panel.js';
import { Model } from './model.js';
import { MuteControl } from './mute-control.js';
import { NewGroupForm } from './new-group.js';
import { Receipts } from './receipts.js';
import { Words } from './words.js';
const pageSize = 50;
/** How much of the log before the snapshot the page reads at start (one sync page): see start(). */
const recentUpdates = 500;
/**
 * The page starts from a snapshot (the conversation list, then history pages as chats open), so it needs
 * the log only from the moment of the snapshot: the cursor starts at the user's newest userSeq, read
 * before the snapshot, and lives in memory. The outbox survives a reload of the tab (sessionStorage).
 */
class PageStore extends WebStorageStore {
    cursor;
    constructor(cursor, prefix) {
        super(sessionStorage, prefix);
        this.cursor = cursor;
    }
    loadCursor() { return this.cursor; }
    saveCursor(cursor) { this.cursor = cursor; }
}
export class ChatView {
    session;
    onEnded;
    token;
    api;
    model;
    words;
    account;
    receipts;
    mute;
    groupPanel;
    newGroup;
    client;
    current;
    failed = new Map();
    reading = new Set();
    loadingEarlier = false;
    typingTimer;
    cleanups = [];
    closed = false;
    /** `onEnded` runs when this session is over: logged out (here or from another device), expired, or the account deleted. */
    constructor(session, onEnded) {
        this.session = session;
        this.onEnded = onEnded;
        this.token = session.token;
        this.api = new MessengerApi({ baseUrl: location.origin, token: session.token });
        this.account = new AccountView(this.api, onEnded);
        this.model = new Model(session.userId);
        this.model.names.set(session.userId, session.username);
        this.words = new Words(this.model);
        const names = (userIds) => this.resolveNames(userIds);
        const open = () => (this.current ? this.model.chat(this.current) : undefined);
        this.receipts = new Receipts(this.api, this.model, this.words, names, (id) => {
            if (id === this.current)
                this.renderMessages(false);
        });
        this.mute = new MuteControl(this.model, this.api, open, () => {
            this.renderList();
            this.renderHeader();
        });
        this.groupPanel = new GroupPanel(this.api, this.model, this.words, open, names);
        this.newGroup = new NewGroupForm(this.api, session.userId, async (change) => {
            const chat = this.model.chat(change.conversation.conversationId);
            chat.title = change.conversation.title; // its created event follows as an update
            await this.openChat(chat.id);
        });
    }
    async start() {
        $('me-name').textContent = this.session.username;
        this.bindControls();
        showStatus('Connecting…');
        const head = await this.api.sync(0, 1);
        const summaries = await this.api.conversations();
        this.model.loadSummaries(summaries);
        // The recent log before the snapshot, read once: the server counts what a device fetches as received
        // (PROTOCOL 4.16), so the senders of what the list shows see it delivered; and its receipts updates
        // give the state of my recent messages. Older ones are asked for as chats open (receipts.ts).
        if (head.userSeq > 0) {
            const recent = await this.api.sync(Math.max(0, head.userSeq - recentUpdates), recentUpdates);
            this.model.applyRecent(recent.updates.filter((u) => u.userSeq <= head.userSeq));
        }
        await this.resolveNames([...this.model.contacts(), ...this.model.people(summaries.flatMap((s) => (s.lastMessage ? [s.lastMessage] : [])))]);
        this.renderList();
        const transport = (new URLSearchParams(location.search).get('transport') ?? 'auto');
        const client = new MessengerClient({
            baseUrl: location.origin, token: this.session.token, transport,
            store: new PageStore(head.userSeq, `messenger.${this.session.userId}.`),
        });
        this.client = client;
        client.on('update', async (update) => {
            const chat = this.model.apply(update);
            if (update.kind === 'receipts')
                this.receipts.updated(chat.id, update.receipts);
            if (update.message?.event)
                this.groupPanel.refresh(chat.id);
            if (this.model.isGroup(chat))
                await this.resolveNames(update.message ? this.model.people([update.message]) : []);
            else if (!this.model.names.has(this.model.peer(chat) ?? ''))
                await this.resolveNames(chat.members);
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
            if (entry.conversationId === this.current)
                this.renderMessages(false);
        });
        client.on('state', (state) => {
            if (state === 'online')
                showStatus(client.transport === 'longpoll' ? 'Connected (long-poll)' : undefined);
            else if (state === 'offline')
                showStatus('Offline — reconnecting…');
            else if (state === 'unauthorized')
                this.onEnded('This browser was logged out, or its session expired. Please log in again.');
        });
        client.on('error', (error) => {
            if (error.code !== 'closed')
                console.warn('messenger:', error.code, error.message);
        });
        const online = () => client.reconnectNow();
        const offline = () => client.dropConnection();
        window.addEventListener('online', online);
        window.addEventListener('offline', offline);
        this.cleanups.push(() => window.removeEventListener('online', online), () => window.removeEventListener('offline', offline));
        await client.start();
        await this.subscribePresence();
        const remembered = sessionStorage.getItem('messenger.open');
        if (remembered && this.model.chats.has(remembered))
            await this.openChat(remembered);
    }
    close() {
        this.closed = true;
        this.client?.close();
        this.account.close();
        this.mute.close();
        this.groupPanel.close();
        this.newGroup.close();
        this.cleanups.forEach((c) => c());
        $('conversation-list').replaceChildren();
        $('messages').replaceChildren();
        $('chat').hidden = true;
        this.current = undefined;
    }
    // ---- controls ----------------------------------------------------------------------------------
    bindControls() {
        const on = (id, event, handler) => {
            const target = $(id);
            target.addEventListener(event, handler);
            this.cleanups.push(() => target.removeEventListener(event, handler));
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
            if (this.current && $('composer-text').value.trim())
                void this.client?.typing(this.current).catch(() => undefined);
        });
        on('load-earlier', 'click', () => void this.loadEarlier());
        on('message-scroller', 'scroll', () => {
            if ($('message-scroller').scrollTop < 40)
                void this.loadEarlier();
        });
        on('back-button', 'click', () => {
            this.groupPanel.close();
            this.mute.reset();
            this.receipts.reset();
            this.current = undefined;
            sessionStorage.removeItem('messenger.open');
            $('app').classList.remove('in-chat');
            $('chat').hidden = true;
            $('empty').hidden = false;
            this.renderList();
        });
        this.account.bind();
        this.mute.bind(on);
        this.groupPanel.bind(on);
        this.newGroup.bind(on);
        const visible = () => this.markRead();
        document.addEventListener('visibilitychange', visible);
        this.cleanups.push(() => document.removeEventListener('visibilitychange', visible));
    }
    async startChat() {
        const input = $('new-chat-username');
        const username = input.value.trim();
        if (!username)
            return;
        try {
            const user = await this.api.userByUsername(username);
            this.model.names.set(user.userId, user.username);
            const conversation = await this.api.openDirect(user.userId);
            this.model.chat(conversation.conversationId, conversation.members);
            input.value = '';
            await this.subscribePresence();
            await this.openChat(conversation.conversationId);
        }
        catch (error) {
            showAlert(describeError(error, `Could not open a chat with ${username}`));
        }
    }
    async openChat(id) {
        if (this.current !== id) {
            this.groupPanel.close();
            this.receipts.reset();
            this.mute.reset();
        }
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
        // Before the client is up, history waits: start() opens the remembered chat again once it is.
        if (chat.oldestLoaded === undefined && !chat.complete && this.client) {
            try {
                const page = await this.client.history(id, { limit: pageSize });
                this.model.addHistory(chat, page.messages, page.hasMore, true);
                if (this.model.isGroup(chat))
                    await this.resolveNames(this.model.people(page.messages));
                if (page.messages.length === 0)
                    chat.complete = true;
            }
            catch (error) {
                showAlert(describeError(error, 'Could not load the messages'));
            }
            if (this.current === id)
                this.renderMessages(true);
        }
        void this.receipts.fill(chat);
        this.markRead();
        $('composer-text').focus();
    }
    async loadEarlier() {
        const id = this.current;
        if (!id || this.loadingEarlier)
            return;
        const chat = this.model.chat(id);
        if (chat.complete || chat.oldestLoaded === undefined)
            return;
        this.loadingEarlier = true;
        const scroller = $('message-scroller');
        const fromBottom = scroller.scrollHeight - scroller.scrollTop;
        try {
            const page = await this.client.history(id, { before: chat.oldestLoaded, limit: pageSize });
            this.model.addHistory(chat, page.messages, page.hasMore, true);
            if (this.model.isGroup(chat))
                await this.resolveNames(this.model.people(page.messages));
            if (this.current === id) {
                this.renderMessages(false);
                scroller.scrollTop = scroller.scrollHeight - fromBottom; // keep what was on screen in place
            }
            void this.receipts.fill(chat);
        }
        catch (error) {
            showAlert(describeError(error, 'Could not load earlier messages'));
        }
        finally {
            this.loadingEarlier = false;
        }
    }
    async send() {
        const box = $('composer-text');
        const text = box.value;
        const id = this.current;
        if (!id || !text.trim() || !this.client)
            return;
        box.value = '';
        this.client.typingStopped(id);
        const sending = this.client.send(id, text);
        this.renderMessages(true); // shows it as "Sending…" from the outbox
        try {
            await sending;
        }
        catch {
            // The 'sent' event has told the person why.
        }
    }
    markRead() {
        const id = this.current;
        if (!id || !this.client || document.visibilityState !== 'visible' || this.reading.has(id))
            return;
        const chat = this.model.chat(id);
        if (chat.lastSeq <= chat.readSeq)
            return;
        this.reading.add(id);
        this.client.markRead(id, chat.lastSeq)
            .then((readSeq) => {
            chat.readSeq = Math.max(chat.readSeq, readSeq);
            this.renderList();
        })
            .catch(() => undefined)
            .finally(() => {
            this.reading.delete(id);
            if (this.current === id && chat.lastSeq > chat.readSeq && !this.closed)
                this.markRead();
        });
    }
    async subscribePresence() {
        const contacts = this.model.contacts().slice(0, 500);
        try {
            for (const p of await this.client.subscribePresence(contacts))
                this.model.presence.set(p.userId, p);
        }
        catch (error) {
            console.warn('presence:', error instanceof MessengerError ? error.code : error);
        }
        this.renderList();
        this.renderHeader();
    }
    async resolveNames(userIds) {
        await Promise.all(userIds.filter((id) => !this.model.names.has(id)).map(async (id) => {
            try {
                this.model.names.set(id, (await this.api.user(id)).username);
            }
            catch (error) {
                // A user who deleted their account is gone, but what they sent stays (PROTOCOL 4.14).
                const deleted = error instanceof MessengerError && error.code === 'user_not_found';
                if (deleted)
                    this.model.names.set(id, 'deleted user');
            }
        }));
    }
    changed(chat) {
        const isNewContact = chat.members.some((m) => m !== this.model.me && !this.model.presence.has(m));
        this.renderList();
        if (chat.id === this.current) {
            this.renderHeader(); // a group's title or membership may have changed
            this.renderMessages(this.nearBottom());
            this.renderTyping();
            this.markRead();
        }
        if (isNewContact)
            void this.subscribePresence();
    }
    // ---- rendering ---------------------------------------------------------------------------------
    renderList() {
        renderConversationList(this.model, this.words, this.current, (id) => void this.openChat(id));
        this.mute.watch();
    }
    renderHeader() {
        if (!this.current)
            return;
        const chat = this.model.chat(this.current);
        const group = this.model.isGroup(chat);
        const peer = group ? undefined : this.model.peer(chat);
        const presence = peer ? this.model.presence.get(peer) : undefined;
        $('chat-title').textContent = this.words.chatName(chat);
        $('chat-dot').className = presence?.online ? 'dot online' : 'dot';
        const status = group ? (chat.left ? 'you are no longer in this group' : 'group')
            : presence?.online ? 'online' : lastSeen(presence?.lastSeen, Date.now());
        $('chat-presence').textContent = status;
        $('chat-presence').dataset.online = String(!!presence?.online);
        this.mute.render(chat);
        // A former member of a group keeps its history but can neither manage it nor write to it.
        $('group-info-button').hidden = !group || chat.left;
        if (chat.left && this.groupPanel.shown === chat.id)
            this.groupPanel.close();
        const box = $('composer-text');
        box.disabled = chat.left;
        $('send-button').disabled = chat.left;
        box.placeholder = chat.left ? 'You can no longer send messages to this group' : 'Type a message';
    }
    renderTyping() {
        clearTimeout(this.typingTimer);
        const typing = $('typing');
        if (!this.current)
            return void (typing.textContent = '');
        const now = Date.now();
        const typists = this.model.typists(this.current, now);
        typing.textContent = typists.length ? `${typists.map((u) => this.words.name(u)).join(', ')} ${typists.length > 1 ? 'are' : 'is'} typing…` : '';
        const until = Math.min(...[...(this.model.typing.get(this.current)?.values() ?? [])]);
        if (Number.isFinite(until))
            this.typingTimer = setTimeout(() => this.renderTyping(), Math.max(50, until - now));
    }
    renderMessages(scrollToEnd) {
        if (!this.current)
            return;
        const chat = this.model.chat(this.current);
        const items = [];
        const delivered = new Set();
        // A who-read button keeps the keyboard through the redraw (receipts change it while focused).
        const focused = document.activeElement;
        const focusedReceipt = focused instanceof HTMLElement && $('messages').contains(focused) ? focused.dataset.seq : undefined;
        for (const message of this.model.messages(chat)) {
            if (message.event) {
                const item = element('li', 'event');
                item.dataset.seq = String(message.seq);
                item.append(element('span', 'meta', `${this.words.describeEvent(message)} · ${formatTime(message.sentAt)}`));
                items.push(item);
                continue;
            }
            const mine = message.senderId === this.model.me;
            if (mine)
                delivered.add(message.clientMsgId);
            const item = element('li', mine ? 'mine' : 'theirs');
            item.dataset.seq = String(message.seq);
            const meta = element('span', 'meta', `${mine ? '' : `${this.words.name(message.senderId)} · `}${formatTime(message.sentAt)}`);
            item.append(element('span', 'text', message.text), meta);
            if (mine) {
                const { mark, detail } = this.receipts.render(chat, message);
                meta.append(' · ', mark);
                if (detail)
                    item.append(detail);
            }
            items.push(item);
        }
        for (const entry of this.client?.unsent ?? []) {
            if (entry.conversationId !== chat.id || delivered.has(entry.clientMsgId))
                continue;
            const item = element('li', 'mine pending');
            item.append(element('span', 'text', entry.text), element('span', 'meta', 'Sending…'));
            items.push(item);
        }
        for (const { entry, reason } of this.failed.values()) {
            if (entry.conversationId !== chat.id)
                continue;
            const item = element('li', 'mine failed');
            item.append(element('span', 'text', entry.text), element('span', 'meta', reason));
            items.push(item);
        }
        $('messages').replaceChildren(...items);
        if (focusedReceipt)
            $('messages').querySelector(`button.receipt[data-seq="${focusedReceipt}"]`)?.focus();
        $('load-earlier').hidden = chat.complete || chat.oldestLoaded === undefined;
        if (scrollToEnd) {
            const scroller = $('message-scroller');
            scroller.scrollTop = scroller.scrollHeight;
        }
    }
    nearBottom() {
        const scroller = $('message-scroller');
        return scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 80;
    }
}
