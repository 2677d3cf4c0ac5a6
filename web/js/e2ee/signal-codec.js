// @ts-check
// signal-codec.js: signals sealed end to end and signed by their tab.
// Every `data` of a `signal` is a message (transport/wire.js) wrapped in a
// statement that names its sender's keys and its recipient's tab, signed
// by the sending tab (identity.js), padded, and sealed with AES-GCM under
// the room's signaling key. The associated data binds the sender's and the
// recipient's current peer ids and the sending tab's counter; the
// signature binds the same, the room id, the recipient's tab and the
// statement. So the daemon relays an opaque blob it cannot read, alter,
// replay or redirect; a member who holds the link cannot speak for another
// tab (a tab id is the hash of the key that must sign for it); and a
// payload recorded before a reload does not open in the new page (its tab
// id is new), except a first greeting, which makes no connection by itself
// (call/negotiation.js routeSignal). signaling.js calls `seal` and `open`;
// nothing else touches a payload. Pure: WebCrypto, no DOM.

import { base64url, fromBase64url } from '../util/ids.js';
import { isObject, readMessage } from '../transport/wire.js';
import { LABELS, Sealer, associatedData } from './crypto.js';
import { PUBLIC_KEY_RE, SIGNATURE_BYTES, Verifier } from './identity.js';

/** @typedef {import('../transport/wire.js').Message} Message */
/** @typedef {import('./identity.js').TabIdentity} TabIdentity */

/** Payload version; a payload of another version is dropped. */
export const WIRE_VERSION = 3;
/** Plaintexts are padded with spaces to a multiple of this, so that lengths say little (a name's, say). */
export const PAD_TO = 256;
/** The largest sealed payload accepted (base64url of a padded SDP). */
const MAX_SEALED = 100_000;
/** Peer ids whose tab we remember (the recipient tab of what we send them). */
const PEERS_MAX = 1024;
const B64_RE = /^[A-Za-z0-9_-]+$/;
const SPACE = 0x20;

const enc = new TextEncoder();
const dec = new TextDecoder('utf-8', { fatal: true });

/**
 * What a tab signs: the label, the room id, both peer ids, the recipient's
 * tab ('' in a first greeting) and the counter, then the statement.
 * @param {string} roomId @param {string} from @param {string} to @param {string} toTab
 * @param {number} counter @param {Uint8Array} statement
 */
export function signedBytes(roomId, from, to, toTab, counter, statement) {
  const head = associatedData(LABELS.signalSignature, [roomId, from, to, toTab], counter);
  const out = new Uint8Array(head.length + statement.length);
  out.set(head);
  out.set(statement, head.length);
  return out;
}

/**
 * Seals messages for the room and opens what arrives. One per page: it
 * holds this tab's identity and counter (it only grows, across rejoins and
 * peer-id changes), a replay window per remote tab, and the keys each
 * remote tab signed with and agrees keys with.
 *
 * Payload: `{"v": 3, "c": counter, "iv": base64url(12 bytes), "ct":
 * base64url(AES-GCM(signature(64) | statement | padding) + tag)}`;
 * statement: `{"m": message, "pub": signing key, "dh": agreement key,
 * "to": recipient tab}`; associated data: `"xroom/v2/signal" NUL
 * from-peer-id NUL to-peer-id NUL counter(8 bytes)`.
 */
export class SignalCodec {
  /**
   * @param {CryptoKey} key  RoomKeys.signal
   * @param {TabIdentity} identity  this tab's keys
   * @param {string} roomId
   */
  constructor(key, identity, roomId) {
    this.identity = identity;
    this.tab = identity.tab;
    this.roomId = roomId;
    this.sealer = new Sealer(key, LABELS.signal);
    this.verifier = new Verifier();
    /** @type {Map<string, string>} peer id -> the tab that spoke from it */
    this.tabOf = new Map();
    /** @type {Map<string, {pub: string, dh: string}>} remote tab -> its keys, from its first signed signal */
    this.keysOf = new Map();
    /** payloads refused: malformed, not authentic, not signed by their tab, replayed, redirected */
    this.rejected = 0;
    this.opened = 0;
  }

  /**
   * The `data` of a signal from peer `from` (our id) to peer `to`. The
   * recipient's tab is the one that last spoke from `to` (none yet: only a
   * first greeting opens without it).
   * @param {string} from
   * @param {string} to
   * @param {Message} msg
   * @returns {Promise<unknown>}
   */
  async seal(from, to, msg) {
    const toTab = this.tabOf.get(to) ?? '';
    const statement = enc.encode(JSON.stringify({ m: msg, pub: this.identity.pub, dh: this.identity.dh, to: toTab }));
    const counter = this.sealer.next();
    const sig = await this.identity.sign(signedBytes(this.roomId, from, to, toTab, counter, statement));
    const length = SIGNATURE_BYTES + statement.length;
    const padded = new Uint8Array(Math.ceil((length + 1) / PAD_TO) * PAD_TO).fill(SPACE);
    padded.set(sig);
    padded.set(statement, SIGNATURE_BYTES);
    const { iv, sealed } = await this.sealer.sealAt(counter, [from, to], padded);
    return { v: WIRE_VERSION, c: counter, iv: base64url(iv), ct: base64url(sealed) };
  }

  /**
   * Opens the `data` of a signal that peer `from` sent to us (peer `to`).
   * Null, and counted, for anything not authentic for exactly this pair of
   * peer ids, not signed by the tab it names, not for this tab, replayed,
   * or malformed.
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
    const counter = data.c;
    const plain = await this.sealer.open([from, to], counter, iv, sealed);
    if (!plain || plain.length <= SIGNATURE_BYTES) return this.reject();
    let end = plain.length;
    while (end > SIGNATURE_BYTES && plain[end - 1] === SPACE) end -= 1;
    const statement = plain.subarray(SIGNATURE_BYTES, end);
    /** @type {unknown} */
    let st;
    try {
      st = JSON.parse(dec.decode(statement));
    } catch {
      return this.reject();
    }
    if (!isObject(st) || typeof st.pub !== 'string' || typeof st.dh !== 'string' || typeof st.to !== 'string' ||
        !PUBLIC_KEY_RE.test(st.dh)) return this.reject();
    const msg = readMessage(st.m);
    if (!msg || msg.tab === this.tab) return this.reject();
    // For this tab, or a first greeting (the sender could not know us yet).
    if (st.to !== this.tab && !(st.to === '' && msg.kind === 'hello' && !msg.ack)) return this.reject();
    const sig = plain.subarray(0, SIGNATURE_BYTES);
    if (!await this.verifier.verify(msg.tab, st.pub, sig, signedBytes(this.roomId, from, to, st.to, counter, statement))) {
      return this.reject();
    }
    // A tab's agreement key never changes: it signed it with its first signal.
    const known = this.keysOf.get(msg.tab);
    if (known && known.dh !== st.dh) return this.reject();
    if (!this.sealer.fresh(msg.tab, counter)) return this.reject();
    this.sealer.remember(msg.tab, counter);
    if (!known) this.keysOf.set(msg.tab, { pub: st.pub, dh: st.dh });
    this.tabOf.delete(from);
    this.tabOf.set(from, msg.tab);
    if (this.tabOf.size > PEERS_MAX) this.tabOf.delete(/** @type {string} */ (this.tabOf.keys().next().value));
    this.opened += 1;
    return msg;
  }

  /** @returns {null} */
  reject() {
    this.rejected += 1;
    return null;
  }
}
