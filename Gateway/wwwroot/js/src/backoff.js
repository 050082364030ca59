/** Exponential backoff with jitter: the first delay, doubling up to the maximum, plus 0 to 50 ms. */
export class Backoff {
    min;
    max;
    next;
    constructor(min, max) {
        this.min = min;
        this.max = max;
        this.next = min;
    }
    /** The delay to wait now; the one after it is twice as long (up to the maximum). */
    take() {
        const delay = this.next;
        this.next = Math.min(this.next * 2, this.max);
        return delay + Math.floor(Math.random() * 50);
    }
    reset() {
        this.next = this.min;
    }
}
/** Resolves after `ms`, or at once when `signal` aborts. */
export function sleep(ms, signal) {
    return new Promise((resolve) => {
        if (signal?.aborted)
            return resolve();
        const timer = setTimeout(done, ms);
        signal?.addEventListener('abort', done, { once: true });
        function done() {
            clearTimeout(timer);
            signal?.removeEventListener('abort', done);
            resolve();
        }
    });
}
