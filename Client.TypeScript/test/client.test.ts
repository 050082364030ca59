// The TypeScript client against the real gateway process: REST, the WebSocket, long-poll behind a
// proxy that refuses WebSockets, reconnects, catch-up from a stored cursor, idempotent sends from the
// outbox, presence and typing, groups, and the server's refusals as MessengerErrors with their codes.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  MemoryStore, MessengerApi, MessengerClient, MessengerError, type MessengerClientOptions, type Presence, type TypingEvent, type Update,
} from '../src/index.js';
import { barrier, newUser, startNoWebSocketProxy, startServer, type TestServer, type TestUser } from './server.js';

let server: TestServer;
let proxy: TestServer;
const clients: MessengerClient[] = [];

before(async () => {
  server = await startServer();
  proxy = await startNoWebSocketProxy(server.url);
});

after(async () => {
  for (const client of clients) client.close();
  await proxy?.stop();
  await server?.stop();
});

/** A started client whose updates, presence and typing events are recorded. */
async function connect(token: string, options: Partial<MessengerClientOptions> = {}) {
  const client = new MessengerClient({ baseUrl: server.url, token, ...options });
  clients.push(client);
  const updates: Update[] = [];
  const presence: Presence[] = [];
  const typing: TypingEvent[] = [];
  const waiters = new Set<() => void>();
  const changed = () => waiters.forEach((w) => w());
  client.on('update', (u) => void (updates.push(u), changed()));
  client.on('presence', (p) => void (presence.push(p), changed()));
  client.on('typing', (t) => void (typing.push(t), changed()));
  client.on('cursor', changed);
  client.on('cursorReset', () => void (updates.length = 0));
  await client.start();
  return {
    client, updates, presence, typing,
    async until(condition: () => boolean, what: string) {
      const b = barrier(condition, what);
      waiters.add(b.check);
      try {
        await b.done;
      } finally {
        waiters.delete(b.check);
      }
    },
    texts: () => updates.filter((u) => u.kind === 'message').map((u) => u.message!.text),
  };
}

async function pair(): Promise<{ alice: TestUser; bob: TestUser; conversationId: string; aliceApi: MessengerApi }> {
  const alice = await newUser(server.url, 'alice');
  const bob = await newUser(server.url, 'bob');
  const aliceApi = new MessengerApi({ baseUrl: server.url, token: await alice.login('alice-setup') });
  const conversation = await aliceApi.openDirect(bob.userId);
  return { alice, bob, conversationId: conversation.conversationId, aliceApi };
}

function assertGapless(updates: Update[]) {
  updates.forEach((u, i) => assert.equal(u.userSeq, i + 1, `update ${i} has userSeq ${u.userSeq}`));
}

describe('REST', () => {
  test('register, log in, open a direct conversation, send, page history and sync', async () => {
    const { bob, conversationId, aliceApi } = await pair();
    const first = await aliceApi.send(conversationId, 'm-1', 'Hi Bob!');
    const again = await aliceApi.send(conversationId, 'm-1', 'Hi Bob! (retry)');
    assert.equal(first.seq, 1);
    assert.equal(again.seq, 1);
    assert.equal(again.duplicate, true);
    assert.deepEqual(first.offlineRecipients, [bob.userId]);
    await aliceApi.send(conversationId, 'm-2', 'second');
    const newest = await aliceApi.history(conversationId, { limit: 1 });
    assert.deepEqual(newest.messages.map((m) => m.text), ['second']);
    assert.equal(newest.hasMore, true);
    const older = await aliceApi.history(conversationId, { before: newest.messages[0].seq });
    assert.deepEqual(older.messages.map((m) => m.text), ['Hi Bob!']);
    const bobApi = new MessengerApi({ baseUrl: server.url, token: await bob.login() });
    const page = await bobApi.sync(0);
    assert.deepEqual(page.updates.map((u) => u.message?.text), ['Hi Bob!', 'second']);
    const list = await bobApi.conversations();
    assert.equal(list[0].unread, 2);
    assert.equal((await bobApi.markRead(conversationId, 2)).readSeq, 2);
    assert.equal((await bobApi.conversations())[0].unread, 0);
  });

  test("the server's refusals arrive as MessengerErrors with their stable codes", async () => {
    const { alice, conversationId, aliceApi } = await pair();
    const anonymous = new MessengerApi({ baseUrl: server.url });
    const carol = await newUser(server.url, 'carol');
    const carolApi = anonymous.withToken(await carol.login());
    const refusals: [() => Promise<unknown>, string, number][] = [
      [() => anonymous.register(alice.username, 'whatever-password'), 'username_taken', 409],
      [() => anonymous.login(alice.username, 'wrong-password'), 'invalid_credentials', 401],
      [() => anonymous.me(), 'unauthorized', 401],
      [() => carolApi.history(conversationId), 'not_member', 403],
      [() => aliceApi.history(conversationId, { limit: 501 }), 'out_of_range', 400],
      [() => carolApi.sync(99), 'out_of_range', 400],
      [() => carolApi.userByUsername('nobody-here'), 'user_not_found', 404],
    ];
    for (const [call, code, status] of refusals) {
      await assert.rejects(call(), (e: unknown) => e instanceof MessengerError && e.code === code && e.status === status, code);
    }
    const unreachable = new MessengerApi({ baseUrl: 'http://127.0.0.1:9', timeoutMs: 2000 });
    await assert.rejects(unreachable.me(), (e: unknown) => e instanceof MessengerError && e.code === 'network_error' && e.retryable);
  });
});

describe('real time over the WebSocket', () => {
  test('messages reach every device of both users live, each update once and in order', async () => {
    const { alice, bob, conversationId } = await pair();
    const a = await connect(await alice.login('alice-laptop'));
    const b1 = await connect(await bob.login('bob-phone'));
    const b2 = await connect(await bob.login('bob-laptop'));
    assert.equal(a.client.transport, 'websocket');
    const sends = [];
    for (let i = 1; i <= 5; i++) sends.push(a.client.send(conversationId, `a${i}`));
    sends.push(b1.client.send(conversationId, 'b1'));
    const acks = await Promise.all(sends);
    assert.ok(acks.every((ack) => !ack.duplicate));
    for (const device of [a, b1, b2]) await device.until(() => device.texts().length === 6, 'six messages');
    assert.deepEqual(b1.texts(), b2.texts());
    // The messages in conversation order; receipts of Bob's own message may come between or after them.
    const seqs = b1.updates.filter((u) => u.kind === 'message').map((u) => u.seq);
    assert.deepEqual(seqs, [1, 2, 3, 4, 5, 6]);
    assert.ok(b1.updates.every((u) => u.kind === 'message' || u.kind === 'receipts'));
    assertGapless(b1.updates);
    assertGapless(a.updates);
    assert.equal(b1.client.cursor, b1.updates.at(-1)!.userSeq);
  });

  test('a device that was offline catches up from its stored cursor, and a dropped socket loses nothing', async () => {
    const { alice, bob, conversationId, aliceApi } = await pair();
    const store = new MemoryStore();
    const bobToken = await bob.login('bob-phone');
    const first = await connect(bobToken, { store });
    await aliceApi.send(conversationId, 'c1', 'before');
    await first.until(() => first.client.cursor === 1, 'the first message');
    first.client.close();
    for (let i = 2; i <= 4; i++) await aliceApi.send(conversationId, `c${i}`, `while away ${i}`);

    const again = await connect(bobToken, { store });
    await again.until(() => again.client.cursor === 4, 'catch-up to 4');
    assert.deepEqual(again.texts(), ['while away 2', 'while away 3', 'while away 4']);
    assert.deepEqual(again.updates.map((u) => u.userSeq), [2, 3, 4]);

    const a = await connect(await alice.login('alice-phone'));
    again.client.dropConnection();
    const burst = [];
    for (let i = 5; i <= 12; i++) burst.push(a.client.send(conversationId, `after drop ${i}`));
    await Promise.all(burst);
    await again.until(() => again.client.cursor === 12, 'everything after the drop');
    assert.deepEqual(again.updates.map((u) => u.userSeq), [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    assert.equal(store.cursor, 12);
  });

  test('a send left in the outbox is sent again at start with its clientMsgId, and never doubled', async () => {
    const { alice, conversationId, aliceApi } = await pair();
    // The first attempt reached the server, but the device died before the ack.
    await aliceApi.send(conversationId, 'outbox-1', 'kept in the outbox');
    const store = new MemoryStore();
    store.outbox = [{ conversationId, clientMsgId: 'outbox-1', text: 'kept in the outbox' }, { conversationId, clientMsgId: 'outbox-2', text: 'never sent' }];
    const sent: string[] = [];
    const client = new MessengerClient({ baseUrl: server.url, token: await alice.login('alice-tablet'), store });
    clients.push(client);
    const settled = barrier(() => sent.length === 2, 'both outbox entries acked');
    client.on('sent', (s) => void (s.ack && sent.push(`${s.entry.clientMsgId}:${s.ack.seq}:${s.ack.duplicate}`), settled.check()));
    await client.start();
    await settled.done;
    assert.deepEqual(sent.sort(), ['outbox-1:1:true', 'outbox-2:2:false']);
    assert.deepEqual(store.outbox, []);
    const history = await aliceApi.history(conversationId);
    assert.deepEqual(history.messages.map((m) => m.text), ['kept in the outbox', 'never sent']);
  });

  test('a send the server refuses for good rejects and leaves the outbox', async () => {
    const { conversationId } = await pair();
    const carol = await newUser(server.url, 'carol');
    const store = new MemoryStore();
    const c = await connect(await carol.login(), { store });
    await assert.rejects(c.client.send(conversationId, 'not mine'), (e: unknown) => e instanceof MessengerError && e.code === 'not_member');
    await assert.rejects(c.client.send(conversationId, ''), (e: unknown) => e instanceof MessengerError);
    assert.deepEqual(store.outbox, []);
  });

  test('a cursor the server never issued resets the device, which then reads the log from the start', async () => {
    const { bob, conversationId, aliceApi } = await pair();
    await aliceApi.send(conversationId, 'r1', 'one');
    await aliceApi.send(conversationId, 'r2', 'two');
    const store = new MemoryStore();
    store.cursor = 1000;
    let resets = 0;
    const client = new MessengerClient({ baseUrl: server.url, token: await bob.login(), store });
    clients.push(client);
    const texts: string[] = [];
    const done = barrier(() => store.cursor === 2, 'the log from the start');
    client.on('cursorReset', () => void resets++);
    client.on('update', (u) => void texts.push(u.message!.text));
    client.on('cursor', () => done.check());
    await client.start();
    await done.done;
    assert.equal(resets, 1);
    assert.deepEqual(texts, ['one', 'two']);
    assert.equal(store.cursor, 2);
  });

  test('presence and typing of the other member arrive as events', async () => {
    const { alice, bob, conversationId } = await pair();
    const b = await connect(await bob.login());
    const initial = await b.client.subscribePresence([alice.userId]);
    assert.deepEqual(initial.map((p) => [p.userId, p.online]), [[alice.userId, false]]);
    const a = await connect(await alice.login());
    await b.until(() => b.presence.some((p) => p.userId === alice.userId && p.online), 'Alice online');
    await a.client.typing(conversationId);
    await a.client.typing(conversationId); // throttled: not sent, not refused
    await b.until(() => b.typing.some((t) => t.userId === alice.userId && t.typing), 'Alice typing');
    await a.client.send(conversationId, 'done typing');
    await b.until(() => b.typing.some((t) => t.userId === alice.userId && !t.typing), 'Alice stopped typing');
    a.client.close();
    await b.until(() => b.presence.some((p) => p.userId === alice.userId && !p.online && p.lastSeen !== undefined), 'Alice offline with lastSeen');
  });

  test('a refused token ends the client in the unauthorized state', async () => {
    const client = new MessengerClient({ baseUrl: server.url, token: 'not-a-token' });
    clients.push(client);
    await assert.rejects(client.start(), (e: unknown) => e instanceof MessengerError && e.status === 401);
    assert.equal(client.state, 'unauthorized');
  });
});

describe('long-poll', () => {
  test('behind a proxy that refuses WebSockets the client falls back to long-poll and chats with a WebSocket client', async () => {
    const { alice, bob, conversationId } = await pair();
    const polling = new MessengerClient({ baseUrl: proxy.url, token: await bob.login('bob-behind-proxy') });
    clients.push(polling);
    const bobTexts: string[] = [];
    const typing: TypingEvent[] = [];
    const bobGot = barrier(() => bobTexts.length === 3, 'three messages over long-poll');
    polling.on('update', (u) => void (u.message && bobTexts.push(u.message.text), bobGot.check()));
    polling.on('typing', (t) => void typing.push(t));
    await polling.start();
    assert.equal(polling.transport, 'longpoll');

    const a = await connect(await alice.login('alice-ws'));
    assert.equal(a.client.transport, 'websocket');
    await a.client.send(conversationId, 'from the socket 1');
    const fromBob = await polling.send(conversationId, 'from long-poll');
    assert.equal(fromBob.duplicate, false);
    await a.client.send(conversationId, 'from the socket 2');
    await bobGot.done;
    assert.deepEqual(bobTexts, ['from the socket 1', 'from long-poll', 'from the socket 2']);
    await a.until(() => a.texts().length === 3, 'three messages over the socket');
    assert.deepEqual(a.texts(), bobTexts);

    // Presence and typing reach the polling device as poll events.
    const presence: Presence[] = [];
    const online = barrier(() => presence.some((p) => p.userId === alice.userId && p.online), 'Alice online over long-poll');
    polling.on('presence', (p) => void (presence.push(p), online.check()));
    presence.push(...(await polling.subscribePresence([alice.userId])));
    online.check();
    await online.done;
    const typed = barrier(() => typing.some((t) => t.userId === alice.userId && t.typing), 'typing over long-poll');
    polling.on('typing', () => typed.check());
    await a.client.typing(conversationId);
    await typed.done;
    assert.equal((await polling.history(conversationId)).messages.length, 3);
  });

  test('a long-poll-only client catches up from its cursor like a socket', async () => {
    const { bob, conversationId, aliceApi } = await pair();
    for (let i = 1; i <= 3; i++) await aliceApi.send(conversationId, `lp${i}`, `queued ${i}`);
    const store = new MemoryStore();
    store.cursor = 1;
    const p = await connect(await bob.login('bob-poller'), { transport: 'longpoll', store });
    await p.until(() => p.client.cursor === 3, 'catch-up over long-poll');
    assert.deepEqual(p.texts(), ['queued 2', 'queued 3']);
    await aliceApi.send(conversationId, 'lp4', 'live');
    await p.until(() => p.client.cursor === 4, 'a live update over long-poll');
    assert.deepEqual(p.updates.map((u) => u.userSeq), [2, 3, 4]);
  });
});

/** A conversation's entries among a device's updates, in the order they came: `seq:type` for events, `seq:text` for messages. */
function entries(updates: readonly Update[], conversationId: string): string[] {
  return updates.filter((u) => u.kind === 'message' && u.conversationId === conversationId)
    .map((u) => `${u.seq}:${u.message!.event ? u.message!.event.type : u.message!.text}`);
}

function refusedWith(code: string, status?: number) {
  return (e: unknown) => e instanceof MessengerError && e.code === code && (status === undefined || e.status === status);
}

describe('groups', () => {
  test('over the socket: a group with two others, a member added and one removed; every member gets the events in the same order, the removed one nothing after', async () => {
    const [alice, bob, carol, dave] = await Promise.all(['alice', 'bob', 'carol', 'dave'].map((p) => newUser(server.url, p)));
    const a = await connect(await alice.login());
    const b = await connect(await bob.login());
    const c = await connect(await carol.login());
    const d = await connect(await dave.login());

    const created = await a.client.createGroup('Climbing', [bob.userId, carol.userId]);
    const groupId = created.conversation.conversationId;
    assert.match(groupId, /^g:[0-9a-f]{32}$/);
    assert.equal(created.conversation.kind, 'group');
    assert.equal(created.conversation.title, 'Climbing');
    assert.equal(created.conversation.memberCount, 3);
    assert.deepEqual(created.conversation.owners, [alice.userId]);
    assert.deepEqual(created.events.map((e) => e.seq), [1]);

    const added = await a.client.addMembers(groupId, [dave.userId]);
    assert.equal(added.conversation.memberCount, 4);
    assert.deepEqual(added.events.map((e) => e.seq), [2]);
    await b.client.send(groupId, 'hello all');
    const removed = await a.client.removeMember(groupId, carol.userId);
    assert.deepEqual(removed.events.map((e) => e.seq), [4]);
    assert.equal(removed.conversation.memberCount, 3);
    await a.client.send(groupId, 'without Carol');

    const all = ['1:created', '2:members_added', '3:hello all', '4:member_removed', '5:without Carol'];
    for (const device of [a, b]) await device.until(() => entries(device.updates, groupId).length === 5, 'five entries');
    assert.deepEqual(entries(a.updates, groupId), all);
    assert.deepEqual(entries(b.updates, groupId), all);
    // Dave sees the log from the event that added him; Carol up to the one that removed her.
    await d.until(() => entries(d.updates, groupId).length === 4, "Dave's four entries");
    assert.deepEqual(entries(d.updates, groupId), all.slice(1));
    await c.until(() => entries(c.updates, groupId).length === 4, "Carol's four entries");
    assert.deepEqual(entries(c.updates, groupId), all.slice(0, 4));
    const removal = c.updates.find((u) => u.seq === 4 && u.conversationId === groupId)!.message!;
    assert.equal(removal.text, '');
    assert.equal(removal.senderId, alice.userId);
    assert.deepEqual(removal.event, { type: 'member_removed', userIds: [carol.userId] });
    const creation = a.updates.find((u) => u.seq === 1 && u.conversationId === groupId)!.message!.event!;
    assert.deepEqual(creation, { type: 'created', userIds: [alice.userId, bob.userId, carol.userId], title: 'Climbing' });
    for (const device of [a, b, c, d]) assertGapless(device.updates);

    // Nothing after the removal reaches Carol, and the group refuses her.
    await a.client.send(groupId, 'still without Carol');
    await b.until(() => entries(b.updates, groupId).length === 6, 'the sixth entry');
    await d.until(() => entries(d.updates, groupId).length === 5, "Dave's sixth entry");
    const carolLog = await c.client.sync(0);
    assert.deepEqual(carolLog.updates.filter((u) => u.conversationId === groupId).map((u) => u.seq), [1, 2, 3, 4]);
    assert.deepEqual(entries(c.updates, groupId), all.slice(0, 4));
    await assert.rejects(c.client.send(groupId, 'let me in'), refusedWith('not_member'));
    await assert.rejects(c.client.history(groupId, { after: 4 }), refusedWith('not_member'));

    // Summaries: a group has a title and a count but no member list; a left group says so.
    const carolApi = new MessengerApi({ baseUrl: server.url, token: await carol.login() });
    const carolSummary = (await carolApi.conversations()).find((s) => s.conversationId === groupId)!;
    assert.equal(carolSummary.kind, 'group');
    assert.equal(carolSummary.members, undefined);
    assert.equal(carolSummary.title, 'Climbing');
    assert.equal(carolSummary.left, true);
    const aliceSummary = (await a.client.api.conversations()).find((s) => s.conversationId === groupId)!;
    assert.deepEqual([aliceSummary.left, aliceSummary.memberCount, aliceSummary.lastSeq], [false, 3, 6]);

    // The socket carries the other commands too, and their refusals with their codes.
    await assert.rejects(b.client.removeMember(groupId, dave.userId), refusedWith('not_admin'));
    await assert.rejects(b.client.renameGroup(groupId, 'Mine now'), refusedWith('not_admin'));
    await assert.rejects(a.client.addMembers(groupId, [bob.userId]), refusedWith('already_member'));
    await assert.rejects(a.client.removeMember(groupId, carol.userId), refusedWith('member_not_found'));
    await assert.rejects(a.client.setRole(groupId, alice.userId, 'member'), refusedWith('last_owner'));
    const promoted = await a.client.setRole(groupId, bob.userId, 'admin');
    assert.deepEqual(promoted.conversation.admins, [bob.userId]);
    assert.deepEqual((await a.client.setRole(groupId, bob.userId, 'admin')).events, []); // nothing to change
    await assert.rejects(b.client.setRole(groupId, dave.userId, 'owner'), refusedWith('not_owner'));
    assert.equal((await b.client.renameGroup(groupId, 'Bouldering')).conversation.title, 'Bouldering');
    const left = await b.client.leaveGroup(groupId);
    assert.deepEqual(left.events.map((e) => e.seq), [9]);
    assert.equal(left.conversation.memberCount, 2);
    const tail = ['7:role_changed', '8:renamed', '9:member_left'];
    await a.until(() => entries(a.updates, groupId).length === 9, "Alice's nine entries");
    await d.until(() => entries(d.updates, groupId).length === 8, "Dave's entries up to 9");
    assert.deepEqual(entries(a.updates, groupId).slice(6), tail);
    assert.deepEqual(entries(d.updates, groupId).slice(5), tail);
    await b.until(() => entries(b.updates, groupId).length === 9, "Bob's own leave");
    assert.deepEqual(entries(b.updates, groupId).slice(6), tail);
  });

  test('over REST and long-poll: create, add, remove, rename, leave; refusals carry their codes', async () => {
    const [alice, bob, carol, dave] = await Promise.all(['alice', 'bob', 'carol', 'dave'].map((p) => newUser(server.url, p)));
    const aliceApi = new MessengerApi({ baseUrl: server.url, token: await alice.login() });
    const bobApi = aliceApi.withToken(await bob.login());
    // Bob follows over long-poll: group commands go over REST there, events come with the polls.
    const p = await connect(await bob.login('bob-poller'), { transport: 'longpoll' });
    const d = await connect(await dave.login());

    const created = await aliceApi.createGroup('Book club', [bob.userId, carol.userId]);
    const groupId = created.conversation.conversationId;
    assert.deepEqual([created.conversation.kind, created.conversation.memberCount, created.events.length], ['group', 3, 1]);
    assert.deepEqual(created.conversation.members.sort(), [alice.userId, bob.userId, carol.userId].sort());
    await assert.rejects(bobApi.addMembers(groupId, [dave.userId]), refusedWith('not_admin', 403));
    await assert.rejects(p.client.addMembers(groupId, [dave.userId]), refusedWith('not_admin'));
    await assert.rejects(aliceApi.addMembers(groupId, [carol.userId]), refusedWith('already_member', 409));
    await assert.rejects(aliceApi.removeMember(groupId, dave.userId), refusedWith('member_not_found', 404));
    await assert.rejects(aliceApi.setRole(groupId, alice.userId, 'admin'), refusedWith('last_owner', 409));
    await assert.rejects(aliceApi.addMembers(groupId, ['u0123456789abcdef0123456789abcdef']), refusedWith('user_not_found', 404));
    const direct = await aliceApi.openDirect(bob.userId);
    await assert.rejects(aliceApi.addMembers(direct.conversationId, [carol.userId]), refusedWith('not_group', 400));
    await assert.rejects(aliceApi.createGroup('', [bob.userId]), refusedWith('invalid_request', 400));

    assert.deepEqual((await aliceApi.addMembers(groupId, [dave.userId])).events.map((e) => e.seq), [2]);
    assert.deepEqual((await aliceApi.removeMember(groupId, carol.userId)).events.map((e) => e.seq), [3]);
    assert.equal((await aliceApi.renameGroup(groupId, 'Reading club')).conversation.title, 'Reading club');
    await aliceApi.setRole(groupId, bob.userId, 'admin');
    const renamed = await p.client.renameGroup(groupId, 'Readers'); // over long-poll
    assert.deepEqual([renamed.conversation.title, renamed.events.map((e) => e.seq)], ['Readers', [6]]);
    const left = await bobApi.leaveGroup(groupId);
    assert.deepEqual([left.conversation.memberCount, left.events.map((e) => e.seq)], [2, [7]]);
    await assert.rejects(bobApi.leaveGroup(groupId), refusedWith('not_member', 403));

    const bobSees = ['1:created', '2:members_added', '3:member_removed', '4:renamed', '5:role_changed', '6:renamed', '7:member_left'];
    await p.until(() => entries(p.updates, groupId).length === 7, 'seven entries over long-poll');
    assert.deepEqual(entries(p.updates, groupId), bobSees);
    await d.until(() => entries(d.updates, groupId).length === 6, "Dave's six entries");
    assert.deepEqual(entries(d.updates, groupId), bobSees.slice(1));
    assertGapless(p.updates);

    const list = await aliceApi.conversations();
    const group = list.find((s) => s.conversationId === groupId)!;
    assert.deepEqual([group.kind, group.title, group.memberCount, group.members, group.left], ['group', 'Readers', 2, undefined, false]);
    const directSummary = list.find((s) => s.conversationId === direct.conversationId)!;
    assert.deepEqual(directSummary.members?.sort(), [alice.userId, bob.userId].sort());
    const info = await aliceApi.conversation(groupId);
    assert.deepEqual([info.title, info.owners, info.admins, info.memberCount], ['Readers', [alice.userId], [], 2]);
  });
});

describe('devices and accounts', () => {
  test('a user sees their devices, logs one out (its client stops for good, the others go on) and logs it in again', async () => {
    const { alice, conversationId, aliceApi } = await pair();
    const anonymous = new MessengerApi({ baseUrl: server.url });
    const laptop = anonymous.withToken((await anonymous.login(alice.username, alice.password, 'alice-laptop', 'Laptop')).token);
    const phoneToken = (await anonymous.login(alice.username, alice.password, 'alice-phone', 'Phone')).token;
    const phone = await connect(phoneToken);
    const listed = await laptop.devices();
    assert.deepEqual(listed.map((d) => d.deviceId).sort(), ['alice-laptop', 'alice-phone', 'alice-setup']);
    assert.equal(listed.find((d) => d.deviceId === 'alice-laptop')?.current, true);
    assert.equal(listed.find((d) => d.deviceId === 'alice-phone')?.name, 'Phone');
    assert.equal(listed.find((d) => d.deviceId === 'alice-phone')?.live, true);

    const errors: MessengerError[] = [];
    const stopped = barrier(() => phone.client.state === 'unauthorized', "the phone's client stops");
    phone.client.on('error', (e) => void errors.push(e));
    phone.client.on('state', () => stopped.check());
    await laptop.logOutDevice('alice-phone');
    await stopped.done;
    assert.ok(errors.some((e) => e.code === 'logged_out'), errors.map((e) => e.code).join());
    await assert.rejects(anonymous.withToken(phoneToken).me(), (e: unknown) => e instanceof MessengerError && e.code === 'logged_out');
    assert.deepEqual((await laptop.devices()).map((d) => d.deviceId).sort(), ['alice-laptop', 'alice-setup']);
    await assert.rejects(laptop.logOutDevice('alice-phone'), (e: unknown) => e instanceof MessengerError && e.code === 'device_not_found');
    // The other devices go on; the phone logs in again and works.
    await aliceApi.send(conversationId, 'after-logout', 'still here');
    const again = anonymous.withToken((await anonymous.login(alice.username, alice.password, 'alice-phone')).token);
    assert.equal((await again.me()).userId, alice.userId);
    await again.logOut();
    await assert.rejects(again.me(), (e: unknown) => e instanceof MessengerError && e.code === 'logged_out');
  });

  test('deleting an account needs the password; then its tokens stop, its name is free, and the other member keeps the history', async () => {
    const { bob, conversationId, aliceApi } = await pair();
    await aliceApi.send(conversationId, 'd1', 'hello Bob');
    const bobApi = new MessengerApi({ baseUrl: server.url, token: await bob.login('bob-phone') });
    await bobApi.send(conversationId, 'd2', 'bye Alice');
    await assert.rejects(bobApi.deleteAccount('not-the-password'), (e: unknown) => e instanceof MessengerError && e.code === 'wrong_password');
    assert.equal((await bobApi.me()).userId, bob.userId);
    await bobApi.deleteAccount(bob.password);
    await assert.rejects(bobApi.me(), (e: unknown) => e instanceof MessengerError && e.code === 'logged_out');
    await assert.rejects(aliceApi.user(bob.userId), (e: unknown) => e instanceof MessengerError && e.code === 'user_not_found');
    await assert.rejects(aliceApi.send(conversationId, 'd3', 'Bob?'), (e: unknown) => e instanceof MessengerError && e.code === 'user_deleted' && e.status === 410);
    assert.deepEqual((await aliceApi.history(conversationId)).messages.map((m) => m.text), ['hello Bob', 'bye Alice']);
    const reused = await new MessengerApi({ baseUrl: server.url }).register(bob.username, 'a-new-password');
    assert.notEqual(reused.userId, bob.userId);
  });
});
