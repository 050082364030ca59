/**
 * An error the server reported (its stable `code`, section 8 of docs/PROTOCOL.md), or one of the
 * client's own: `network_error` (no answer came: the server is unreachable or the request timed out),
 * `closed` (the client was closed), `logged_out` (the device's token no longer works).
 */
export class MessengerError extends Error {
  constructor(
    /** The stable code: branch on this, never on the message. */
    readonly code: string,
    message: string,
    /** The HTTP status, for REST answers. */
    readonly status?: number,
    /** How long the server asked to wait before trying again (`Retry-After`), in milliseconds. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'MessengerError';
  }

  /**
   * True when the same request may succeed later unchanged: the server was unreachable or briefly
   * unavailable, or failed inside. A send retried this way keeps its clientMsgId, so it is never doubled.
   */
  get retryable(): boolean {
    return this.code === 'network_error' || this.code === 'unavailable' || this.code === 'internal_error';
  }
}
