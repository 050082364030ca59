import { MessengerApi } from './api.js';
import { Backoff, sleep } from './backoff.js';
import { MessengerError } from './errors.js';
import { Emitter } from './events.js';
import { requestOverRest } from './rest-requests.js';
import { HandshakeError, SocketConnection } from './socket.js';
import { MemoryStore } from './store.js';
/**
 * One device's real-time connection (docs/PROTOCOL.md sections 5 to 7). It delivers every update of the
 * user's log exactly once and in userSeq order (the `update` event), whatever happens to the connection:
 * it reconnects with backoff, catches up from the stored cursor, syncs when a push reveals a gap, resets
 * when the server does not know the cursor, and sends requests that got no answer again after a
 * reconnect. Sends go through an outbox and are retried with the same clientMsgId until acked.
 */
export class MessengerClient {
    options;
    api;
    events = new Emitter();
    store;
    abort = new AbortController();
    wake = new AbortController();
    pending = new Map();
    outbox = new Map();
    sending = new Map();
    lastTyping = new Map();
    mode;
    socket;
    applying = Promise.resolve();
    watched = [];
    /** The newest presence push of each watched user, numbered in arrival order (see subscribePresence). */
    pushedPresence = new Map();
    presenceSeen = 0;
    nextId = 0;
    currentState = 'connecting';
    firstConnection;
    started = false;
    /** The last applied userSeq: every update up to it went through the `update` listeners. */
    cursor = 0;
    /** From the server's hello (or `GET /v1/me` over long-poll). */
    userId = '';
    deviceId = '';
    /** The largest frame the server accepts (from hello; 0 over long-poll). */
    maxFrameBytes = 0;
    constructor(options) {
        this.options = options;
        this.api = new MessengerApi({ baseUrl: options.baseUrl, token: options.token, fetch: options.fetch });
        this.store = options.store ?? new MemoryStore();
        this.mode = options.transport === 'longpoll' ? 'longpoll' : 'websocket';
        let resolve;
        let reject;
        const promise = new Promise((res, rej) => ((resolve = res), (reject = rej)));
        promise.catch(() => undefined);
        this.firstConnection = { resolve, reject, promise };
    }
    /** Creates a client, starts it, and waits for its first connection. */
    static async connect(options) {
        const client = new MessengerClient(options);
        await client.start();
        return client;
    }
    /** Adds a listener; returns a function that removes it. Add listeners before {@link start}. */
    on(event, listener) {
        return this.events.on(event, listener);
    }
    get state() {
        return this.currentState;
    }
    /** The transport in use now. */
    get transport() {
        return this.mode;
    }
    /** Loads the cursor and the outbox, connects, and resolves once connected (rejects if the token is refused). */
    async start() {
        if (!this.started) {
            this.started = true;
            this.cursor = await this.store.loadCursor();
            for (const entry of (await this.store.loadOutbox?.()) ?? [])
                this.outbox.set(entry.clientMsgId, entry);
            void this.run();
            for (const entry of this.outbox.values())
                void this.deliver(entry).catch(() => undefined);
        }
        await this.firstConnection.promise;
    }
    /** Messages the server has not acknowledged yet, oldest first. */
    get unsent() {
        return [...this.outbox.values()];
    }
    /**
     * Sends a message: it goes into the outbox (and the store) first, then to the server, again and again
     * with the same clientMsgId until acked. Resolves with the ack (the message itself arrives as an
     * update); rejects only if the server refuses it for good (`not_member`, `invalid_request`, `too_large`, ...).
     */
    async send(conversationId, text, clientMsgId = newClientMsgId()) {
        const entry = { conversationId, clientMsgId, text };
        if (!this.outbox.has(clientMsgId)) {
            this.outbox.set(clientMsgId, entry);
            await this.saveOutbox();
        }
        return this.deliver(entry);
    }
    /** A page of a conversation's history (neither cursor: the newest page). */
    async history(conversationId, query = {}) {
        const { type: _, id: __, ...page } = await this.request({ type: 'history', conversationId, ...query }, 'history_result');
        return page;
    }
    /** Moves the read mark forward; resolves with the mark now in force. */
    async markRead(conversationId, seq) {
        return (await this.request({ type: 'read', conversationId, seq }, 'read_result')).readSeq;
    }
    /** One page of the update log after a cursor (the client catches up by itself; this is for inspection). */
    async sync(after, limit) {
        const { type: _, id: __, ...page } = await this.request({ type: 'sync', after, limit }, 'sync_result');
        return page;
    }
    /** The current presence of contacts. */
    async queryPresence(userIds) {
        return (await this.request({ type: 'presence_query', userIds: [...userIds] }, 'presence_result')).users;
    }
    /**
     * Replaces the presence subscription with these users (empty: none) and resolves with their statuses.
     * Changes then arrive as `presence` events; the client subscribes again by itself after every reconnect.
     * A change pushed while the request was on its way is newer than the server's answer, and replaces it
     * in what this resolves with (docs/PROTOCOL.md section 7).
     */
    async subscribePresence(userIds) {
        this.watched = [...userIds];
        const watched = new Set(this.watched);
        for (const userId of [...this.pushedPresence.keys()])
            if (!watched.has(userId))
                this.pushedPresence.delete(userId);
        const begun = this.presenceSeen;
        const answer = (await this.request({ type: 'presence_subscribe', userIds: this.watched }, 'presence_result')).users;
        return answer.map((p) => {
            const pushed = this.pushedPresence.get(p.userId);
            return pushed && pushed.seen > begun ? pushed.presence : p;
        });
    }
    /**
     * Tells the other members this user is typing. Call it on every keystroke: it signals at most once per
     * 2.5 s per conversation, which keeps the indicator on at the other side without being rate limited.
     */
    async typing(conversationId) {
        const now = Date.now();
        if (now - (this.lastTyping.get(conversationId) ?? 0) < 2500)
            return;
        this.lastTyping.set(conversationId, now);
        try {
            await this.request({ type: 'typing', conversationId }, 'typing_result');
        }
        catch (error) {
            if (!(error instanceof MessengerError && error.code === 'rate_limited'))
                throw error;
        }
    }
    /** Stops the typing throttle for a conversation (after sending, the server has ended the indicator). */
    typingStopped(conversationId) {
        this.lastTyping.delete(conversationId);
    }
    // Group commands. Each answers with the group after it and the events it appended (the caller's acks);
    // the events themselves arrive, like messages, as updates on every member's devices. A command that got
    // no answer before the connection dropped goes out again after the reconnect, like any request. They have
    // no idempotency key: if the first had been carried out, the second is refused (`already_member`,
    // `member_not_found`, `not_member`), changes nothing (a role), or is done again (a create, a rename).
    /** Creates a group with this user as its owner (see {@link MessengerApi.createGroup}). */
    async createGroup(title, userIds) {
        return this.groupCommand({ type: 'group_create', title, userIds: [...userIds] });
    }
    /** Adds members to a group (admins and owners). */
    async addMembers(conversationId, userIds) {
        return this.groupCommand({ type: 'group_add', conversationId, userIds: [...userIds] });
    }
    /** Removes another member from a group (admins and owners). */
    async removeMember(conversationId, userId) {
        return this.groupCommand({ type: 'group_remove', conversationId, userId });
    }
    /** Leaves a group. */
    async leaveGroup(conversationId) {
        return this.groupCommand({ type: 'group_leave', conversationId });
    }
    /** Mutes a conversation for this user (every device of theirs gets a `mute` update) until `until`, or until unmuted. */
    async mute(conversationId, until) {
        const frame = until === undefined
            ? { type: 'mute', conversationId, muted: true }
            : { type: 'mute', conversationId, muted: true, until: new Date(until).toISOString() };
        const { type: _, id: __, ...state } = await this.request(frame, 'mute_result');
        return state;
    }
    /** Unmutes a conversation for this user. */
    async unmute(conversationId) {
        const { type: _, id: __, ...state } = await this.request({ type: 'mute', conversationId, muted: false }, 'mute_result');
        return state;
    }
    /** Renames a group (admins and owners). */
    async renameGroup(conversationId, title) {
        return this.groupCommand({ type: 'group_rename', conversationId, title });
    }
    /** Gives a member of a group a role; the role they have already changes nothing (no events). */
    async setRole(conversationId, userId, role) {
        return this.groupCommand({ type: 'group_role', conversationId, userId, role });
    }
    async groupCommand(frame) {
        const { type: _, id: __, ...change } = await this.request(frame, 'group_result');
        return change;
    }
    /** A round trip to the server. */
    async ping() {
        await this.request({ type: 'ping' }, 'pong');
    }
    /** Resolves once every update received so far has gone through the `update` listeners. */
    idle() {
        return this.applying;
    }
    /**
     * Reconnects now if the client is waiting to reconnect (a page calls this when the browser comes back
     * online), instead of waiting out the backoff.
     */
    reconnectNow() {
        const wake = this.wake;
        this.wake = new AbortController();
        wake.abort();
    }
    /** Drops the current connection as a network failure would (the client reconnects); for tests and diagnostics. */
    dropConnection() {
        this.socket?.close(4000, 'dropped by the client');
    }
    /** Ends the connection for good; requests still waiting fail with `closed`. */
    close() {
        if (this.currentState === 'closed')
            return;
        this.abort.abort();
        this.wake.abort();
        this.socket?.close();
        for (const pending of this.pending.values())
            pending.reject(new MessengerError('closed', 'the client was closed.'));
        this.pending.clear();
        this.setState('closed');
        this.firstConnection.reject(new MessengerError('closed', 'the client was closed.'));
    }
    // ---- requests ------------------------------------------------------------------------------
    // A request answered `unavailable` goes out again after a backoff, within the request timeout.
    async request(frame, reply) {
        const deadline = Date.now() + (this.options.requestTimeoutMs ?? 30_000);
        const backoff = new Backoff(100, 2000);
        for (;;) {
            try {
                const answer = await this.requestOnce(frame, deadline - Date.now());
                if (answer.type !== reply)
                    throw new MessengerError('internal_error', `expected ${reply}, got ${answer.type}`);
                return answer;
            }
            catch (error) {
                const delay = backoff.take();
                if (!(error instanceof MessengerError) || error.code !== 'unavailable' || Date.now() + delay >= deadline)
                    throw error;
                await sleep(delay, this.abort.signal);
            }
        }
    }
    requestOnce(frame, timeoutMs) {
        if (this.abort.signal.aborted)
            return Promise.reject(new MessengerError('closed', 'the client was closed.'));
        if (this.mode === 'longpoll')
            return this.overRest(frame, timeoutMs);
        const id = `r${++this.nextId}`;
        const withId = { ...frame, id };
        return new Promise((resolve, reject) => {
            const timer = setTimeout(() => {
                this.pending.delete(id);
                reject(new MessengerError('network_error', `no answer to ${frame.type} within ${Math.round(timeoutMs)} ms.`));
            }, Math.max(0, timeoutMs));
            this.pending.set(id, {
                frame: withId,
                resolve: (answer) => (clearTimeout(timer), this.pending.delete(id), resolve(answer)),
                reject: (error) => (clearTimeout(timer), this.pending.delete(id), reject(error)),
            });
            // While the socket is down the request waits; it goes out after the next hello.
            this.socket?.send(JSON.stringify(withId));
        });
    }
    async overRest(frame, timeoutMs) {
        const api = new MessengerApi({ baseUrl: this.options.baseUrl, token: this.options.token, fetch: this.options.fetch, timeoutMs: Math.max(1, timeoutMs) });
        return requestOverRest(api, frame);
    }
    async deliver(entry) {
        const running = this.sending.get(entry.clientMsgId);
        if (running)
            return running;
        const attempt = (async () => {
            const backoff = new Backoff(this.options.minReconnectDelayMs ?? 100, this.options.maxReconnectDelayMs ?? 5000);
            for (;;) {
                try {
                    const answer = await this.request({ type: 'send', ...entry }, 'ack');
                    const { type: _, id: __, ...ack } = answer;
                    await this.settle(entry, { entry, ack });
                    return ack;
                }
                catch (error) {
                    const failure = error instanceof MessengerError ? error : new MessengerError('internal_error', String(error));
                    // A client that stopped (closed, or its token refused for good) keeps the entry in its outbox: a
                    // new client with the same store sends it after the next login.
                    if (failure.code === 'closed' || this.abort.signal.aborted)
                        throw failure;
                    if (!failure.retryable) {
                        await this.settle(entry, { entry, error: failure });
                        throw failure;
                    }
                    await sleep(backoff.take(), this.abort.signal);
                }
            }
        })();
        this.sending.set(entry.clientMsgId, attempt);
        try {
            return await attempt;
        }
        finally {
            this.sending.delete(entry.clientMsgId);
        }
    }
    async settle(entry, outcome) {
        this.outbox.delete(entry.clientMsgId);
        await this.saveOutbox();
        this.events.emit('sent', outcome);
    }
    async saveOutbox() {
        await this.store.saveOutbox?.([...this.outbox.values()]);
    }
    // ---- connection ----------------------------------------------------------------------------
    async run() {
        const backoff = new Backoff(this.options.minReconnectDelayMs ?? 100, this.options.maxReconnectDelayMs ?? 5000);
        let refusedWithRestWorking = 0;
        while (!this.abort.signal.aborted) {
            if (this.mode === 'longpoll')
                return this.pollLoop();
            let atOnce = false;
            try {
                const { connection, hello } = await SocketConnection.open(this.socketUrl(), this.webSocket(), (f) => this.onFrame(f), this.options.requestTimeoutMs ?? 30_000);
                if (this.abort.signal.aborted)
                    return connection.close();
                refusedWithRestWorking = 0;
                backoff.reset();
                this.socket = connection;
                this.onConnected(hello);
                const keepAlive = this.keepAlive(connection);
                const end = await connection.ended;
                keepAlive.stop();
                this.socket = undefined;
                if (this.abort.signal.aborted)
                    return;
                this.setState('offline');
                if (end.code === 4001) {
                    // This device was logged out (or its account deleted): its token will never work again.
                    return this.refuseToken(new MessengerError('logged_out', 'this device was logged out; log in again.', 401));
                }
                atOnce = end.code === 1012; // the gateway is restarting: go elsewhere at once (docs/PROTOCOL.md 5.5)
            }
            catch (error) {
                if (this.abort.signal.aborted)
                    return;
                if (error instanceof HandshakeError && !error.opened) {
                    // A browser cannot see why a handshake failed: REST tells a refused token, a server that is away,
                    // and something on the way that does not pass WebSockets apart.
                    const verdict = await this.probe();
                    if (verdict === 'unauthorized')
                        return;
                    if (verdict === 'rest works' && this.options.transport !== 'websocket' && ++refusedWithRestWorking >= 2) {
                        this.switchToLongPoll();
                        continue;
                    }
                }
                if (this.currentState === 'online')
                    this.setState('offline');
            }
            if (!atOnce)
                await sleep(backoff.take(), this.wake.signal);
        }
    }
    onConnected(hello) {
        this.userId = hello.userId;
        this.deviceId = hello.deviceId;
        this.maxFrameBytes = hello.maxFrameBytes;
        // 6.3: a cursor the server never issued means its data was reset; then catch up from the cursor.
        if (this.cursor > hello.userSeq)
            this.enqueue(() => this.reset());
        this.enqueue(() => this.catchUp());
        for (const pending of this.pending.values())
            this.socket?.send(JSON.stringify(pending.frame));
        this.afterConnect();
    }
    afterConnect() {
        this.setState('online');
        this.firstConnection.resolve();
        if (this.watched.length > 0) {
            void this.subscribePresence(this.watched)
                .then((users) => users.forEach((u) => this.events.emit('presence', u)))
                .catch(() => undefined);
        }
    }
    keepAlive(connection) {
        const interval = this.options.pingIntervalMs ?? 25_000;
        const timer = setInterval(() => {
            this.requestOnce({ type: 'ping' }, 10_000).catch(() => connection.close(4000, 'no pong'));
        }, interval);
        return { stop: () => clearInterval(timer) };
    }
    async probe() {
        try {
            const me = await this.api.me();
            this.userId = me.userId;
            return 'rest works';
        }
        catch (error) {
            if (error instanceof MessengerError && error.status === 401) {
                this.refuseToken(error);
                return 'unauthorized';
            }
            return 'away';
        }
    }
    refuseToken(error) {
        this.setState('unauthorized');
        this.events.emit('error', error);
        this.firstConnection.reject(error);
        this.abort.abort();
        for (const pending of this.pending.values())
            pending.reject(error);
    }
    switchToLongPoll() {
        this.mode = 'longpoll';
        // Requests waiting for a socket go over REST now.
        for (const pending of [...this.pending.values()]) {
            this.overRest(pending.frame, this.options.requestTimeoutMs ?? 30_000).then(pending.resolve, (e) => pending.reject(e instanceof MessengerError ? e : new MessengerError('internal_error', String(e))));
        }
    }
    /**
     * Long-polls from the cursor until closed. Updates go to the same apply loop as a socket's pushes, so
     * order, gaps and duplicates are handled in one place; events go out as `presence` and `typing`.
     */
    async pollLoop() {
        const backoff = new Backoff(this.options.minReconnectDelayMs ?? 100, this.options.maxReconnectDelayMs ?? 5000);
        let polling = false;
        let after = this.cursor;
        while (!this.abort.signal.aborted) {
            try {
                // The first poll after (re)connecting answers at once, so that connecting does not wait for the hold.
                const result = await this.api.poll(after, {
                    limit: this.options.syncPageSize, waitSeconds: polling ? undefined : 0, signal: this.abort.signal,
                    timeoutMs: this.options.longPollTimeoutMs ?? 60_000,
                });
                backoff.reset();
                if (!polling) {
                    polling = true;
                    if (!this.userId)
                        this.userId = (await this.api.me()).userId;
                    if (this.cursor > result.userSeq)
                        this.enqueue(() => this.reset());
                    this.afterConnect();
                }
                if (result.updates.length > 0) {
                    const updates = result.updates;
                    this.enqueue(() => this.applyUpdates(updates));
                    after = updates[updates.length - 1].userSeq;
                }
                for (const event of result.events)
                    this.onEvent(event);
                continue;
            }
            catch (error) {
                if (this.abort.signal.aborted)
                    return;
                if (error instanceof MessengerError && error.status === 401)
                    return this.refuseToken(error);
                if (error instanceof MessengerError && error.code === 'out_of_range' && after > 0) {
                    // The server's log is behind this cursor: the apply loop starts over; polling goes on from 0.
                    this.enqueue(() => this.reset());
                    after = 0;
                    continue;
                }
                if (polling) {
                    polling = false;
                    this.setState('offline');
                }
                after = this.cursor;
            }
            await sleep(backoff.take(), this.wake.signal);
        }
    }
    onFrame(frame) {
        const id = 'id' in frame ? frame.id : undefined;
        const pending = id === undefined ? undefined : this.pending.get(id);
        if (pending) {
            if (frame.type === 'error')
                pending.reject(new MessengerError(frame.code, frame.message));
            else
                pending.resolve(frame);
            return;
        }
        switch (frame.type) {
            case 'updates': {
                const updates = frame.updates;
                this.enqueue(() => this.applyUpdates(updates));
                return;
            }
            case 'presence':
            case 'typing':
                return this.onEvent(frame);
            case 'error':
                if (id === undefined)
                    this.events.emit('error', new MessengerError(frame.code, frame.message));
                return;
        }
    }
    onEvent(event) {
        if (event.type === 'presence') {
            for (const user of event.users) {
                this.pushedPresence.set(user.userId, { seen: ++this.presenceSeen, presence: user });
                this.events.emit('presence', user);
            }
        }
        else if (event.type === 'typing')
            this.events.emit('typing', event);
    }
    // ---- applying updates: the one place the cursor moves (docs/PROTOCOL.md 6.3) ------------------
    enqueue(work) {
        this.applying = this.applying.then(work).catch((error) => {
            if (this.abort.signal.aborted)
                return;
            this.events.emit('error', error instanceof MessengerError ? error : new MessengerError('internal_error', String(error)));
        });
    }
    async applyUpdates(updates) {
        for (const update of updates) {
            if (update.userSeq <= this.cursor)
                continue;
            if (update.userSeq > this.cursor + 1)
                await this.catchUp(); // the catch-up brings this one too
            else
                await this.apply(update);
        }
    }
    async catchUp() {
        while (!this.abort.signal.aborted) {
            let page;
            try {
                page = await this.sync(this.cursor, this.options.syncPageSize);
            }
            catch (error) {
                if (error instanceof MessengerError && error.code === 'out_of_range' && this.cursor > 0) {
                    await this.reset();
                    continue;
                }
                throw error;
            }
            for (const update of page.updates)
                if (update.userSeq === this.cursor + 1)
                    await this.apply(update);
            if (!page.hasMore)
                return;
        }
    }
    async apply(update) {
        await this.events.emitInOrder('update', update);
        this.cursor = update.userSeq;
        await this.store.saveCursor(this.cursor);
        this.events.emit('cursor', this.cursor);
    }
    async reset() {
        await this.events.emitInOrder('cursorReset', undefined);
        this.cursor = 0;
        await this.store.saveCursor(0);
        this.events.emit('cursor', 0);
    }
    setState(state) {
        if (this.currentState === state || this.currentState === 'closed' || this.currentState === 'unauthorized')
            return;
        this.currentState = state;
        this.events.emit('state', state);
    }
    socketUrl() {
        const url = new URL('/v1/ws', this.api.baseUrl);
        url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
        url.searchParams.set('access_token', this.options.token);
        return url.toString();
    }
    webSocket() {
        const implementation = this.options.WebSocket ?? globalThis.WebSocket;
        if (!implementation) {
            throw new MessengerError('invalid_request', 'no WebSocket implementation: pass options.WebSocket, or use transport "longpoll" (Node 20 needs --experimental-websocket).');
        }
        return implementation;
    }
}
function newClientMsgId() {
    return globalThis.crypto.randomUUID();
}
