export { MessengerApi } from './api.js';
export { MessengerClient } from './client.js';
export { MessengerError } from './errors.js';
export { MemoryStore, WebStorageStore } from './store.js';
