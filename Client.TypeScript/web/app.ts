// The page served at / : log in or register, then chat. Session (token, device id) in localStorage, so
// every tab of this browser is the same device; each tab runs its own client, and all of them show the
// same thing because they apply the same update log.
import { MessengerApi, MessengerError, type Session } from '../src/index.js';
import { ChatView } from './chat-view.js';
import { $, describeError, showAlert, showStatus } from './dom.js';

const sessionKey = 'messenger.session';
const deviceKey = 'messenger.deviceId';
const api = new MessengerApi({ baseUrl: location.origin });

function storedSession(): Session | undefined {
  try {
    const session = JSON.parse(localStorage.getItem(sessionKey) ?? 'null') as Session | null;
    if (session && Date.parse(session.expiresAt) > Date.now()) return session;
  } catch {
    // A damaged entry: log in again.
  }
  localStorage.removeItem(sessionKey);
  return undefined;
}

/** This browser's device id: made once, sent with every login, so that logging in again is the same device. */
function deviceId(): string {
  let id = localStorage.getItem(deviceKey);
  if (!id) {
    id = `web-${crypto.randomUUID()}`;
    localStorage.setItem(deviceKey, id);
  }
  return id;
}

/** What the device list shows for this browser: "Chrome on Linux". */
function deviceName(): string {
  const agent = navigator.userAgent;
  const browser = /Firefox\//.test(agent) ? 'Firefox' : /Edg\//.test(agent) ? 'Edge' : /Chrom(e|ium)\//.test(agent) ? 'Chrome'
    : /Safari\//.test(agent) ? 'Safari' : 'Browser';
  const system = /Android/.test(agent) ? 'Android' : /iPhone|iPad/.test(agent) ? 'iOS' : /Windows/.test(agent) ? 'Windows'
    : /Mac OS X/.test(agent) ? 'macOS' : /Linux/.test(agent) ? 'Linux' : 'an unknown system';
  return `${browser} on ${system}`;
}

function showAuth(message?: string): void {
  $('app').hidden = true;
  $('auth').hidden = false;
  showStatus(undefined);
  if (message) showAlert(message);
  $<HTMLInputElement>('auth-username').focus();
}

async function authenticate(register: boolean): Promise<void> {
  const username = $<HTMLInputElement>('auth-username').value.trim();
  const password = $<HTMLInputElement>('auth-password').value;
  if (!username || !password) return showAlert('Enter a username and a password.');
  const buttons = [$<HTMLButtonElement>('login-button'), $<HTMLButtonElement>('register-button')];
  buttons.forEach((b) => (b.disabled = true));
  try {
    if (register) await api.register(username, password);
    const session = await api.login(username, password, deviceId(), deviceName());
    localStorage.setItem(sessionKey, JSON.stringify(session));
    $<HTMLInputElement>('auth-password').value = '';
    await open(session);
  } catch (error) {
    showAlert(describeError(error, register ? 'Could not create the account' : 'Could not log in'));
  } finally {
    buttons.forEach((b) => (b.disabled = false));
  }
}

let view: ChatView | undefined;

async function open(session: Session): Promise<void> {
  $('auth').hidden = true;
  $('app').hidden = false;
  view?.close();
  // Logged out (here or from another device), expired, or the account deleted: back to the login form.
  view = new ChatView(session, (message) => endSession(message));
  try {
    await view.start();
  } catch (error) {
    if (error instanceof MessengerError && error.status === 401) return;
    showAlert(describeError(error, 'Could not load your conversations'));
  }
}

function endSession(message?: string): void {
  localStorage.removeItem(sessionKey);
  view?.close();
  view = undefined;
  showAuth(message);
}

window.addEventListener('DOMContentLoaded', () => {
  $('auth-form').addEventListener('submit', (e) => {
    e.preventDefault();
    void authenticate(false);
  });
  $('register-button').addEventListener('click', () => void authenticate(true));
  // Another tab logged in or out: follow it.
  window.addEventListener('storage', (e) => {
    if (e.key !== sessionKey) return;
    const session = storedSession();
    if (session && session.token !== view?.token) void open(session);
    else if (!session && view) endSession();
  });
  const session = storedSession();
  if (session) void open(session);
  else showAuth();
});
