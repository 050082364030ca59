import { describeError, showAlert } from './dom.js';
/** The usernames in what was typed, separated by commas, semicolons or spaces; each once, in order. */
export function usernamesIn(text) {
    return [...new Set(text.split(/[\s,;]+/).map((n) => n.trim()).filter((n) => n.length > 0))];
}
/**
 * The users with these names, or undefined after telling the person which name failed and why
 * (`failed` says what could not be done with that name: "Could not add bob").
 */
export async function lookUp(api, usernames, failed) {
    const found = await Promise.allSettled(usernames.map((name) => api.userByUsername(name)));
    const refused = found.findIndex((f) => f.status === 'rejected');
    if (refused >= 0) {
        showAlert(describeError(found[refused].reason, failed(usernames[refused])));
        return undefined;
    }
    return found.map((f) => f.value);
}
