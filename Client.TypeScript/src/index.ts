export { MessengerApi, type ApiOptions, type HistoryQuery } from './api.js';
export { MessengerClient, type ClientEvents, type ConnectionState, type MessengerClientOptions, type TransportMode } from './client.js';
export { MessengerError } from './errors.js';
export { MemoryStore, WebStorageStore, type DeviceStore, type OutboxEntry } from './store.js';
export type { WebSocketConstructor } from './socket.js';
export type * from './types.js';
