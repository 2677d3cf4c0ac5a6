// @ts-check
// key.js (cards/): this browser's signing key and the signatures on cards.
// The Ed25519 key pair is made on first use with its private half
// non-extractable, and kept in IndexedDB (a CryptoKey is stored by
// structured clone, which keeps it non-extractable). Each card is signed
// per recipient over the canonical form (model.js); a received card is
// checked strictly, then its signature. No DOM.

import { base64url, fromBase64url } from '../../util/ids.js';
import { B64URL_RE, CARD_VERSION, canonicalCard, fingerprint, parseCard } from './model.js';

/** @typedef {import('./model.js').Card} Card */
/** @typedef {import('./model.js').CardFields} CardFields */
/** @typedef {import('./model.js').CardEnvelope} CardEnvelope */

/** IndexedDB database, object store and key of the card's key pair. */
export const KEY_DB = Object.freeze({ name: 'xroom', store: 'keys', key: 'card' });

/**
 * @typedef {{get: () => Promise<CryptoKeyPair | undefined>, add: (pair: CryptoKeyPair) => Promise<void>,
 *   clear: () => Promise<void>}} KeyStore
 */

/** @param {IDBRequest} r @returns {Promise<any>} */
function idbDone(r) {
  return new Promise((res, rej) => {
    r.onsuccess = () => res(r.result);
    r.onerror = () => rej(r.error);
  });
}

/**
 * The key pair in IndexedDB. A CryptoKey is stored by structured clone,
 * which keeps a non-extractable private key non-extractable.
 * @returns {KeyStore}
 */
export function idbKeyStore() {
  const db = () => {
    const r = indexedDB.open(KEY_DB.name, 1);
    r.onupgradeneeded = () => r.result.createObjectStore(KEY_DB.store);
    return /** @type {Promise<IDBDatabase>} */ (idbDone(r));
  };
  /** @template T @param {IDBTransactionMode} mode @param {(s: IDBObjectStore) => IDBRequest} fn @returns {Promise<T>} */
  const run = async (mode, fn) => {
    const d = await db();
    try {
      return await idbDone(fn(d.transaction(KEY_DB.store, mode).objectStore(KEY_DB.store)));
    } finally {
      d.close();
    }
  };
  return {
    get: () => run('readonly', (s) => s.get(KEY_DB.key)),
    add: async (pair) => { await run('readwrite', (s) => s.add(pair, KEY_DB.key)); },
    clear: async () => { await run('readwrite', (s) => s.delete(KEY_DB.key)); },
  };
}

/** For tests and browsers without IndexedDB: a key that lasts as long as the page. @returns {KeyStore} */
export function memoryKeyStore() {
  /** @type {CryptoKeyPair | undefined} */
  let pair;
  return {
    get: async () => pair,
    add: async (p) => { if (pair) throw new Error('exists'); pair = p; },
    clear: async () => { pair = undefined; },
  };
}

/** This browser's signing key: the pair, the raw public key (base64url) and its fingerprint. */
export class CardKey {
  /** @param {CryptoKeyPair} pair @param {string} pub @param {string} fp */
  constructor(pair, pub, fp) {
    this.pair = pair;
    this.pub = pub;
    this.fp = fp;
  }

  /**
   * The stored key, or a new one (Ed25519, private half non-extractable)
   * when there is none and `create` is set.
   * @param {KeyStore} store
   * @param {boolean} create
   * @returns {Promise<CardKey | null>}
   */
  static async load(store, create) {
    let pair = await store.get();
    if (!pair && create) {
      const made = /** @type {CryptoKeyPair} */ (await crypto.subtle.generateKey({ name: 'Ed25519' }, false, ['sign', 'verify']));
      try {
        await store.add(made);
        pair = made;
      } catch {
        pair = await store.get(); // another tab of this browser made one first
      }
    }
    if (!pair) return null;
    const raw = new Uint8Array(await crypto.subtle.exportKey('raw', pair.publicKey));
    return new CardKey(pair, base64url(raw), await fingerprint(raw));
  }

  /**
   * A signed card for one recipient.
   * @param {CardFields} fields
   * @param {string} from
   * @param {string} to
   * @returns {Promise<CardEnvelope>}
   */
  async sign(fields, from, to) {
    /** @type {Card} */
    const card = { v: CARD_VERSION, pub: this.pub, ...fields, links: [...fields.links] };
    const sig = await crypto.subtle.sign({ name: 'Ed25519' }, this.pair.privateKey, canonicalCard(card, from, to));
    return { t: 'card', card, sig: base64url(new Uint8Array(sig)) };
  }
}

/**
 * Checks a received card envelope: its form, then the signature over the
 * canonical form for this sender and recipient.
 * @param {unknown} raw
 * @param {string} from  the tab whose channel it came on
 * @param {string} to    ours
 * @returns {Promise<{ok: true, card: Card, fp: string} | {ok: false, reason: 'malformed' | 'signature'}>}
 */
export async function verifyEnvelope(raw, from, to) {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return { ok: false, reason: 'malformed' };
  const o = /** @type {Record<string, unknown>} */ (raw);
  if (Object.keys(o).sort().join(',') !== 'card,sig,t' || o.t !== 'card') return { ok: false, reason: 'malformed' };
  const card = parseCard(o.card);
  if (!card || typeof o.sig !== 'string' || o.sig.length !== 86 || !B64URL_RE.test(o.sig)) return { ok: false, reason: 'malformed' };
  let pub;
  let sig;
  try {
    pub = fromBase64url(card.pub);
    sig = fromBase64url(o.sig);
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  if (pub.length !== 32 || sig.length !== 64) return { ok: false, reason: 'malformed' };
  let ok = false;
  try {
    const key = await crypto.subtle.importKey('raw', /** @type {Uint8Array<ArrayBuffer>} */ (pub), { name: 'Ed25519' }, false, ['verify']);
    ok = await crypto.subtle.verify({ name: 'Ed25519' }, key, /** @type {Uint8Array<ArrayBuffer>} */ (sig), canonicalCard(card, from, to));
  } catch {
    ok = false; // a key that is not a point on the curve
  }
  if (!ok) return { ok: false, reason: 'signature' };
  return { ok: true, card, fp: await fingerprint(pub) };
}
