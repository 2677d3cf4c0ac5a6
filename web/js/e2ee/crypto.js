// @ts-check
// crypto.js: the room's key schedule and the sealing that rides on it. The
// room secret (the link's #fragment, 256 random bits) never leaves the
// browser; HKDF-SHA-256 with one info label per purpose (and the room id)
// derives from it the join `auth` (the daemon's room verifier), the
// signaling key, the salt of the pair keys (identity.js) and the
// safety-code key. Sealing is AES-GCM-256 with a random 96-bit IV, and a
// per-tab monotonic counter in the associated data checked against a
// replay window per remote tab; data-channel messages are sealed under the
// pair key of the two tabs. Also the per-pair safety code from both DTLS
// certificates and both tabs' keys. Pure: WebCrypto only, no DOM, runs
// under node --test.

import { base64url, fromBase64url } from '../util/ids.js';

/**
 * HKDF info labels, one key per purpose, unrelated to each other (each
 * but `auth` followed by NUL and the room id), and the labels that start
 * associated data and signed bytes.
 */
export const LABELS = Object.freeze({
  auth: 'xroom/v1/auth',
  signal: 'xroom/v2/signal',
  pairSalt: 'xroom/v2/pair-salt',
  safety: 'xroom/v2/safety',
  signalSignature: 'xroom/v2/signal-signature',
  data: 'xroom/v2/data',
  mediaKey: 'xroom/v2/media-key',
});
/** Kept for callers of the first version. */
export const AUTH_INFO = LABELS.auth;
/** Bytes of the join auth (base64url: 22 characters). */
export const AUTH_BYTES = 16;
/** Bytes of every AES-GCM and HMAC key: 256 bits. */
export const KEY_BYTES = 32;
export const IV_BYTES = 12;
export const TAG_BYTES = 16;
/** Counters below (highest seen - REPLAY_WINDOW) are refused as too old. */
export const REPLAY_WINDOW = 256;
/** Digits of a safety code (about 83 bits), shown in groups of five. */
export const SAFETY_DIGITS = 25;

const enc = new TextEncoder();
const dec = new TextDecoder('utf-8', { fatal: true });

/**
 * HKDF-SHA-256 (RFC 5869) with an empty salt: the secret is already 256
 * uniformly random bits, so extraction needs no salt; the info label
 * separates the keys.
 * @param {Uint8Array} secret
 * @param {string} info
 * @param {number} bytes
 * @returns {Promise<Uint8Array>}
 */
export async function hkdf(secret, info, bytes) {
  const key = await crypto.subtle.importKey('raw', /** @type {BufferSource} */ (secret), 'HKDF', false, ['deriveBits']);
  const bits = await crypto.subtle.deriveBits(
    { name: 'HKDF', hash: 'SHA-256', salt: new Uint8Array(0), info: enc.encode(info) },
    key,
    bytes * 8,
  );
  return new Uint8Array(bits);
}

/**
 * The `auth` member of `join` for a room secret (base64url text).
 * @param {string} secret
 * @returns {Promise<string>}
 */
export async function deriveAuth(secret) {
  return base64url(await hkdf(fromBase64url(secret), LABELS.auth, AUTH_BYTES));
}

/**
 * An AES-GCM-256 key from raw bytes; not extractable.
 * @param {Uint8Array} raw
 * @returns {Promise<CryptoKey>}
 */
export function aesKey(raw) {
  return crypto.subtle.importKey('raw', /** @type {BufferSource} */ (raw), { name: 'AES-GCM' }, false, ['encrypt', 'decrypt']);
}

/**
 * @typedef {{auth: string, signal: CryptoKey, pairSalt: Uint8Array, safety: CryptoKey}} RoomKeys
 */

/**
 * Every key of a room, from its secret (base64url text) and its id: the
 * same secret gives other keys in another room.
 * @param {string} secret
 * @param {string} roomId
 * @returns {Promise<RoomKeys>}
 */
export async function deriveRoomKeys(secret, roomId) {
  const s = fromBase64url(secret);
  const inRoom = (/** @type {string} */ label) => `${label}\0${roomId}`;
  const [auth, signal, pairSalt, safety] = await Promise.all([
    hkdf(s, LABELS.auth, AUTH_BYTES),
    hkdf(s, inRoom(LABELS.signal), KEY_BYTES),
    hkdf(s, inRoom(LABELS.pairSalt), KEY_BYTES),
    hkdf(s, inRoom(LABELS.safety), KEY_BYTES),
  ]);
  return {
    auth: base64url(auth),
    signal: await aesKey(signal),
    pairSalt,
    safety: await crypto.subtle.importKey('raw', /** @type {BufferSource} */ (safety), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']),
  };
}

/** A fresh random media key: raw bytes, for sharing, and the imported key. */
export async function newMediaKey() {
  const raw = crypto.getRandomValues(new Uint8Array(KEY_BYTES));
  return { raw, key: await aesKey(raw) };
}

/**
 * Associated data: the label, then each part (text, or a counter as 8 bytes
 * big-endian), each text followed by a NUL. Peer ids, tab ids and channel
 * labels never contain NUL, so no two inputs give the same bytes.
 * @param {string} label
 * @param {string[]} parts
 * @param {number} counter
 * @returns {Uint8Array}
 */
export function associatedData(label, parts, counter) {
  const text = enc.encode([label, ...parts].join('\0') + '\0');
  const out = new Uint8Array(text.length + 8);
  out.set(text);
  new DataView(out.buffer).setBigUint64(text.length, BigInt(counter));
  return out;
}

/**
 * AES-GCM encryption; returns the ciphertext with its 16-byte tag.
 * @param {CryptoKey} key
 * @param {Uint8Array} iv
 * @param {Uint8Array} plain
 * @param {Uint8Array} ad
 */
export async function gcmSeal(key, iv, plain, ad) {
  return new Uint8Array(await crypto.subtle.encrypt(
    { name: 'AES-GCM', iv: /** @type {BufferSource} */ (iv), additionalData: /** @type {BufferSource} */ (ad) },
    key, /** @type {BufferSource} */ (plain)));
}

/**
 * AES-GCM decryption; null when the ciphertext, the IV, the key or the
 * associated data do not match (never throws for that).
 * @param {CryptoKey} key
 * @param {Uint8Array} iv
 * @param {Uint8Array} sealed
 * @param {Uint8Array} ad
 * @returns {Promise<Uint8Array | null>}
 */
export async function gcmOpen(key, iv, sealed, ad) {
  if (iv.length !== IV_BYTES || sealed.length < TAG_BYTES) return null;
  try {
    return new Uint8Array(await crypto.subtle.decrypt(
      { name: 'AES-GCM', iv: /** @type {BufferSource} */ (iv), additionalData: /** @type {BufferSource} */ (ad) },
      key, /** @type {BufferSource} */ (sealed)));
  } catch {
    return null;
  }
}

/**
 * The counters already seen from one sender: the highest, and a bitmap of
 * the `size` below it. Accepts each counter once, in any order within the
 * window; refuses repeats and anything older than the window.
 */
export class ReplayWindow {
  /** @param {number} [size]  a multiple of 32 */
  constructor(size = REPLAY_WINDOW) {
    this.size = size;
    this.highest = 0;
    this.bits = new Uint32Array(size / 32);
  }

  /** @param {number} c */
  bit(c) {
    const i = c % this.size;
    return { word: i >>> 5, mask: 1 << (i & 31) };
  }

  /**
   * True if `c` could be accepted (not seen, not too old). Does not record it.
   * @param {number} c
   */
  check(c) {
    if (!Number.isSafeInteger(c) || c < 1) return false;
    if (c > this.highest) return true;
    if (c <= this.highest - this.size) return false;
    const { word, mask } = this.bit(c);
    return (this.bits[word] & mask) === 0;
  }

  /**
   * Records `c` (call only after check(c) and authentication).
   * @param {number} c
   */
  accept(c) {
    if (c > this.highest) {
      if (c - this.highest >= this.size) {
        this.bits.fill(0);
      } else {
        for (let k = this.highest + 1; k < c; k++) {
          const { word, mask } = this.bit(k);
          this.bits[word] &= ~mask;
        }
      }
      this.highest = c;
    }
    const { word, mask } = this.bit(c);
    this.bits[word] |= mask;
  }
}

/**
 * Seals and opens byte strings under one key for one purpose (label). The
 * sender side keeps one counter for this tab, which only grows; the
 * receiving side keeps a replay window per remote tab. Used for signal
 * payloads (signal-codec.js) and for data-channel messages (DataSealer).
 */
export class Sealer {
  /**
   * @param {CryptoKey} key
   * @param {string} label
   * @param {number} [window]
   */
  constructor(key, label, window = REPLAY_WINDOW) {
    this.key = key;
    this.label = label;
    this.windowSize = window;
    this.counter = 0;
    /** @type {Map<string, ReplayWindow>} by remote tab */
    this.windows = new Map();
  }

  /**
   * @param {string[]} parts  what the associated data binds besides the counter
   * @param {Uint8Array} plain
   * @returns {Promise<{counter: number, iv: Uint8Array, sealed: Uint8Array}>}
   */
  async seal(parts, plain) {
    const counter = this.next();
    return { counter, ...await this.sealAt(counter, parts, plain) };
  }

  /** The next counter of this tab (each is used once). */
  next() {
    this.counter += 1;
    return this.counter;
  }

  /**
   * Seals under a counter taken with next().
   * @param {number} counter @param {string[]} parts @param {Uint8Array} plain
   */
  async sealAt(counter, parts, plain) {
    const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
    return { iv, sealed: await gcmSeal(this.key, iv, plain, associatedData(this.label, parts, counter)) };
  }

  /**
   * Authenticates and decrypts; the counter is not recorded yet (the
   * sending tab may only be known from the plaintext): call `fresh` then
   * `remember`.
   * @param {string[]} parts
   * @param {number} counter
   * @param {Uint8Array} iv
   * @param {Uint8Array} sealed
   * @returns {Promise<Uint8Array | null>}
   */
  async open(parts, counter, iv, sealed) {
    if (!Number.isSafeInteger(counter) || counter < 1) return null;
    return gcmOpen(this.key, iv, sealed, associatedData(this.label, parts, counter));
  }

  /** @param {string} tab */
  window(tab) {
    let w = this.windows.get(tab);
    if (!w) this.windows.set(tab, (w = new ReplayWindow(this.windowSize)));
    return w;
  }

  /** True if `counter` from `tab` has not been seen. @param {string} tab @param {number} counter */
  fresh(tab, counter) {
    return this.window(tab).check(counter);
  }

  /** @param {string} tab @param {number} counter */
  remember(tab, counter) {
    this.window(tab).accept(counter);
  }
}

/** Version byte of a sealed data-channel message. */
export const DATA_VERSION = 2;
const DATA_HEADER = 1 + 8 + IV_BYTES;

/**
 * Data-channel messages (chat, files, cards, state) sealed with the pair
 * key of the two tabs (identity.js): `version(1) | counter(8, big-endian)
 * | IV(12) | ciphertext+tag`. The associated data binds the sending tab,
 * the receiving tab, the channel label and the counter, so a message
 * cannot be replayed, moved to another channel or reflected to another
 * peer; and only the two tabs hold the key, so someone with the link who
 * is not one of them cannot open it.
 */
export class DataSealer {
  /**
   * @param {(tab: string) => Promise<CryptoKey | null>} keyFor  the pair key with a tab (null: none)
   * @param {string} tab  this tab's id
   */
  constructor(keyFor, tab) {
    this.keyFor = keyFor;
    this.tab = tab;
    this.counter = 0;
    /** @type {Map<string, ReplayWindow>} by sending tab and channel */
    this.windows = new Map();
    /** messages refused: bad version, length, key, authentication or replay */
    this.rejected = 0;
  }

  /**
   * @param {string} toTab
   * @param {string} channel
   * @param {Uint8Array} plain
   * @returns {Promise<Uint8Array>}  throws when there is no key with `toTab`
   */
  async seal(toTab, channel, plain) {
    const key = await this.keyFor(toTab);
    if (!key) throw new Error('no key shared with this peer yet');
    this.counter += 1;
    const counter = this.counter;
    const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
    const sealed = await gcmSeal(key, iv, plain, associatedData(LABELS.data, [this.tab, toTab, channel], counter));
    const out = new Uint8Array(DATA_HEADER + sealed.length);
    out[0] = DATA_VERSION;
    new DataView(out.buffer).setBigUint64(1, BigInt(counter));
    out.set(iv, 9);
    out.set(sealed, DATA_HEADER);
    return out;
  }

  /**
   * @param {string} fromTab
   * @param {string} channel
   * @param {Uint8Array} bytes
   * @returns {Promise<Uint8Array | null>}
   */
  async open(fromTab, channel, bytes) {
    if (bytes.length < DATA_HEADER + TAG_BYTES || bytes[0] !== DATA_VERSION) return this.reject();
    const big = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(1);
    if (big > BigInt(Number.MAX_SAFE_INTEGER)) return this.reject();
    const counter = Number(big);
    const w = this.window(`${fromTab}\0${channel}`);
    if (!w.check(counter)) return this.reject();
    const key = await this.keyFor(fromTab);
    if (!key) return this.reject();
    const plain = await gcmOpen(key, bytes.subarray(9, DATA_HEADER), bytes.subarray(DATA_HEADER),
      associatedData(LABELS.data, [fromTab, this.tab, channel], counter));
    if (!plain) return this.reject();
    if (!w.check(counter)) return this.reject(); // raced with itself
    w.accept(counter);
    return plain;
  }

  /** @param {string} key */
  window(key) {
    let w = this.windows.get(key);
    if (!w) this.windows.set(key, (w = new ReplayWindow(1024)));
    return w;
  }

  /**
   * A JSON value, sealed.
   * @param {string} toTab @param {string} channel @param {unknown} value
   */
  sealJSON(toTab, channel, value) {
    return this.seal(toTab, channel, enc.encode(JSON.stringify(value)));
  }

  /**
   * @param {string} fromTab @param {string} channel @param {Uint8Array} bytes
   * @returns {Promise<unknown>}  undefined when refused
   */
  async openJSON(fromTab, channel, bytes) {
    const plain = await this.open(fromTab, channel, bytes);
    if (!plain) return undefined;
    try {
      return JSON.parse(dec.decode(plain));
    } catch {
      this.rejected += 1;
      return undefined;
    }
  }

  /** @returns {null} */
  reject() {
    this.rejected += 1;
    return null;
  }
}

/**
 * The DTLS fingerprint an SDP announces (`a=fingerprint:`, session or first
 * media level), normalised: lower-case algorithm, upper-case hex.
 * @param {string} sdp
 * @returns {string}  '' if none
 */
export function fingerprintOf(sdp) {
  const all = fingerprintsOf(sdp);
  return all.size === 1 ? [...all][0] : '';
}

/**
 * Every distinct DTLS fingerprint an SDP announces, normalised. More than
 * one is refused (call/negotiation.js): DTLS would accept a certificate
 * matching any of them, so a second one is room for someone in the middle.
 * @param {string} sdp
 * @returns {Set<string>}
 */
export function fingerprintsOf(sdp) {
  const out = new Set();
  for (const m of sdp.matchAll(/^a=fingerprint:(\S+) ([0-9A-Fa-f:]+)\s*$/gm)) out.add(`${m[1].toLowerCase()} ${m[2].toUpperCase()}`);
  return out;
}

/**
 * The safety code of one pair of tabs: HMAC-SHA-256 under the room's
 * safety key over each side's DTLS certificate in use (its fingerprint)
 * and signing key (identity.js; it makes the tab id), the two sides
 * sorted so both compute the same; its first 128 bits read as a number
 * mod 10^25: 25 decimal digits (about 83 bits) in groups of five. Someone
 * in the middle who holds the link must find certificates or tab keys
 * that make the codes of both pairs agree: about 10^25 tries
 * (docs/security.md).
 * @param {CryptoKey} safetyKey
 * @param {{fp: string, pub: string}} a  one side: fingerprint "sha-256 AB:…", signing key (base64url)
 * @param {{fp: string, pub: string}} b  the other side
 * @returns {Promise<string>}
 */
export async function safetyCode(safetyKey, a, b) {
  const [x, y] = [`${a.fp} ${a.pub}`, `${b.fp} ${b.pub}`].sort();
  const mac = new Uint8Array(await crypto.subtle.sign('HMAC', safetyKey, enc.encode(`xroom/v2/safety-code\0${x}\0${y}`)));
  const v = new DataView(mac.buffer);
  const n = ((v.getBigUint64(0) << 64n) | v.getBigUint64(8)) % 10n ** BigInt(SAFETY_DIGITS);
  return n.toString().padStart(SAFETY_DIGITS, '0').replace(/(\d{5})(?=\d)/g, '$1 ');
}
