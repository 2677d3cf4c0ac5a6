// @ts-check
// reactions.js: a raised hand and quick reactions, person to person on the
// sealed data channel like chat (transport/data-link.js), never through
// the server. A hand stays up until lowered, and is told again to anyone
// whose channel opens later; a reaction is one of a few emoji, shown for a
// moment. What arrives is checked strictly and limited per person. No DOM.

import { Emitter } from '../util/emitter.js';

/** The reactions one can send, in the order the menu shows them. */
export const REACTIONS = Object.freeze(['👍', '👏', '😂', '🎉', '❤️', '😮']);
/** At most this many reactions from one person are shown per REACT_WINDOW_MS. */
export const REACT_BURST = 5;
export const REACT_WINDOW_MS = 3000;

/** @typedef {import('../transport/data-link.js').DataLink} DataLink */

/**
 * A received envelope, checked: {t: 'hand', up} or {t: 'react', e}; null
 * for anything else.
 * @param {unknown} m
 * @returns {{t: 'hand', up: boolean} | {t: 'react', e: string} | null}
 */
export function parseReaction(m) {
  if (typeof m !== 'object' || m === null || Array.isArray(m)) return null;
  const o = /** @type {Record<string, unknown>} */ (m);
  if (o.t === 'hand' && typeof o.up === 'boolean') return { t: 'hand', up: o.up };
  if (o.t === 'react' && typeof o.e === 'string' && REACTIONS.includes(o.e)) return { t: 'react', e: o.e };
  return null;
}

/**
 * Events: `hand` {tab, up} (ours too, tab ''), `react` {tab, emoji}.
 * @extends {Emitter<{hand: {tab: string, up: boolean}, react: {tab: string, emoji: string}}>}
 */
export class Reactions extends Emitter {
  /** @param {DataLink} link */
  constructor(link) {
    super();
    this.link = link;
    this.handUp = false;
    /** @type {Set<string>} tabs whose hand is up */
    this.hands = new Set();
    /** @type {Map<string, number[]>} recent reaction times, per tab */
    this.recent = new Map();
    this.counters = { sent: 0, shown: 0, dropped: 0 };
    link.handle('hand', (from, m) => this.onMessage(from, m));
    link.handle('react', (from, m) => this.onMessage(from, m));
    link.openListeners.add((t) => { if (this.handUp) this.link.send(t, { t: 'hand', up: true }); });
  }

  /** Raises or lowers our hand, for everyone. @param {boolean} up */
  setHand(up) {
    this.handUp = up;
    for (const t of this.link.openTabs()) this.link.send(t, { t: 'hand', up });
    this.emit('hand', { tab: '', up });
  }

  /** Sends a reaction to everyone (shown here too). @param {string} emoji */
  react(emoji) {
    if (!REACTIONS.includes(emoji)) return;
    for (const t of this.link.openTabs()) this.link.send(t, { t: 'react', e: emoji });
    this.counters.sent += 1;
    this.emit('react', { tab: '', emoji });
  }

  /** @param {string} from @param {unknown} m */
  onMessage(from, m) {
    const r = parseReaction(m);
    if (!r) {
      this.counters.dropped += 1;
      return;
    }
    if (r.t === 'hand') {
      if (r.up === this.hands.has(from)) return;
      if (r.up) this.hands.add(from); else this.hands.delete(from);
      this.emit('hand', { tab: from, up: r.up });
      return;
    }
    const now = Date.now();
    const times = (this.recent.get(from) ?? []).filter((x) => now - x < REACT_WINDOW_MS);
    if (times.length >= REACT_BURST) {
      this.counters.dropped += 1;
      return;
    }
    times.push(now);
    this.recent.set(from, times);
    this.counters.shown += 1;
    this.emit('react', { tab: from, emoji: r.e });
  }

  /** A peer left: its hand goes down with it. @param {string} tab */
  peerGone(tab) {
    this.hands.delete(tab);
    this.recent.delete(tab);
  }

  /** For the test hook: counts and raised hands, nothing else. */
  snapshot() {
    return { handUp: this.handUp, hands: [...this.hands], counters: { ...this.counters } };
  }
}
