// The wire types under the names a client uses. They are aliases of the types generated from the
// protocol's description (docs/openapi.json and docs/frames.schema.json), so the compiler holds this
// client to what the server sends; the checks at the end hold the two descriptions to each other.
import type { components } from './generated/rest.js';
import type {
  ClientGroupAdd, ClientGroupCreate, ClientGroupLeave, ClientGroupRemove, ClientGroupRename, ClientGroupRole, ClientHistory, ClientMute, ClientPing,
  ClientPresenceQuery, ClientPresenceSubscribe, ClientRead, ClientSend, ClientSync, ClientTyping,
  ServerAck, ServerError, ServerGroupResult, ServerHello, ServerHistoryResult, ServerMuteResult, ServerPong,
  ServerPresence, ServerPresenceResult, ServerReadResult, ServerSyncResult, ServerTyping, ServerTypingResult, ServerUpdates,
} from './generated/frames.js';

type Schemas = components['schemas'];

export type User = Schemas['WireUser'];
export type Session = Schemas['WireSession'];
/** A conversation's metadata; a group's also has `title`, `owners` and `admins`. */
export type Conversation = Schemas['WireConversation'];
/**
 * A conversation in the user's list. `members` is there for a direct conversation only (a group has
 * `title` and `memberCount` instead); `left` is true once the user was removed from a group or left it.
 */
export type ConversationSummary = Schemas['WireConversationSummary'];
/** A committed message; a group's membership event has `event` and an empty `text`. */
export type Message = Schemas['WireMessage'];
/** What a membership event of a group records; `type` is one of {@link GroupEventType}, the message's sender did it. */
export type GroupEvent = Schemas['WireEvent'];
/**
 * `created` (with `title` and the first members), `members_added`, `member_removed` (one user), `member_left`
 * (the sender; no userIds), `renamed` (with `title`), `role_changed` (one user, with `role`).
 */
export type GroupEventType = 'created' | 'members_added' | 'member_removed' | 'member_left' | 'renamed' | 'role_changed';
/** A member's role in a group. */
export type GroupRole = 'owner' | 'admin' | 'member';
/** The answer to a group command: the group after it, and the events it appended (each as the caller's ack, in order; none when nothing changed). */
export type GroupChange = Schemas['WireGroupChange'];
/** An entry of the user's update log: `kind` is `message`, `read` or `receipts` (then `receipts` lists how far some of the user's own messages have got). */
export type Update = Schemas['WireUpdate'];
/** One of the user's own messages: received by `delivered` and read by `read` of the `of` other members it was for. */
export type Receipt = Schemas['WireReceipt'];
/** The caller's mute of a conversation: `mutedUntil` is its end (year 9999: until unmuted), missing when not muted. */
export type MuteState = Schemas['WireMute'];
/** Who of the members a message was for has received it and who has read it. */
export type MessageReceipts = Schemas['WireMessageReceipts'];
export type SyncPage = Schemas['WireSyncPage'];
export type HistoryPage = Schemas['WireHistoryPage'];
export type ReadMark = Schemas['WireReadMark'];
export type Presence = Schemas['WirePresence'];
export type Ack = Schemas['WireAck'];
/** A logged-in device of the user (docs/PROTOCOL.md 4.13). */
export type Device = Schemas['WireDevice'];
/** The server's VAPID public key, for PushManager.subscribe (docs/PROTOCOL.md 4.18.1). */
export type PushConfig = Schemas['WirePushConfig'];
/** One device's push subscription as the server lists it (keys and tokens are not shown). */
export type PushSubscriptionInfo = Schemas['WirePushSubscription'];
export type PushSettings = Schemas['WirePushSettings'];
/** What became of the caller's notification for one message (docs/PROTOCOL.md 4.18.5). */
export type PushStatus = Schemas['WirePushStatus'];
/** A long-poll answer: a sync page plus the presence and typing events pushed to the device since its last poll. */
export type PollResult = Omit<Schemas['WirePollResult'], 'events'> & { events: PollEvent[] };

/** A presence change of a watched user, or a typing start or stop of another member. */
export type PresenceEvent = ServerPresence;
export type TypingEvent = ServerTyping;
export type PollEvent = PresenceEvent | TypingEvent;
export type Hello = ServerHello;

/** Every frame a client may write on the socket. */
export type ClientFrame =
  | ClientSend | ClientSync | ClientHistory | ClientRead | ClientPresenceQuery | ClientPresenceSubscribe | ClientTyping | ClientPing
  | ClientGroupCreate | ClientGroupAdd | ClientGroupRemove | ClientGroupLeave | ClientGroupRename | ClientGroupRole | ClientMute;

/** Every frame the server writes on the socket. */
export type ServerFrame =
  | ServerHello | ServerAck | ServerSyncResult | ServerHistoryResult | ServerReadResult | ServerPresenceResult | ServerTypingResult
  | ServerPong | ServerGroupResult | ServerMuteResult | ServerUpdates | ServerPresence | ServerTyping | ServerError;

export type {
  ClientGroupAdd, ClientGroupCreate, ClientGroupLeave, ClientGroupRemove, ClientGroupRename, ClientGroupRole, ClientHistory, ClientMute, ClientPing,
  ClientPresenceQuery, ClientPresenceSubscribe, ClientRead, ClientSend, ClientSync, ClientTyping,
  ServerAck, ServerError, ServerGroupResult, ServerHello, ServerHistoryResult, ServerMuteResult, ServerPong, ServerPresence, ServerPresenceResult, ServerReadResult,
  ServerSyncResult, ServerTyping, ServerTypingResult, ServerUpdates,
};

// The socket's frames and the REST models describe the same objects: if the two descriptions drift
// apart (say a field added to one), one of these lines stops compiling.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Agree<T extends true> = T;
export type WireTypesAgree = [
  Agree<Same<ServerUpdates['updates'][number], Update>>,
  Agree<Same<NonNullable<Update['message']>, Message>>,
  Agree<Same<Omit<ServerAck, 'type' | 'id'>, Ack>>,
  Agree<Same<Omit<ServerSyncResult, 'type' | 'id'>, SyncPage>>,
  Agree<Same<Omit<ServerHistoryResult, 'type' | 'id'>, HistoryPage>>,
  Agree<Same<Omit<ServerReadResult, 'type' | 'id'>, ReadMark>>,
  Agree<Same<ServerPresence['users'][number], Presence>>,
  Agree<Same<ServerPresenceResult['users'][number], Presence>>,
  Agree<Same<Omit<ServerGroupResult, 'type' | 'id'>, GroupChange>>,
  Agree<Same<ServerGroupResult['events'][number], Ack>>,
  Agree<Same<Omit<ServerMuteResult, 'type' | 'id'>, MuteState>>,
];
