// @ts-check
// chat.js: the room's chat, on the sealed data channel of each connection
// (transport/data-link.js: envelopes `chat` and `chat-ack`). History in
// memory only, delivery from per-peer acknowledgements; envelope, length
// and link rules. No DOM here (views/chat-view.js shows it).
//
// Nothing of chat ever goes through the signaling server, not even as a
// fallback: a peer without an open channel simply does not get the message,
// and the sender sees it in the delivery state.

import { Emitter } from '../util/emitter.js';
import { isShortId, randomId } from '../util/ids.js';
import { httpHref } from '../util/text.js';

/** @typedef {import('../transport/data-link.js').DataLink} DataLink */

/** Longest message, in UTF-8 bytes. */
export const CHAT_MAX_BYTES = 16 * 1024;
/** How long to wait for the acknowledgements of a message. */
export const ACK_TIMEOUT_MS = 8000;
/** Ids of messages we keep per peer to drop duplicates. */
const SEEN_IDS = 512;

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

/**
 * Checks an opened message; anything malformed is null.
 * @param {unknown} v
 * @returns {Envelope | null}
 */
export function parseEnvelope(v) {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return null;
  const o = /** @type {Record<string, unknown>} */ (v);
  if (!isShortId(o.id)) return null;
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
    const href = httpHref(url);
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
    const id = randomId(12);
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
