/**
 * A small typed event emitter. `emitInOrder` awaits each listener in turn, so a listener that stores an
 * update finishes before the next update is handed out (and before the cursor moves past it).
 */
export class Emitter {
    listeners = new Map();
    /** Adds a listener; returns a function that removes it. */
    on(event, listener) {
        let set = this.listeners.get(event);
        if (!set)
            this.listeners.set(event, (set = new Set()));
        set.add(listener);
        return () => set.delete(listener);
    }
    /** Calls every listener; a listener that throws does not stop the others. */
    emit(event, value) {
        for (const listener of this.listeners.get(event) ?? []) {
            try {
                void Promise.resolve(listener(value)).catch(report);
            }
            catch (error) {
                report(error);
            }
        }
    }
    /** Calls every listener and waits for each in turn. */
    async emitInOrder(event, value) {
        for (const listener of [...(this.listeners.get(event) ?? [])]) {
            await listener(value);
        }
    }
}
function report(error) {
    console.error('messenger client: an event listener failed', error);
}
