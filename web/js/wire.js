// @ts-check
// wire.js: the one place where peer-to-peer signal payloads (the `data` of
// a `signal` message) are built and read. A payload is a message (see
// Message: the sending tab, the connection generation, a kind and its
// members) as JSON, padded, and sealed with AES-GCM under the room's
// signaling key; the associated data binds the sender's and the
// recipient's current peer ids and the sending tab's counter. The daemon
// relays an opaque blob: it cannot read SDP, candidates, keys, tab ids or
// names, nor alter, replay or redirect a payload. Pure: no DOM.

import { base64url, fromBase64url } from './ids.js';
import { LABELS, Sealer } from './crypto.js';

/** Payload version; a payload of another version is dropped. */
export const WIRE_VERSION = 2;
export const MAX_NAME = 64;
const TAB_RE = /^[A-Za-z0-9_-]{16,43}$/;
const MAX_SDP = 60000;
const MAX_CANDIDATE = 1024;
const KEY_RE = /^[A-Za-z0-9_-]{43}$/;
/** Plaintexts are padded with spaces to a multiple of this, so that lengths say little (a name's, say). */
export const PAD_TO = 256;
/** The largest sealed payload accepted (base64url of a padded SDP). */
const MAX_SEALED = 100_000;
const B64_RE = /^[A-Za-z0-9_-]+$/;

/** @typedef {{name: string, mic: boolean, cam: boolean, screen: boolean}} PeerState */
/** @typedef {{candidate: string, sdpMid: string | null, sdpMLineIndex: number | null, usernameFragment: string | null}} Candidate */
/**
 * @typedef {({kind: 'hello', ack: boolean} & PeerState)
 *   | ({kind: 'state'} & PeerState)
 *   | {kind: 'sdp', description: {type: 'offer' | 'answer', sdp: string}}
 *   | {kind: 'ice', candidate: Candidate}
 *   | {kind: 'key', id: number, key: string, want: boolean}
 *   | {kind: 'key-ack', id: number}
 *   | {kind: 'bye'}} Body
 */
/** @typedef {{tab: string, gen: number} & Body} Message */

/**
 * A display name as shown to others: trimmed, control characters removed,
 * at most MAX_NAME characters.
 * @param {unknown} v
 * @returns {string}
 */
export function cleanName(v) {
  if (typeof v !== 'string') return '';
  // eslint-disable-next-line no-control-regex
  return [...v.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, ' ').trim()].slice(0, MAX_NAME).join('');
}

/** @param {unknown} v @returns {v is Record<string, unknown>} */
function isObject(v) {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** @param {Record<string, unknown>} d @returns {PeerState | null} */
function readState(d) {
  if (typeof d.name !== 'string' || typeof d.mic !== 'boolean' || typeof d.cam !== 'boolean' ||
      typeof d.screen !== 'boolean') return null;
  return { name: cleanName(d.name), mic: d.mic, cam: d.cam, screen: d.screen };
}

/** @param {unknown} v @returns {string | null} */
function strOrNull(v) {
  return typeof v === 'string' ? v : null;
}

/** @param {unknown} v @returns {v is number} */
function isKeyId(v) {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 255;
}

/**
 * Validates a message (the plaintext of a payload). Returns null for
 * anything that is not well formed; it is then dropped, not answered.
 * @param {unknown} data
 * @returns {Message | null}
 */
export function readMessage(data) {
  if (!isObject(data)) return null;
  const { tab, gen, kind } = data;
  if (typeof tab !== 'string' || !TAB_RE.test(tab)) return null;
  if (typeof gen !== 'number' || !Number.isSafeInteger(gen) || gen < 0) return null;
  switch (kind) {
    case 'hello': {
      const st = readState(data);
      if (!st || typeof data.ack !== 'boolean') return null;
      return { tab, gen, kind, ack: data.ack, ...st };
    }
    case 'state': {
      const st = readState(data);
      return st ? { tab, gen, kind, ...st } : null;
    }
    case 'sdp': {
      const d = data.description;
      if (!isObject(d) || (d.type !== 'offer' && d.type !== 'answer') ||
          typeof d.sdp !== 'string' || d.sdp.length > MAX_SDP) return null;
      return { tab, gen, kind, description: { type: d.type, sdp: d.sdp } };
    }
    case 'ice': {
      const c = data.candidate;
      if (!isObject(c) || typeof c.candidate !== 'string' || c.candidate.length > MAX_CANDIDATE) return null;
      const idx = c.sdpMLineIndex;
      const sdpMLineIndex = typeof idx === 'number' && Number.isInteger(idx) && idx >= 0 && idx < 64 ? idx : null;
      return {
        tab, gen, kind,
        candidate: {
          candidate: c.candidate,
          sdpMid: strOrNull(c.sdpMid),
          sdpMLineIndex,
          usernameFragment: strOrNull(c.usernameFragment),
        },
      };
    }
    case 'key':
      if (!isKeyId(data.id) || typeof data.key !== 'string' || !KEY_RE.test(data.key) ||
          typeof data.want !== 'boolean') return null;
      return { tab, gen, kind, id: data.id, key: data.key, want: data.want };
    case 'key-ack':
      return isKeyId(data.id) ? { tab, gen, kind, id: data.id } : null;
    case 'bye':
      return { tab, gen, kind };
    default:
      return null;
  }
}

const enc = new TextEncoder();
const dec = new TextDecoder('utf-8', { fatal: true });

/**
 * Seals messages for the room and opens what arrives. One per page: it
 * holds this tab's counter (it only grows, across rejoins and peer-id
 * changes) and a replay window per remote tab.
 *
 * Payload: `{"v": 2, "c": counter, "iv": base64url(12 bytes), "ct":
 * base64url(AES-GCM(JSON + padding) + tag)}`; associated data:
 * `"xroom/v1/signal" NUL from-peer-id NUL to-peer-id NUL counter(8 bytes)`.
 */
export class SignalCodec {
  /**
   * @param {CryptoKey} key  RoomKeys.signal
   * @param {string} tab  this tab's id
   */
  constructor(key, tab) {
    this.tab = tab;
    this.sealer = new Sealer(key, LABELS.signal);
    /** payloads refused: malformed, not authentic, replayed, redirected */
    this.rejected = 0;
    this.opened = 0;
  }

  /**
   * The `data` of a signal from peer `from` (our id) to peer `to`.
   * @param {string} from
   * @param {string} to
   * @param {Message} msg
   * @returns {Promise<unknown>}
   */
  async seal(from, to, msg) {
    const json = JSON.stringify(msg);
    const bytes = enc.encode(json);
    const padded = new Uint8Array(Math.ceil((bytes.length + 1) / PAD_TO) * PAD_TO).fill(0x20);
    padded.set(bytes);
    const { counter, iv, sealed } = await this.sealer.seal([from, to], padded);
    return { v: WIRE_VERSION, c: counter, iv: base64url(iv), ct: base64url(sealed) };
  }

  /**
   * Opens the `data` of a signal that peer `from` sent to us (peer `to`).
   * Null, and counted, for anything not authentic for exactly this pair of
   * peer ids, replayed, or malformed.
   * @param {string} from
   * @param {string} to
   * @param {unknown} data
   * @returns {Promise<Message | null>}
   */
  async open(from, to, data) {
    if (!isObject(data) || data.v !== WIRE_VERSION || typeof data.c !== 'number' ||
        typeof data.iv !== 'string' || typeof data.ct !== 'string' || data.ct.length > MAX_SEALED ||
        !B64_RE.test(data.iv) || !B64_RE.test(data.ct)) return this.reject();
    let iv;
    let sealed;
    try {
      iv = fromBase64url(data.iv);
      sealed = fromBase64url(data.ct);
    } catch {
      return this.reject();
    }
    const plain = await this.sealer.open([from, to], data.c, iv, sealed);
    if (!plain) return this.reject();
    let msg;
    try {
      msg = readMessage(JSON.parse(dec.decode(plain)));
    } catch {
      msg = null;
    }
    if (!msg || msg.tab === this.tab || !this.sealer.fresh(msg.tab, data.c)) return this.reject();
    this.sealer.remember(msg.tab, data.c);
    this.opened += 1;
    return msg;
  }

  /** @returns {null} */
  reject() {
    this.rejected += 1;
    return null;
  }
}
