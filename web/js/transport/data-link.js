// @ts-check
// data-link.js: the sealed data channel of each peer connection
// (DATA_CHANNEL), and dispatch by envelope type. Every message is a small
// JSON envelope `{t, ...}` sealed under the pair key of the two tabs by the box it
// is given (DataSealer: sender tab, recipient tab, channel SEAL_CHANNEL and
// a counter in the associated data; replays refused), opened in order per
// peer, and handed to the handler registered for its `t` (chat, cards and
// plugins register theirs). Nothing here goes through the signaling
// server. No DOM.

import { Chains } from '../util/chains.js';
import { SEAL_CHANNEL } from './channels.js';

/**
 * @typedef {{seal: (tab: string, channel: string, value: unknown) => Promise<Uint8Array>,
 *   open: (tab: string, channel: string, bytes: Uint8Array) => Promise<unknown>}} Box
 */

/**
 * The sealed data channels, one per peer, and dispatch by envelope type.
 */
export class DataLink {
  /** @param {Box} box */
  constructor(box) {
    this.box = box;
    /** @type {Map<string, RTCDataChannel>} */
    this.channels = new Map();
    /** @type {Map<string, (from: string, msg: any) => void>} */
    this.handlers = new Map();
    /** per peer: sends in order */
    this.sent = new Chains('data message not sent');
    /** per peer: opens in order */
    this.received = new Chains('data message dropped');
    /** @type {Set<(tab: string) => void>} */
    this.openListeners = new Set();
    this.counters = { sent: 0, received: 0, refused: 0 };
  }

  /**
   * @param {string} type
   * @param {(from: string, msg: any) => void} fn
   */
  handle(type, fn) {
    this.handlers.set(type, fn);
  }

  /**
   * The channel of a (new) connection to `tab`.
   * @param {string} tab
   * @param {RTCDataChannel} ch
   */
  attach(tab, ch) {
    ch.binaryType = 'arraybuffer';
    this.channels.set(tab, ch);
    ch.addEventListener('message', (ev) => {
      if (!(ev.data instanceof ArrayBuffer)) {
        this.counters.refused += 1;
        return;
      }
      const bytes = new Uint8Array(ev.data);
      this.received.run(tab, async () => {
        const env = await this.box.open(tab, SEAL_CHANNEL, bytes);
        const t = env && typeof env === 'object' ? /** @type {{t?: unknown}} */ (env).t : undefined;
        const fn = typeof t === 'string' ? this.handlers.get(t) : undefined;
        if (!fn) {
          this.counters.refused += 1;
          return;
        }
        this.counters.received += 1;
        fn(tab, env);
      });
    });
    ch.addEventListener('open', () => {
      for (const fn of this.openListeners) fn(tab);
    });
  }

  /** @param {string} tab */
  detach(tab) {
    this.channels.delete(tab);
    this.sent.delete(tab);
    this.received.delete(tab);
  }

  /** Tabs whose channel is open now. */
  openTabs() {
    return [...this.channels].filter(([, ch]) => ch.readyState === 'open').map(([t]) => t);
  }

  /**
   * Seals and sends; false if the channel is not open.
   * @param {string} tab
   * @param {unknown} value
   */
  send(tab, value) {
    const ch = this.channels.get(tab);
    if (!ch || ch.readyState !== 'open') return false;
    this.sent.run(tab, async () => {
      const bytes = await this.box.seal(tab, SEAL_CHANNEL, value);
      if (ch.readyState !== 'open') return;
      ch.send(/** @type {Uint8Array<ArrayBuffer>} */ (bytes));
      this.counters.sent += 1;
    });
    return true;
  }
}
