import { $, describeError, formatTime, showAlert } from './dom.js';
const forAWhileMs = 8 * 60 * 60 * 1000;
/** A mute ending later than this is not waited for with a timer (they stop at about 24 days), only checked again on the next draw. */
const longestWaitMs = 24 * 60 * 60 * 1000;
export class MuteControl {
    model;
    api;
    open;
    redraw;
    timer;
    constructor(model, api, open, 
    /** Draws the list and the header again (a mute ended). */
    redraw) {
        this.model = model;
        this.api = api;
        this.open = open;
        this.redraw = redraw;
    }
    bind(on) {
        on('mute-button', 'click', () => {
            const chat = this.open();
            if (!chat)
                return;
            if (this.model.isMuted(chat, Date.now()))
                void this.set(chat, false);
            else
                this.showMenu($('mute-menu').hidden);
        });
        on('mute-8h', 'click', () => void this.set(this.open(), true, new Date(Date.now() + forAWhileMs)));
        on('mute-forever', 'click', () => void this.set(this.open(), true));
        on('mute-menu', 'keydown', (e) => {
            if (e.key !== 'Escape')
                return;
            this.showMenu(false);
            $('mute-button').focus();
        });
    }
    /** The header's button and note for the open chat. */
    render(chat) {
        const muted = this.model.isMuted(chat, Date.now());
        const button = $('mute-button');
        button.textContent = muted ? 'Unmute' : 'Mute';
        if (muted) {
            this.showMenu(false);
            button.removeAttribute('aria-expanded'); // a plain button then: it unmutes at once
        }
        else {
            button.setAttribute('aria-expanded', String(!$('mute-menu').hidden));
        }
        const note = $('chat-muted');
        note.hidden = !muted;
        note.textContent = muted ? mutedWords(chat.mutedUntil) : '';
    }
    /** Closes the menu (another chat opened). */
    reset() {
        this.showMenu(false);
    }
    /** Draws again when the soonest mute ends: no update marks the end of a mute. */
    watch() {
        clearTimeout(this.timer);
        const now = Date.now();
        const ends = [...this.model.chats.values()].filter((c) => this.model.isMuted(c, now)).map((c) => Date.parse(c.mutedUntil) - now);
        const soonest = Math.min(...ends);
        if (soonest <= longestWaitMs)
            this.timer = setTimeout(() => this.redraw(), soonest + 50);
    }
    close() {
        clearTimeout(this.timer);
        this.showMenu(false);
    }
    showMenu(show) {
        $('mute-menu').hidden = !show;
        if ($('mute-button').hasAttribute('aria-expanded'))
            $('mute-button').setAttribute('aria-expanded', String(show));
        if (show)
            $('mute-8h').focus();
    }
    async set(chat, muted, until) {
        this.showMenu(false);
        if (!chat)
            return;
        try {
            if (muted)
                await this.api.mute(chat.id, until);
            else
                await this.api.unmute(chat.id);
        }
        catch (error) {
            showAlert(describeError(error, muted ? 'Could not mute the conversation' : 'Could not unmute the conversation'));
        }
        $('mute-button').focus();
    }
}
/** "Muted until 18:30", or "Muted until you unmute" for the server's year 9999. */
function mutedWords(until) {
    return new Date(until).getUTCFullYear() >= 9999 ? 'Muted until you unmute' : `Muted until ${formatTime(until)}`;
}
