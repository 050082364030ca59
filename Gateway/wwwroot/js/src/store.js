/** Keeps everything in memory: a new client starts from cursor 0. */
export class MemoryStore {
    cursor = 0;
    outbox = [];
    loadCursor() {
        return this.cursor;
    }
    saveCursor(cursor) {
        this.cursor = cursor;
    }
    loadOutbox() {
        return [...this.outbox];
    }
    saveOutbox(entries) {
        this.outbox = [...entries];
    }
}
/** A store over the Web Storage API (`localStorage`), under keys that start with `prefix`. */
export class WebStorageStore {
    storage;
    prefix;
    constructor(storage, prefix) {
        this.storage = storage;
        this.prefix = prefix;
    }
    loadCursor() {
        const value = Number(this.storage.getItem(`${this.prefix}cursor`));
        return Number.isSafeInteger(value) && value > 0 ? value : 0;
    }
    saveCursor(cursor) {
        this.storage.setItem(`${this.prefix}cursor`, String(cursor));
    }
    loadOutbox() {
        try {
            const entries = JSON.parse(this.storage.getItem(`${this.prefix}outbox`) ?? '[]');
            return Array.isArray(entries) ? entries : [];
        }
        catch {
            return [];
        }
    }
    saveOutbox(entries) {
        this.storage.setItem(`${this.prefix}outbox`, JSON.stringify(entries));
    }
}
