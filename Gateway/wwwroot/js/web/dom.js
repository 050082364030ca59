// Small DOM helpers shared by the page's parts, and the words shown for errors.
import { MessengerError } from '../src/index.js';
export function $(id) {
    const element = document.getElementById(id);
    if (!element)
        throw new Error(`#${id} is missing from the page`);
    return element;
}
export function element(tag, className, text) {
    const e = document.createElement(tag);
    if (className)
        e.className = className;
    if (text !== undefined)
        e.textContent = text;
    return e;
}
let alertTimer;
/** Shows an error to the person, in words, for a while. */
export function showAlert(message) {
    const alert = $('alert');
    alert.textContent = message;
    alert.hidden = false;
    clearTimeout(alertTimer);
    alertTimer = setTimeout(() => (alert.hidden = true), 8000);
}
/** Shows (or, with undefined, hides) the connection status line. */
export function showStatus(message) {
    const status = $('status');
    status.textContent = message ?? '';
    status.hidden = message === undefined;
}
const words = {
    network_error: 'the server cannot be reached; check your connection',
    unavailable: 'the service is briefly unavailable; try again in a moment',
    internal_error: 'the server failed; try again',
    invalid_credentials: 'the username or password is wrong',
    username_taken: 'that username is taken',
    user_not_found: 'there is no user with that name',
    not_member: 'you are not a member of that conversation',
    not_contact: 'you share no conversation with that user',
    rate_limited: 'too many attempts; wait a little and try again',
    too_large: 'the message is too long',
    token_expired: 'your session has expired; log in again',
    unauthorized: 'your session is no longer valid; log in again',
    logged_out: 'this browser was logged out; log in again',
    user_deleted: 'they deleted their account, so the conversation takes no more messages',
    wrong_password: 'the password is wrong',
    device_not_found: 'that device is no longer logged in',
    not_admin: 'only the group’s admins and owners can do that',
    not_owner: 'only the group’s owners can do that',
    member_not_found: 'they are no longer a member of the group',
    already_member: 'they are in the group already',
    last_owner: 'the group needs an owner: make another member an owner first',
    group_full: 'the group would have more members than it may',
    not_group: 'that is not a group',
};
/** "What failed: why", from the server's code (and its own detail where the code alone says too little). */
export function describeError(error, what) {
    if (error instanceof MessengerError) {
        const why = words[error.code] ?? error.message;
        const wait = error.retryAfterMs ? ` (wait ${Math.ceil(error.retryAfterMs / 1000)} s)` : '';
        // The server's own detail ends with a full stop already.
        const detail = error.code === 'invalid_request' || error.code === 'out_of_range' ? error.message.replace(/\.$/, '') : why;
        return `${what}: ${detail}${wait}.`;
    }
    return `${what}: ${error instanceof Error ? error.message : String(error)}.`;
}
export function formatTime(iso) {
    const date = new Date(iso);
    const today = new Date();
    const time = date.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
    return date.toDateString() === today.toDateString() ? time : `${date.toLocaleDateString()} ${time}`;
}
/** "last seen 5 min ago" (or, with another `verb`, "active 5 min ago"); "offline" without a time. */
export function lastSeen(iso, now, verb = 'last seen') {
    if (!iso)
        return 'offline';
    const minutes = Math.floor((now - Date.parse(iso)) / 60_000);
    if (minutes < 1)
        return `${verb} just now`;
    if (minutes < 60)
        return `${verb} ${minutes} min ago`;
    if (minutes < 24 * 60)
        return `${verb} ${Math.floor(minutes / 60)} h ago`;
    return `${verb} ${formatTime(iso)}`;
}
