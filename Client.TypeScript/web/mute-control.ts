// Muting the open chat from its header: for 8 hours or until unmuted, and unmuting. The state shown is
// the server's alone (the list's mutedUntil, then `mute` updates, PROTOCOL 4.17): the answer to a mute is
// not applied here, its update is, so every tab and device of the user changes at once and the same way.
import type { MessengerApi } from '../src/index.js';
import { $, describeError, formatTime, showAlert, type On } from './dom.js';
import type { ChatState, Model } from './model.js';

const forAWhileMs = 8 * 60 * 60 * 1000;
/** A mute ending later than this is not waited for with a timer (they stop at about 24 days), only checked again on the next draw. */
const longestWaitMs = 24 * 60 * 60 * 1000;

export class MuteControl {
  private timer?: ReturnType<typeof setTimeout>;

  constructor(
    private readonly model: Model,
    private readonly api: MessengerApi,
    private readonly open: () => ChatState | undefined,
    /** Draws the list and the header again (a mute ended). */
    private readonly redraw: () => void,
  ) {}

  bind(on: On): void {
    on('mute-button', 'click', () => {
      const chat = this.open();
      if (!chat) return;
      if (this.model.isMuted(chat, Date.now())) void this.set(chat, false);
      else this.showMenu($('mute-menu').hidden);
    });
    on('mute-8h', 'click', () => void this.set(this.open(), true, new Date(Date.now() + forAWhileMs)));
    on('mute-forever', 'click', () => void this.set(this.open(), true));
    on('mute-menu', 'keydown', (e) => {
      if (e.key !== 'Escape') return;
      this.showMenu(false);
      $('mute-button').focus();
    });
  }

  /** The header's button and note for the open chat. */
  render(chat: ChatState): void {
    const muted = this.model.isMuted(chat, Date.now());
    const button = $('mute-button');
    button.textContent = muted ? 'Unmute' : 'Mute';
    if (muted) {
      this.showMenu(false);
      button.removeAttribute('aria-expanded'); // a plain button then: it unmutes at once
    } else {
      button.setAttribute('aria-expanded', String(!$('mute-menu').hidden));
    }
    const note = $('chat-muted');
    note.hidden = !muted;
    note.textContent = muted ? mutedWords(chat.mutedUntil!) : '';
  }

  /** Closes the menu (another chat opened). */
  reset(): void {
    this.showMenu(false);
  }

  /** Draws again when the soonest mute ends: no update marks the end of a mute. */
  watch(): void {
    clearTimeout(this.timer);
    const now = Date.now();
    const ends = [...this.model.chats.values()].filter((c) => this.model.isMuted(c, now)).map((c) => Date.parse(c.mutedUntil!) - now);
    const soonest = Math.min(...ends);
    if (soonest <= longestWaitMs) this.timer = setTimeout(() => this.redraw(), soonest + 50);
  }

  close(): void {
    clearTimeout(this.timer);
    this.showMenu(false);
  }

  private showMenu(show: boolean): void {
    $('mute-menu').hidden = !show;
    if ($('mute-button').hasAttribute('aria-expanded')) $('mute-button').setAttribute('aria-expanded', String(show));
    if (show) $('mute-8h').focus();
  }

  private async set(chat: ChatState | undefined, muted: boolean, until?: Date): Promise<void> {
    this.showMenu(false);
    if (!chat) return;
    try {
      if (muted) await this.api.mute(chat.id, until);
      else await this.api.unmute(chat.id);
    } catch (error) {
      showAlert(describeError(error, muted ? 'Could not mute the conversation' : 'Could not unmute the conversation'));
    }
    $('mute-button').focus();
  }
}

/** "Muted until 18:30", or "Muted until you unmute" for the server's year 9999. */
function mutedWords(until: string): string {
  return new Date(until).getUTCFullYear() >= 9999 ? 'Muted until you unmute' : `Muted until ${formatTime(until)}`;
}
