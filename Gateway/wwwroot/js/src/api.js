import { MessengerError } from './errors.js';
/**
 * The REST API (docs/PROTOCOL.md section 4), one method per endpoint. Errors are thrown as
 * {@link MessengerError} with the server's code; a request that gets no answer throws `network_error`.
 */
export class MessengerApi {
    options;
    baseUrl;
    fetch;
    constructor(options) {
        this.options = options;
        this.baseUrl = options.baseUrl.replace(/\/+$/, '');
        this.fetch = options.fetch ?? globalThis.fetch.bind(globalThis);
    }
    /** The same API with a device token. */
    withToken(token) {
        return new MessengerApi({ ...this.options, token });
    }
    /** Registers an account (it does not log in). */
    register(username, password) {
        return this.call('POST', '/v1/accounts', { username, password });
    }
    /**
     * Logs in one device; keep `deviceId` and send the same one on every login of this device.
     * `deviceName` is shown in the user's device list ("Firefox on Linux").
     */
    login(username, password, deviceId, deviceName) {
        return this.call('POST', '/v1/sessions', { username, password, deviceId, deviceName });
    }
    /** The user's logged-in devices, most recently active first; `current` marks the calling one. */
    async devices() {
        return (await this.call('GET', '/v1/devices')).devices;
    }
    /** Logs out one of the user's devices (this one included): its tokens stop working at once, its connections close. */
    logOutDevice(deviceId) {
        return this.call('DELETE', `/v1/devices/${encodeURIComponent(deviceId)}`);
    }
    /** Logs out the calling device. */
    logOut() {
        return this.call('DELETE', '/v1/sessions/current');
    }
    /** Deletes the account (the password again, so that a token alone cannot): every token stops working; what they sent stays in others' history. */
    deleteAccount(password) {
        return this.call('DELETE', '/v1/me', { password });
    }
    me() {
        return this.call('GET', '/v1/me');
    }
    user(userId) {
        return this.call('GET', `/v1/users/${encodeURIComponent(userId)}`);
    }
    userByUsername(username) {
        return this.call('GET', `/v1/users/by-username/${encodeURIComponent(username)}`);
    }
    /** Opens (creates or returns) the direct conversation with another user. */
    openDirect(userId) {
        return this.call('POST', '/v1/conversations/direct', { userId });
    }
    /**
     * Creates a group with the caller as its owner and `userIds` as its other members; its `created` event is
     * the group's first message (its userIds: every member, the caller first). Refused with `user_not_found`,
     * `group_full`, `invalid_request` (a title empty or too long, a user named twice).
     */
    createGroup(title, userIds) {
        return this.call('POST', '/v1/conversations/groups', { title, userIds });
    }
    /** Adds members to a group (admins and owners): `not_admin`, `already_member`, `user_not_found`, `group_full`. */
    addMembers(conversationId, userIds) {
        return this.call('POST', `/v1/conversations/${encodeURIComponent(conversationId)}/members`, { userIds });
    }
    /** Removes another member from a group (admins and owners; only an owner removes an owner): `not_admin`, `not_owner`, `member_not_found`. */
    removeMember(conversationId, userId) {
        return this.call('DELETE', `/v1/conversations/${encodeURIComponent(conversationId)}/members/${encodeURIComponent(userId)}`);
    }
    /** Gives a member a role (`not_admin`, `not_owner`, `member_not_found`, `last_owner`); the same role again changes nothing (no events). */
    setRole(conversationId, userId, role) {
        return this.call('PUT', `/v1/conversations/${encodeURIComponent(conversationId)}/members/${encodeURIComponent(userId)}/role`, { role });
    }
    /** Mutes a conversation for the caller until `until` (default: until unmuted); answers the end of the mute. */
    mute(conversationId, until) {
        return this.call('PUT', `/v1/conversations/${encodeURIComponent(conversationId)}/mute`, until === undefined ? {} : { until: new Date(until).toISOString() });
    }
    /** The server's VAPID public key: the `applicationServerKey` for `PushManager.subscribe` (4.18.1). */
    pushConfig() {
        return this.call('GET', '/v1/push/config');
    }
    /** Sets this device's push subscription to a browser's (pass `subscription.toJSON()`). */
    subscribeWebPush(subscription) {
        return this.call('PUT', '/v1/push/subscription', { webPush: { endpoint: subscription.endpoint, keys: subscription.keys } });
    }
    /** Sets this device's push subscription to a token at one of the server's configured webhooks. */
    subscribeWebhook(target, token) {
        return this.call('PUT', '/v1/push/subscription', { webhook: { target, token } });
    }
    /** Removes a device's push subscription (default: this device's). */
    async unsubscribePush(deviceId) {
        await this.call('DELETE', deviceId === undefined ? '/v1/push/subscription' : `/v1/push/subscriptions/${encodeURIComponent(deviceId)}`);
    }
    /** The user's push subscriptions, one per device that has one. */
    async pushSubscriptions() {
        return (await this.call('GET', '/v1/push/subscriptions')).subscriptions;
    }
    /** Turns the text preview in the user's notifications on or off. */
    setPushSettings(settings) {
        return this.call('PUT', '/v1/push/settings', settings);
    }
    /** What became of the caller's notifications for messages of a conversation after `after`. */
    async pushStatuses(conversationId, after = 0, limit) {
        return (await this.call('GET', `/v1/conversations/${encodeURIComponent(conversationId)}/push${queryString({ after, limit })}`)).notifications;
    }
    /** Unmutes a conversation for the caller. */
    unmute(conversationId) {
        return this.call('DELETE', `/v1/conversations/${encodeURIComponent(conversationId)}/mute`);
    }
    /** Renames a group (admins and owners). */
    renameGroup(conversationId, title) {
        return this.call('PATCH', `/v1/conversations/${encodeURIComponent(conversationId)}`, { title });
    }
    /**
     * The caller leaves a group. The last owner of a group that keeps members hands the owner role on first
     * (a `role_changed` event before the `member_left`).
     */
    leaveGroup(conversationId) {
        return this.call('POST', `/v1/conversations/${encodeURIComponent(conversationId)}/leave`);
    }
    async conversations() {
        return (await this.call('GET', '/v1/conversations')).conversations;
    }
    conversation(conversationId) {
        return this.call('GET', `/v1/conversations/${encodeURIComponent(conversationId)}`);
    }
    /** Who of the members a message was for has received it and who has read it. */
    messageReceipts(conversationId, seq) {
        return this.call('GET', `/v1/conversations/${encodeURIComponent(conversationId)}/messages/${seq}/receipts`);
    }
    history(conversationId, query = {}) {
        return this.call('GET', `/v1/conversations/${encodeURIComponent(conversationId)}/messages${queryString({ ...query })}`);
    }
    /** Sends a message; answers once it is durable. The same clientMsgId again returns the original ack. */
    send(conversationId, clientMsgId, text) {
        return this.call('POST', `/v1/conversations/${encodeURIComponent(conversationId)}/messages`, { clientMsgId, text });
    }
    markRead(conversationId, seq) {
        return this.call('POST', `/v1/conversations/${encodeURIComponent(conversationId)}/read`, { seq });
    }
    typing(conversationId) {
        return this.call('POST', `/v1/conversations/${encodeURIComponent(conversationId)}/typing`);
    }
    sync(after, limit) {
        return this.call('GET', `/v1/sync${queryString({ after, limit })}`);
    }
    /** In a body (POST /v1/presence/query): the ids in a URL outgrow what many proxies take long before the server's limit. */
    async presence(userIds) {
        return (await this.call('POST', '/v1/presence/query', { userIds })).users;
    }
    /** One long-poll (5.6): held up to `waitSeconds` (server default 25 s) unless there is news. */
    poll(after, options = {}) {
        return this.call('GET', `/v1/poll${queryString({ after, limit: options.limit, wait: options.waitSeconds })}`, undefined, { signal: options.signal, timeoutMs: options.timeoutMs });
    }
    /** Replaces the presence subscription of this device's poll session (long-poll only). */
    async subscribePollPresence(userIds) {
        return (await this.call('PUT', '/v1/poll/presence', { userIds })).users;
    }
    /** Sends one request; the answer's JSON, or a {@link MessengerError}. */
    async call(method, path, body, extra = {}) {
        const headers = { Accept: 'application/json' };
        if (this.options.token)
            headers.Authorization = `Bearer ${this.options.token}`;
        if (body !== undefined)
            headers['Content-Type'] = 'application/json';
        const timeout = AbortSignal.timeout(extra.timeoutMs ?? this.options.timeoutMs ?? 30_000);
        const signal = extra.signal ? AbortSignal.any([extra.signal, timeout]) : timeout;
        let response;
        try {
            response = await this.fetch(this.baseUrl + path, {
                method, headers, signal, body: body === undefined ? undefined : JSON.stringify(body),
            });
        }
        catch (error) {
            if (extra.signal?.aborted)
                throw new MessengerError('closed', 'the request was cancelled.');
            throw new MessengerError('network_error', `no answer from ${this.baseUrl}: ${describe(error)}`);
        }
        const text = await response.text().catch(() => '');
        if (response.ok)
            return (text ? JSON.parse(text) : undefined);
        throw problem(response, text);
    }
}
function problem(response, text) {
    let code = response.status >= 500 ? 'internal_error' : 'invalid_request';
    let detail = `${response.status} ${response.statusText}`;
    try {
        const body = JSON.parse(text);
        code = body.code ?? code;
        detail = body.detail ?? body.title ?? detail;
    }
    catch {
        // Not problem+json (a proxy answered): the status says enough.
    }
    if (response.status === 503 && code === 'internal_error')
        code = 'unavailable';
    const retryAfter = Number(response.headers.get('Retry-After'));
    return new MessengerError(code, detail, response.status, Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : undefined);
}
function queryString(query) {
    const parts = Object.entries(query).filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${v}`);
    return parts.length ? `?${parts.join('&')}` : '';
}
function describe(error) {
    if (error instanceof Error)
        return error.name === 'TimeoutError' ? 'timed out' : error.message;
    return String(error);
}
