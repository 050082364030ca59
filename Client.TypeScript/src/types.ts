// The wire types under the names a client uses. They are aliases of the types generated from the
// protocol's description (docs/openapi.json and docs/frames.schema.json), so the compiler holds this
// client to what the server sends; the checks at the end hold the two descriptions to each other.
import type { components } from './generated/rest.js';
import type {
  ClientHistory, ClientPing, ClientPresenceQuery, ClientPresenceSubscribe, ClientRead, ClientSend, ClientSync, ClientTyping,
  ServerAck, ServerError, ServerHello, ServerHistoryResult, ServerPong, ServerPresence, ServerPresenceResult, ServerReadResult,
  ServerSyncResult, ServerTyping, ServerTypingResult, ServerUpdates,
} from './generated/frames.js';

type Schemas = components['schemas'];

export type User = Schemas['WireUser'];
export type Session = Schemas['WireSession'];
export type Conversation = Schemas['WireConversation'];
export type ConversationSummary = Schemas['WireConversationSummary'];
export type Message = Schemas['WireMessage'];
export type Update = Schemas['WireUpdate'];
export type SyncPage = Schemas['WireSyncPage'];
export type HistoryPage = Schemas['WireHistoryPage'];
export type ReadMark = Schemas['WireReadMark'];
export type Presence = Schemas['WirePresence'];
export type Ack = Schemas['WireAck'];
/** A logged-in device of the user (docs/PROTOCOL.md 4.13). */
export type Device = Schemas['WireDevice'];
/** A long-poll answer: a sync page plus the presence and typing events pushed to the device since its last poll. */
export type PollResult = Omit<Schemas['WirePollResult'], 'events'> & { events: PollEvent[] };

/** A presence change of a watched user, or a typing start or stop of another member. */
export type PresenceEvent = ServerPresence;
export type TypingEvent = ServerTyping;
export type PollEvent = PresenceEvent | TypingEvent;
export type Hello = ServerHello;

/** Every frame a client may write on the socket. */
export type ClientFrame =
  | ClientSend | ClientSync | ClientHistory | ClientRead | ClientPresenceQuery | ClientPresenceSubscribe | ClientTyping | ClientPing;

/** Every frame the server writes on the socket. */
export type ServerFrame =
  | ServerHello | ServerAck | ServerSyncResult | ServerHistoryResult | ServerReadResult | ServerPresenceResult | ServerTypingResult
  | ServerPong | ServerUpdates | ServerPresence | ServerTyping | ServerError;

export type {
  ClientHistory, ClientPing, ClientPresenceQuery, ClientPresenceSubscribe, ClientRead, ClientSend, ClientSync, ClientTyping,
  ServerAck, ServerError, ServerHello, ServerHistoryResult, ServerPong, ServerPresence, ServerPresenceResult, ServerReadResult,
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
];
