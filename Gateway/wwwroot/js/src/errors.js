/**
 * An error the server reported (its stable `code`, section 8 of docs/PROTOCOL.md), or one of the
 * client's own: `network_error` (no answer came: the server is unreachable or the request timed out),
 * `closed` (the client was closed), `logged_out` (the device's token no longer works).
 */
export class MessengerError extends Error {
    code;
    status;
    retryAfterMs;
    constructor(
    /** The stable code: branch on this, never on the message. */
    code, message, 
    /** The HTTP status, for REST answers. */
    status, 
    /** How long the server asked to wait before trying again (`Retry-After`), in milliseconds. */
    retryAfterMs) {
        super(message);
        this.code = code;
        this.status = status;
        this.retryAfterMs = retryAfterMs;
        this.name = 'MessengerError';
    }
    /**
     * True when the same request may succeed later unchanged: the server was unreachable or briefly
     * unavailable, or failed inside. A send retried this way keeps its clientMsgId, so it is never doubled.
     */
    get retryable() {
        return this.code === 'network_error' || this.code === 'unavailable' || this.code === 'internal_error';
    }
}
