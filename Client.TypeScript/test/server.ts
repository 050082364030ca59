// Starts the real gateway (standalone: in-process silo, SQLite in a temp folder) for the tests, and a
// proxy that passes HTTP but refuses WebSocket upgrades, as some corporate proxies do.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MessengerApi } from '../src/index.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const repository = path.resolve(here, '..', '..', '..');

export interface TestServer {
  url: string;
  stop(): Promise<void>;
}

/** The gateway built by `dotnet build` (MESSENGER_GATEWAY names another build's Messenger.Gateway.dll). */
function gatewayDll(): string {
  const configured = process.env.MESSENGER_GATEWAY;
  if (configured) return configured;
  for (const configuration of ['Debug', 'Release']) {
    const dll = path.join(repository, 'Gateway', 'bin', configuration, 'net10.0', 'Messenger.Gateway.dll');
    if (fs.existsSync(dll)) return dll;
  }
  throw new Error('Messenger.Gateway.dll not found: run `dotnet build` first, or set MESSENGER_GATEWAY');
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

export async function startServer(settings: Record<string, string> = {}): Promise<TestServer> {
  const port = await freePort();
  const data = fs.mkdtempSync(path.join(os.tmpdir(), 'messenger-ts-'));
  const url = `http://127.0.0.1:${port}`;
  const args = [gatewayDll(), '--urls', url, '--data', data];
  const defaults = {
    'Presence:OnlineSettle': '00:00:00.200', 'Presence:OfflineGrace': '00:00:00.300', 'Gateway:PollHold': '00:00:05',
    // Every user of the suite registers and logs in from this one loopback address, far faster than a real client may.
    'Auth:AttemptsPerAddressPerMinute': '1000000',
  };
  for (const [name, value] of Object.entries({ ...defaults, ...settings })) args.push(`--${name}=${value}`);
  const child: ChildProcess = spawn('dotnet', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the gateway exited with ${child.exitCode}:\n${output}`);
    try {
      const response = await fetch(`${url}/readyz`);
      if (response.ok) break;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the gateway did not get ready within 90 s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    url,
    async stop() {
      child.kill('SIGTERM');
      await exited;
      fs.rmSync(data, { recursive: true, force: true });
    },
  };
}

/** A proxy to `target` that forwards every HTTP request and answers every WebSocket upgrade with 403. */
export async function startNoWebSocketProxy(target: string): Promise<TestServer> {
  const to = new URL(target);
  const server = http.createServer((request, response) => {
    const upstream = http.request(
      { host: to.hostname, port: to.port, method: request.method, path: request.url, headers: request.headers },
      (answer) => {
        response.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(response);
      },
    );
    upstream.on('error', () => {
      response.writeHead(502);
      response.end();
    });
    request.pipe(upstream);
  });
  server.on('upgrade', (_request, socket) => {
    socket.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
  });
  const port = await new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port)));
  return {
    url: `http://127.0.0.1:${port}`,
    stop: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

let counter = 0;

export interface TestUser {
  username: string;
  password: string;
  userId: string;
  /** Logs in one more device and returns its token. */
  login(deviceId?: string): Promise<string>;
}

/** Registers a user with a unique name. */
export async function newUser(url: string, prefix = 'u'): Promise<TestUser> {
  const username = `${prefix}${process.pid}${Date.now() % 100000}${++counter}`.toLowerCase().slice(0, 32);
  const password = `${username}-password`;
  const api = new MessengerApi({ baseUrl: url });
  const user = await api.register(username, password);
  return {
    username, password, userId: user.userId,
    login: async (deviceId?: string) => (await api.login(username, password, deviceId)).token,
  };
}

/**
 * Resolves when `condition` holds, checked now and after every call of the returned `check` (wired to
 * the events the test waits on); fails after `timeoutMs` with `what`.
 */
export function barrier(condition: () => boolean, what: string, timeoutMs = 20_000): { done: Promise<void>; check(): void } {
  let resolve!: () => void;
  let reject!: (e: Error) => void;
  const done = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
  const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), timeoutMs);
  const check = () => {
    if (condition()) {
      clearTimeout(timer);
      resolve();
    }
  };
  check();
  return { done, check };
}
