// How far my own messages have got (PROTOCOL 4.16). In a direct conversation each says "Sent",
// "Delivered" or "Read"; in a group, "Delivered to 2 · Read by 1 of 3", a button that opens the list of
// who read it. The counts come from the `receipts` updates of my log, so every tab and device of mine
// shows the same and follows them live; messages older than what the page has seen of the log are asked
// for once each (the list and history carry no counts).
import type { Message, MessageReceipts, MessengerApi, Receipt } from '../src/index.js';
import { describeError, element } from './dom.js';
import type { ChatState, Model } from './model.js';
import type { Words } from './words.js';

type State = 'sent' | 'delivered' | 'read';
const stateWords: Record<State, string> = { sent: 'Sent', delivered: 'Delivered', read: 'Read' };
/** Receipt queries at once when a group's page of history needs them. */
const parallelQueries = 4;

/** Where a message stands: read by every member it was for, received by all of them, or neither yet. */
function stateOf(receipt: Receipt | undefined): State {
  if (!receipt || receipt.of === 0) return 'sent';
  return receipt.read >= receipt.of ? 'read' : receipt.delivered >= receipt.of ? 'delivered' : 'sent';
}

/** A group message's counts: "Delivered to 2 · Read by 1 of 3" ("Sent" before any member has it). */
function summary(receipt: Receipt | undefined): string {
  if (!receipt || receipt.of === 0) return 'Sent';
  return `Delivered to ${receipt.delivered} · Read by ${receipt.read} of ${receipt.of}`;
}

export class Receipts {
  /** The message whose who-read list is open, and the server's last answer for it. */
  private open?: { conversationId: string; seq: number; answer?: MessageReceipts; error?: string; asking: number };
  /** Messages asked for already (conversation id and seq), so that reopening a chat asks nothing again. */
  private readonly asked = new Set<string>();

  constructor(
    private readonly api: MessengerApi,
    private readonly model: Model,
    private readonly words: Words,
    private readonly resolveNames: (userIds: readonly string[]) => Promise<void>,
    /** Draws a conversation's messages again (if it is the open one). */
    private readonly redraw: (conversationId: string) => void,
  ) {}

  /** What one of my messages shows: its state (`mark`, in the message's meta line) and, when opened, who read it. */
  render(chat: ChatState, message: Message): { mark: HTMLElement; detail?: HTMLElement } {
    const receipt = chat.receipts.get(message.seq);
    if (!this.model.isGroup(chat)) {
      const mark = element('span', 'receipt', stateWords[stateOf(receipt)]); // the ticks are drawn by app.css
      mark.dataset.state = stateOf(receipt);
      return { mark };
    }
    const open = this.open?.conversationId === chat.id && this.open.seq === message.seq ? this.open : undefined;
    const button = element('button', 'receipt', summary(receipt));
    button.type = 'button';
    button.dataset.state = stateOf(receipt);
    button.dataset.seq = String(message.seq);
    button.setAttribute('aria-expanded', String(!!open));
    button.addEventListener('click', () => this.toggle(chat.id, message.seq));
    if (!open) return { mark: button };
    const detail = element('ul', 'who-read');
    detail.id = `who-read-${message.seq}`;
    detail.setAttribute('aria-label', 'Who read it');
    button.setAttribute('aria-controls', detail.id);
    const line = (text: string) => detail.append(element('li', undefined, text));
    if (open.error) line(open.error);
    else if (!open.answer) line('Looking…');
    else {
      const { readBy, deliveredTo, of } = open.answer;
      const unread = deliveredTo.filter((u) => !readBy.includes(u));
      line(readBy.length > 0 ? `Read by ${this.words.names(readBy)}` : 'Read by nobody yet');
      if (unread.length > 0) line(`Delivered to ${this.words.names(unread)}, not read yet`);
      const waiting = of - deliveredTo.length;
      if (waiting > 0) line(`Not delivered yet to ${waiting} ${waiting === 1 ? 'member' : 'members'}`);
    }
    return { mark: button, detail };
  }

  /** A receipts update arrived: the open who-read list is asked for again if it is about one of its messages. */
  updated(conversationId: string, receipts: readonly Receipt[] | undefined): void {
    const open = this.open;
    if (open?.conversationId === conversationId && receipts?.some((r) => r.seq === open.seq)) void this.ask();
  }

  /** Closes the who-read list (another chat opened). */
  reset(): void {
    this.open = undefined;
  }

  /**
   * Asks the server for the counts of my messages of `chat` the page knows none for, and which came
   * before the part of the log it has seen (see ChatState.receiptsFrom): after that, updates bring them.
   */
  async fill(chat: ChatState): Promise<void> {
    const from = chat.receiptsFrom ?? Infinity;
    const missing = this.model.messages(chat).filter((m) => m.senderId === this.model.me && !m.event && m.seq < from
      && !chat.receipts.has(m.seq) && !this.asked.has(`${chat.id} ${m.seq}`)).reverse();
    if (missing.length === 0) return;
    for (const m of missing) this.asked.add(`${chat.id} ${m.seq}`);
    if (this.model.isGroup(chat)) {
      const queue = [...missing];
      const worker = async () => {
        for (let m = queue.shift(); m; m = queue.shift()) await this.query(chat, m.seq);
      };
      await Promise.all(Array.from({ length: parallelQueries }, worker));
    } else {
      // The other member's read mark is past a read message, so every older message of mine is read too:
      // from the newest, the first read one ends the walk (usually the first asked).
      for (const [i, m] of missing.entries()) {
        const receipt = await this.query(chat, m.seq);
        if (!receipt) break;
        if (stateOf(receipt) !== 'read') continue;
        for (const older of missing.slice(i + 1)) {
          if (!chat.receipts.has(older.seq)) chat.receipts.set(older.seq, { ...receipt, seq: older.seq });
        }
        break;
      }
    }
    this.redraw(chat.id);
  }

  private async query(chat: ChatState, seq: number): Promise<Receipt | undefined> {
    try {
      const answer = await this.api.messageReceipts(chat.id, seq);
      // A receipts update that arrived meanwhile is at least as new as the answer: it stays.
      if (!chat.receipts.has(seq)) chat.receipts.set(seq, { seq, delivered: answer.deliveredTo.length, read: answer.readBy.length, of: answer.of });
      return chat.receipts.get(seq);
    } catch {
      return undefined; // a group I have left answers not_member: its messages stay "Sent"
    }
  }

  private toggle(conversationId: string, seq: number): void {
    const wasOpen = this.open?.conversationId === conversationId && this.open.seq === seq;
    this.open = wasOpen ? undefined : { conversationId, seq, asking: 0 };
    this.redraw(conversationId);
    if (!wasOpen) void this.ask();
  }

  /** Asks who received and read the open message; only the latest question's answer is shown. */
  private async ask(): Promise<void> {
    const open = this.open;
    if (!open) return;
    const asking = ++open.asking;
    try {
      const answer = await this.api.messageReceipts(open.conversationId, open.seq);
      await this.resolveNames(answer.deliveredTo);
      if (this.open !== open || open.asking !== asking) return;
      open.answer = answer;
      open.error = undefined;
    } catch (error) {
      if (this.open !== open || open.asking !== asking) return;
      open.error = describeError(error, 'Could not ask who read it');
    }
    this.redraw(open.conversationId);
  }
}
