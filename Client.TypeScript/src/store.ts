/** A message the user sent that the server has not acknowledged yet. */
export interface OutboxEntry {
  conversationId: string;
  /** Made once when the user hit Send; every retry carries the same one, so the server never doubles it. */
  clientMsgId: string;
  text: string;
}

/**
 * Where a device keeps what must survive a restart (docs/PROTOCOL.md 6.2): the cursor (the last applied
 * userSeq) and, optionally, the outbox. The client saves the cursor after the `update` listeners have
 * finished with that update, so an application that stores its data in those listeners never has its
 * cursor ahead of its data. Methods may be synchronous or return promises.
 */
export interface DeviceStore {
  loadCursor(): number | Promise<number>;
  saveCursor(cursor: number): void | Promise<void>;
  loadOutbox?(): OutboxEntry[] | Promise<OutboxEntry[]>;
  saveOutbox?(entries: OutboxEntry[]): void | Promise<void>;
}

/** Keeps everything in memory: a new client starts from cursor 0. */
export class MemoryStore implements DeviceStore {
  cursor = 0;
  outbox: OutboxEntry[] = [];

  loadCursor(): number {
    return this.cursor;
  }

  saveCursor(cursor: number): void {
    this.cursor = cursor;
  }

  loadOutbox(): OutboxEntry[] {
    return [...this.outbox];
  }

  saveOutbox(entries: OutboxEntry[]): void {
    this.outbox = [...entries];
  }
}

/** A store over the Web Storage API (`localStorage`), under keys that start with `prefix`. */
export class WebStorageStore implements DeviceStore {
  constructor(private readonly storage: Storage, private readonly prefix: string) {}

  loadCursor(): number {
    const value = Number(this.storage.getItem(`${this.prefix}cursor`));
    return Number.isSafeInteger(value) && value > 0 ? value : 0;
  }

  saveCursor(cursor: number): void {
    this.storage.setItem(`${this.prefix}cursor`, String(cursor));
  }

  loadOutbox(): OutboxEntry[] {
    try {
      const entries = JSON.parse(this.storage.getItem(`${this.prefix}outbox`) ?? '[]') as OutboxEntry[];
      return Array.isArray(entries) ? entries : [];
    } catch {
      return [];
    }
  }

  saveOutbox(entries: OutboxEntry[]): void {
    this.storage.setItem(`${this.prefix}outbox`, JSON.stringify(entries));
  }
}
