/** The handshake did not lead to a hello: the socket never opened, or closed before the server's first frame. */
export class HandshakeError extends Error {
    opened;
    end;
    constructor(opened, end) {
        super(opened ? `the socket closed before hello (${end.code} ${end.reason})` : 'the WebSocket could not be opened');
        this.opened = opened;
        this.end = end;
    }
}
/**
 * One WebSocket to the gateway: opened, then usable once the server's `hello` came; every later frame
 * goes to `onFrame`. It does nothing on its own when it ends: the client decides what comes next.
 */
export class SocketConnection {
    socket;
    ended;
    endedWith;
    constructor(socket, ended) {
        this.socket = socket;
        this.ended = ended;
        void ended.then((end) => (this.endedWith = end));
    }
    /** Opens a socket to `url` and resolves with it and its hello, or rejects with a {@link HandshakeError}. */
    static open(url, WebSocketImpl, onFrame, timeoutMs) {
        return new Promise((resolve, reject) => {
            const socket = new WebSocketImpl(url);
            let opened = false;
            let connection;
            let endSocket;
            const ended = new Promise((r) => (endSocket = r));
            const timer = setTimeout(() => {
                socket.close();
                endSocket({ code: 1006, reason: 'handshake timed out' });
                reject(new HandshakeError(opened, { code: 1006, reason: 'no hello in time' }));
            }, timeoutMs);
            socket.onopen = () => (opened = true);
            socket.onmessage = (event) => {
                if (typeof event.data !== 'string')
                    return;
                let frame;
                try {
                    frame = JSON.parse(event.data);
                }
                catch {
                    return;
                }
                if (!connection) {
                    if (frame.type !== 'hello')
                        return;
                    clearTimeout(timer);
                    connection = new SocketConnection(socket, ended);
                    resolve({ connection, hello: frame });
                    return;
                }
                onFrame(frame);
            };
            socket.onclose = (event) => {
                clearTimeout(timer);
                const end = { code: event.code, reason: event.reason };
                endSocket(end);
                if (!connection)
                    reject(new HandshakeError(opened, end));
            };
            socket.onerror = () => {
                // Before the hello an error is the handshake's failure (some implementations never follow it with a
                // close event); after it, the close event that follows says how the socket ended.
                if (connection)
                    return;
                socket.onerror = null;
                socket.onclose = null;
                clearTimeout(timer);
                endSocket({ code: 1006, reason: 'error' });
                reject(new HandshakeError(opened, { code: 1006, reason: 'error' }));
                socket.close();
            };
        });
    }
    get isOpen() {
        return this.endedWith === undefined && this.socket.readyState === 1;
    }
    /** Writes one frame; false when the socket is no longer open (the frame is then not sent). */
    send(text) {
        if (!this.isOpen)
            return false;
        try {
            this.socket.send(text);
            return true;
        }
        catch {
            return false;
        }
    }
    /** Closes the socket (1000 unless told otherwise). */
    close(code = 1000, reason = '') {
        try {
            this.socket.close(code, reason);
        }
        catch {
            // Already closing.
        }
    }
}
