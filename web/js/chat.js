// @ts-check
// chat.js: chat over the peer connections' data channel. No DOM here.
//
// Each RTCPeerConnection carries one ordered, reliable data channel made
// with `negotiated: true` and a fixed id (mesh.js), so it exists before any
// offer and both sides agree on it without signaling. `DataLink` owns those
// channels: every message is a small typed envelope `{t: 'chat', ...}`,
// sealed with the room's data key (DataSealer: sender tab, recipient tab and
// a counter in the associated data; replays refused), and handed to the
// handler registered for its type. Chat uses `chat` and `chat-ack`; file
// transfer can register its own types on the same link.
//
// Nothing of chat ever goes through the signaling server, not even as a
// fallback: a peer without an open channel simply does not get the message,
// and the sender sees it in the delivery state.

import { Emitter } from './emitter.js';

/** Longest message, in UTF-8 bytes. */
export const CHAT_MAX_BYTES = 16 * 1024;
/** The data channel every peer connection has (negotiated, fixed id). */
export const DATA_CHANNEL = Object.freeze({ label: 'xroom', id: 0 });
/** The channel name bound into the associated data of sealed messages. */
export const SEAL_CHANNEL = 'dc1';
/** How long to wait for the acknowledgements of a message. */
export const ACK_TIMEOUT_MS = 8000;
/** Ids of messages we keep per peer to drop duplicates. */
const SEEN_IDS = 512;
const MAX_ID = 32;

const enc = new TextEncoder();

/** UTF-8 length of a string. @param {string} s */
export function utf8Bytes(s) {
  return enc.encode(s).length;
}

/**
 * Whether `text` may be sent: not blank, at most CHAT_MAX_BYTES.
 * @param {string} text
 * @returns {{ok: true, text: string} | {ok: false, reason: 'empty' | 'too-long', bytes: number}}
 */
export function checkText(text) {
  const bytes = utf8Bytes(text);
  if (text.trim() === '') return { ok: false, reason: 'empty', bytes };
  if (bytes > CHAT_MAX_BYTES) return { ok: false, reason: 'too-long', bytes };
  return { ok: true, text };
}

/** What the UI says when text is refused. @param {number} bytes */
export function tooLongText(bytes) {
  return `Message too long: ${Math.ceil(bytes / 1024)} KiB, the limit is ${CHAT_MAX_BYTES / 1024} KiB. It was not sent.`;
}

/**
 * @typedef {{t: 'chat', id: string, text: string}} ChatEnvelope
 * @typedef {{t: 'chat-ack', id: string}} AckEnvelope
 * @typedef {ChatEnvelope | AckEnvelope} Envelope
 */

/** @param {string} id @param {string} text @returns {ChatEnvelope} */
export function chatEnvelope(id, text) {
  return { t: 'chat', id, text };
}

/** @param {string} id @returns {AckEnvelope} */
export function ackEnvelope(id) {
  return { t: 'chat-ack', id };
}

/** @param {unknown} v */
function goodId(v) {
  return typeof v === 'string' && v.length > 0 && v.length <= MAX_ID && /^[A-Za-z0-9_-]+$/.test(v);
}

/**
 * Checks an opened message; anything malformed is null.
 * @param {unknown} v
 * @returns {Envelope | null}
 */
export function parseEnvelope(v) {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return null;
  const o = /** @type {Record<string, unknown>} */ (v);
  if (!goodId(o.id)) return null;
  const id = /** @type {string} */ (o.id);
  if (o.t === 'chat') {
    if (typeof o.text !== 'string' || !checkText(o.text).ok) return null;
    return chatEnvelope(id, o.text);
  }
  if (o.t === 'chat-ack') return ackEnvelope(id);
  return null;
}

/**
 * Splits text into plain parts and http(s) links. Anything else that looks
 * like a link (javascript:, data:, mailto:…) stays plain text. Trailing
 * punctuation is not part of a link.
 * @param {string} text
 * @returns {Array<{text: string, href?: string}>}
 */
export function splitLinks(text) {
  /** @type {Array<{text: string, href?: string}>} */
  const out = [];
  const re = /\bhttps?:\/\/[^\s<>"]+/gi;
  let at = 0;
  for (const m of text.matchAll(re)) {
    let url = m[0];
    // Trailing punctuation and unbalanced closing brackets stay text.
    for (;;) {
      const last = url.at(-1) ?? '';
      if (/[.,;:!?'*]/.test(last)) url = url.slice(0, -1);
      else if (last === ')' && (url.match(/\(/g)?.length ?? 0) < (url.match(/\)/g)?.length ?? 0)) url = url.slice(0, -1);
      else break;
    }
    const start = /** @type {number} */ (m.index);
    let href = '';
    try {
      const u = new URL(url);
      if ((u.protocol === 'http:' || u.protocol === 'https:') && u.hostname) href = u.href;
    } catch { /* not a link */ }
    if (!href) continue;
    if (start > at) out.push({ text: text.slice(at, start) });
    out.push({ text: url, href });
    at = start + url.length;
  }
  if (at < text.length) out.push({ text: text.slice(at) });
  return out;
}

/** @typedef {'sending' | 'all' | 'some' | 'none'} Delivery */

/**
 * Delivery of one message from the acknowledgements.
 * @param {{to: Set<string>, acked: Set<string>, done: boolean}} m
 * @returns {Delivery}
 */
export function deliveryOf(m) {
  if (m.to.size === 0) return 'none';
  let n = 0;
  for (const t of m.to) if (m.acked.has(t)) n += 1;
  if (n === m.to.size) return 'all';
  if (!m.done) return 'sending';
  return n > 0 ? 'some' : 'none';
}

/** A random message id. */
function newId() {
  const b = crypto.getRandomValues(new Uint8Array(12));
  return btoa(String.fromCharCode(...b)).replace(/\+/g, '-').replace(/\//g, '_');
}

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
    /** @type {Map<string, Promise<void>>} per peer: sends in order */
    this.sendChain = new Map();
    /** @type {Map<string, Promise<void>>} per peer: opens in order */
    this.recvChain = new Map();
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
      const prev = this.recvChain.get(tab) ?? Promise.resolve();
      const next = prev.then(async () => {
        const env = await this.box.open(tab, SEAL_CHANNEL, bytes);
        const t = env && typeof env === 'object' ? /** @type {{t?: unknown}} */ (env).t : undefined;
        const fn = typeof t === 'string' ? this.handlers.get(t) : undefined;
        if (!fn) {
          this.counters.refused += 1;
          return;
        }
        this.counters.received += 1;
        fn(tab, env);
      }).catch((e) => console.warn('xroom: data message dropped', e));
      this.recvChain.set(tab, next);
    });
    ch.addEventListener('open', () => {
      for (const fn of this.openListeners) fn(tab);
    });
  }

  /** @param {string} tab */
  detach(tab) {
    this.channels.delete(tab);
    this.sendChain.delete(tab);
    this.recvChain.delete(tab);
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
    const prev = this.sendChain.get(tab) ?? Promise.resolve();
    const next = prev.then(async () => {
      const bytes = await this.box.seal(tab, SEAL_CHANNEL, value);
      if (ch.readyState !== 'open') return;
      ch.send(/** @type {Uint8Array<ArrayBuffer>} */ (bytes));
      this.counters.sent += 1;
    }).catch((e) => console.warn('xroom: data message not sent', e));
    this.sendChain.set(tab, next);
    return true;
  }
}

/**
 * @typedef {{id: string, from: string, mine: boolean, text: string, at: number,
 *   to: Set<string>, acked: Set<string>, done: boolean}} ChatMessage
 */

/**
 * The room's chat: history in memory only, per-peer acknowledgements.
 * Events: `message` {message}, `delivery` {message}.
 * @extends {Emitter<{message: {message: ChatMessage}, delivery: {message: ChatMessage}}>}
 */
export class Chat extends Emitter {
  /**
   * @param {DataLink} link
   * @param {string} tab  ours
   */
  constructor(link, tab) {
    super();
    this.link = link;
    this.tab = tab;
    /** @type {ChatMessage[]} */
    this.history = [];
    /** @type {Map<string, ChatMessage>} ours, by id */
    this.mine = new Map();
    /** @type {Map<string, string[]>} ids seen per peer */
    this.seen = new Map();
    /** @type {Set<ReturnType<typeof setTimeout>>} */
    this.timers = new Set();
    link.handle('chat', (from, m) => this.onChat(from, /** @type {unknown} */ (m)));
    link.handle('chat-ack', (from, m) => this.onAck(from, /** @type {unknown} */ (m)));
    // A peer whose channel was not open yet (still connecting, being
    // rebuilt) gets what it missed as soon as it opens, while the message
    // still waits for acknowledgements.
    link.openListeners.add((t) => {
      for (const m of this.mine.values()) {
        if (!m.done && m.to.has(t) && !m.acked.has(t)) this.link.send(t, chatEnvelope(m.id, m.text));
      }
    });
  }

  /**
   * Sends to every peer whose channel is open. Refused text is not sent.
   * @param {string} text
   * @returns {{ok: true, message: ChatMessage} | {ok: false, reason: 'empty' | 'too-long', bytes: number}}
   */
  send(text) {
    const c = checkText(text);
    if (!c.ok) return c;
    const id = newId();
    /** @type {ChatMessage} */
    const message = { id, from: this.tab, mine: true, text, at: Date.now(), to: new Set(), acked: new Set(), done: false };
    const env = chatEnvelope(id, text);
    // Every peer we have a connection to counts: one whose channel is not
    // open yet gets it if it opens before the acknowledgement timeout;
    // otherwise the delivery state says it did not. There is no other way
    // to send it (never through the server).
    for (const t of this.link.channels.keys()) {
      message.to.add(t);
      this.link.send(t, env);
    }
    this.history.push(message);
    this.mine.set(id, message);
    if (message.to.size === 0) message.done = true;
    else {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        this.finish(message);
      }, ACK_TIMEOUT_MS);
      this.timers.add(timer);
    }
    this.emit('message', { message });
    return { ok: true, message };
  }

  /** @param {ChatMessage} m */
  finish(m) {
    if (m.done) return;
    m.done = true;
    this.emit('delivery', { message: m });
  }

  /** A peer is gone: its acknowledgements will not come. @param {string} tab */
  peerGone(tab) {
    this.seen.delete(tab);
    for (const m of this.mine.values()) {
      if (!m.done && m.to.has(tab) && !m.acked.has(tab) && [...m.to].every((t) => t === tab || m.acked.has(t))) this.finish(m);
    }
  }

  /** @param {string} from @param {unknown} raw */
  onChat(from, raw) {
    const env = parseEnvelope(raw);
    if (!env || env.t !== 'chat') return;
    this.link.send(from, ackEnvelope(env.id));
    const seen = this.seen.get(from) ?? [];
    if (seen.includes(env.id)) return;
    seen.push(env.id);
    if (seen.length > SEEN_IDS) seen.shift();
    this.seen.set(from, seen);
    /** @type {ChatMessage} */
    const message = { id: env.id, from, mine: false, text: env.text, at: Date.now(), to: new Set(), acked: new Set(), done: true };
    this.history.push(message);
    this.emit('message', { message });
  }

  /** @param {string} from @param {unknown} raw */
  onAck(from, raw) {
    const env = parseEnvelope(raw);
    if (!env || env.t !== 'chat-ack') return;
    const m = this.mine.get(env.id);
    if (!m || !m.to.has(from) || m.acked.has(from)) return;
    m.acked.add(from);
    if (m.acked.size === m.to.size) m.done = true;
    this.emit('delivery', { message: m });
  }

  /** For tests: counts only, never the text. */
  snapshot() {
    return {
      messages: this.history.length,
      mine: this.mine.size,
      link: { ...this.link.counters },
      open: this.link.openTabs(),
      delivery: [...this.mine.values()].map((m) => deliveryOf(m)),
    };
  }

  close() {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }
}
