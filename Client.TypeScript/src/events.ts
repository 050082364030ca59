type Listener<T> = (value: T) => void | Promise<void>;

/**
 * A small typed event emitter. `emitInOrder` awaits each listener in turn, so a listener that stores an
 * update finishes before the next update is handed out (and before the cursor moves past it).
 */
export class Emitter<Events extends Record<string, unknown>> {
  private readonly listeners = new Map<keyof Events, Set<Listener<never>>>();

  /** Adds a listener; returns a function that removes it. */
  on<K extends keyof Events>(event: K, listener: Listener<Events[K]>): () => void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(listener as Listener<never>);
    return () => set.delete(listener as Listener<never>);
  }

  /** Calls every listener; a listener that throws does not stop the others. */
  emit<K extends keyof Events>(event: K, value: Events[K]): void {
    for (const listener of this.listeners.get(event) ?? []) {
      try {
        void Promise.resolve((listener as Listener<Events[K]>)(value)).catch(report);
      } catch (error) {
        report(error);
      }
    }
  }

  /** Calls every listener and waits for each in turn. */
  async emitInOrder<K extends keyof Events>(event: K, value: Events[K]): Promise<void> {
    for (const listener of [...(this.listeners.get(event) ?? [])]) {
      await (listener as Listener<Events[K]>)(value);
    }
  }
}

function report(error: unknown): void {
  console.error('messenger client: an event listener failed', error);
}
