import type { Hello, ServerFrame } from './types.js';

/** The WebSocket constructor this client needs: the browser's, Node's (20.10+ with --experimental-websocket, 22+), or a compatible one. */
export type WebSocketConstructor = new (url: string) => WebSocket;

/** Why a socket ended: the Close frame's code and reason (1006 when the connection dropped without one). */
export interface SocketEnd {
  code: number;
  reason: string;
}

/** The handshake did not lead to a hello: the socket never opened, or closed before the server's first frame. */
export class HandshakeError extends Error {
  constructor(readonly opened: boolean, readonly end: SocketEnd) {
    super(opened ? `the socket closed before hello (${end.code} ${end.reason})` : 'the WebSocket could not be opened');
  }
}

/**
 * One WebSocket to the gateway: opened, then usable once the server's `hello` came; every later frame
 * goes to `onFrame`. It does nothing on its own when it ends: the client decides what comes next.
 */
export class SocketConnection {
  readonly ended: Promise<SocketEnd>;
  private endedWith?: SocketEnd;

  private constructor(private readonly socket: WebSocket, ended: Promise<SocketEnd>) {
    this.ended = ended;
    void ended.then((end) => (this.endedWith = end));
  }

  /** Opens a socket to `url` and resolves with it and its hello, or rejects with a {@link HandshakeError}. */
  static open(url: string, WebSocketImpl: WebSocketConstructor, onFrame: (frame: ServerFrame) => void, timeoutMs: number):
    Promise<{ connection: SocketConnection; hello: Hello }> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocketImpl(url);
      let opened = false;
      let connection: SocketConnection | undefined;
      let endSocket!: (end: SocketEnd) => void;
      const ended = new Promise<SocketEnd>((r) => (endSocket = r));
      const timer = setTimeout(() => {
        socket.close();
        endSocket({ code: 1006, reason: 'handshake timed out' });
        reject(new HandshakeError(opened, { code: 1006, reason: 'no hello in time' }));
      }, timeoutMs);
      socket.onopen = () => (opened = true);
      socket.onmessage = (event: MessageEvent) => {
        if (typeof event.data !== 'string') return;
        let frame: ServerFrame;
        try {
          frame = JSON.parse(event.data) as ServerFrame;
        } catch {
          return;
        }
        if (!connection) {
          if (frame.type !== 'hello') return;
          clearTimeout(timer);
          connection = new SocketConnection(socket, ended);
          resolve({ connection, hello: frame });
          return;
        }
        onFrame(frame);
      };
      socket.onclose = (event: CloseEvent) => {
        clearTimeout(timer);
        const end = { code: event.code, reason: event.reason };
        endSocket(end);
        if (!connection) reject(new HandshakeError(opened, end));
      };
      socket.onerror = () => {
        // Before the hello an error is the handshake's failure (some implementations never follow it with a
        // close event); after it, the close event that follows says how the socket ended.
        if (connection) return;
        socket.onerror = null;
        socket.onclose = null;
        clearTimeout(timer);
        endSocket({ code: 1006, reason: 'error' });
        reject(new HandshakeError(opened, { code: 1006, reason: 'error' }));
        socket.close();
      };
    });
  }

  get isOpen(): boolean {
    return this.endedWith === undefined && this.socket.readyState === 1;
  }

  /** Writes one frame; false when the socket is no longer open (the frame is then not sent). */
  send(text: string): boolean {
    if (!this.isOpen) return false;
    try {
      this.socket.send(text);
      return true;
    } catch {
      return false;
    }
  }

  /** Closes the socket (1000 unless told otherwise). */
  close(code = 1000, reason = ''): void {
    try {
      this.socket.close(code, reason);
    } catch {
      // Already closing.
    }
  }
}
