// @ts-check
// identity.js: who this tab is, provably. Every page load makes two key
// pairs (WebCrypto, P-256, private halves not extractable): one signs
// every signal this tab sends (ECDSA), one agrees a key with each other
// tab (ECDH). The tab id is a hash of the signing key, so a tab id can only
// be spoken for by the page that holds its private key: a member with the
// link cannot claim another's. Pair keys (one per pair of tabs) mix the
// ECDH secret with a key derived from the room secret and bind the room id
// and both tab ids; media keys and data-channel messages travel under them
// (e2ee.js, crypto.js DataSealer), so the link alone no longer opens them.
// Pure: WebCrypto only, no DOM, runs under node --test.

import { base64url, fromBase64url } from '../util/ids.js';
import { IV_BYTES, LABELS, associatedData, gcmOpen, gcmSeal } from './crypto.js';

/** Bytes of SHA-256(signing key) that make a tab id (base64url: 22 characters). */
export const TAB_ID_BYTES = 16;
/** Bytes of a raw (uncompressed) P-256 public key. */
export const PUBLIC_KEY_BYTES = 65;
/** Bytes of an ECDSA P-256 signature (r | s). */
export const SIGNATURE_BYTES = 64;
/** Public keys cached once imported (a call has a handful of tabs). */
const CACHE_MAX = 256;

const SIGN = { name: 'ECDSA', namedCurve: 'P-256' };
const SIGN_HASH = { name: 'ECDSA', hash: 'SHA-256' };
const AGREE = { name: 'ECDH', namedCurve: 'P-256' };
const enc = new TextEncoder();

/**
 * The tab id of a signing public key: SHA-256 of its raw bytes, first
 * TAB_ID_BYTES, base64url.
 * @param {Uint8Array} raw
 */
export async function tabIdOf(raw) {
  const h = new Uint8Array(await crypto.subtle.digest('SHA-256', /** @type {BufferSource} */ (raw)));
  return base64url(h.subarray(0, TAB_ID_BYTES));
}

/** A P-256 public key as base64url text, as it travels: 87 characters. */
export const PUBLIC_KEY_RE = /^[A-Za-z0-9_-]{87}$/;

/** This tab's key pairs and id. */
export class TabIdentity {
  /** @returns {Promise<TabIdentity>} */
  static async create() {
    const sign = /** @type {CryptoKeyPair} */ (await crypto.subtle.generateKey(SIGN, false, ['sign', 'verify']));
    const agree = /** @type {CryptoKeyPair} */ (await crypto.subtle.generateKey(AGREE, false, ['deriveBits']));
    const signPub = new Uint8Array(await crypto.subtle.exportKey('raw', sign.publicKey));
    const agreePub = new Uint8Array(await crypto.subtle.exportKey('raw', agree.publicKey));
    return new TabIdentity(sign.privateKey, agree.privateKey, signPub, agreePub, await tabIdOf(signPub));
  }

  /**
   * @param {CryptoKey} signKey @param {CryptoKey} agreeKey
   * @param {Uint8Array} signPub @param {Uint8Array} agreePub @param {string} tab
   */
  constructor(signKey, agreeKey, signPub, agreePub, tab) {
    this.signKey = signKey;
    this.agreeKey = agreeKey;
    /** base64url of the raw public keys, as they travel in every signal */
    this.pub = base64url(signPub);
    this.dh = base64url(agreePub);
    this.tab = tab;
  }

  /** @param {Uint8Array} bytes @returns {Promise<Uint8Array>} */
  async sign(bytes) {
    return new Uint8Array(await crypto.subtle.sign(SIGN_HASH, this.signKey, /** @type {BufferSource} */ (bytes)));
  }

  /**
   * The key this tab shares with another: HKDF-SHA-256 over the P-256 ECDH
   * secret, salted with the room's pair salt (from the link's secret: the
   * tab keys alone are not enough), info binding the room id and both tab
   * ids (sorted, so both sides agree). An AES-GCM-256 key, not extractable.
   * @param {string} theirDh  their agreement key, base64url
   * @param {string} theirTab
   * @param {Uint8Array} salt  RoomKeys.pairSalt
   * @param {string} roomId
   * @returns {Promise<CryptoKey>}
   */
  async pairKey(theirDh, theirTab, salt, roomId) {
    const pub = await crypto.subtle.importKey('raw', /** @type {BufferSource} */ (fromBase64url(theirDh)), AGREE, false, []);
    const shared = await crypto.subtle.deriveBits({ name: 'ECDH', public: pub }, this.agreeKey, 256);
    const ikm = await crypto.subtle.importKey('raw', shared, 'HKDF', false, ['deriveKey']);
    const [x, y] = [this.tab, theirTab].sort();
    return crypto.subtle.deriveKey(
      { name: 'HKDF', hash: 'SHA-256', salt: /** @type {BufferSource} */ (salt), info: enc.encode(`xroom/v2/pair\0${roomId}\0${x}\0${y}`) },
      ikm, { name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']);
  }
}

/**
 * Verifies signatures by other tabs; their signing keys are imported once
 * and checked against the tab id they claim.
 */
export class Verifier {
  constructor() {
    /** @type {Map<string, {tab: string, key: CryptoKey}>} by base64url public key */
    this.cache = new Map();
  }

  /**
   * The tab id of `pub` and its imported key; null if `pub` is not a P-256 point.
   * @param {string} pub
   */
  async keyOf(pub) {
    const hit = this.cache.get(pub);
    if (hit) return hit;
    if (!PUBLIC_KEY_RE.test(pub)) return null;
    let raw;
    let key;
    try {
      raw = fromBase64url(pub);
      if (raw.length !== PUBLIC_KEY_BYTES) return null;
      key = await crypto.subtle.importKey('raw', /** @type {BufferSource} */ (raw), SIGN, false, ['verify']);
    } catch {
      return null;
    }
    const entry = { tab: await tabIdOf(raw), key };
    if (this.cache.size >= CACHE_MAX) this.cache.delete(/** @type {string} */ (this.cache.keys().next().value));
    this.cache.set(pub, entry);
    return entry;
  }

  /**
   * True when `sig` is `pub`'s signature of `bytes` and `pub` is the key of
   * tab `tab`.
   * @param {string} tab @param {string} pub @param {Uint8Array} sig @param {Uint8Array} bytes
   */
  async verify(tab, pub, sig, bytes) {
    const k = await this.keyOf(pub);
    if (!k || k.tab !== tab || sig.length !== SIGNATURE_BYTES) return false;
    try {
      return await crypto.subtle.verify(SIGN_HASH, k.key, /** @type {BufferSource} */ (sig), /** @type {BufferSource} */ (bytes));
    } catch {
      return false;
    }
  }
}

/**
 * A media key as it travels to one peer: IV | AES-GCM(pair key, raw key),
 * associated data binding the sending tab, the receiving tab and the key
 * id; base64url.
 * @param {CryptoKey} pair @param {string} from @param {string} to @param {number} id @param {Uint8Array} raw
 */
export async function sealMediaKey(pair, from, to, id, raw) {
  const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
  const sealed = await gcmSeal(pair, iv, raw, associatedData(LABELS.mediaKey, [from, to], id));
  const out = new Uint8Array(IV_BYTES + sealed.length);
  out.set(iv);
  out.set(sealed, IV_BYTES);
  return base64url(out);
}

/**
 * The raw media key `id` that tab `from` sealed for tab `to`; null if it
 * does not open with `pair`.
 * @param {CryptoKey} pair @param {string} from @param {string} to @param {number} id @param {string} key
 */
export async function openMediaKey(pair, from, to, id, key) {
  let bytes;
  try {
    bytes = fromBase64url(key);
  } catch {
    return null;
  }
  return gcmOpen(pair, bytes.subarray(0, IV_BYTES), bytes.subarray(IV_BYTES), associatedData(LABELS.mediaKey, [from, to], id));
}
