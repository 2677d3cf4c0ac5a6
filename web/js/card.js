// @ts-check
// card.js: the user card, model only (no DOM). A card is a short set of
// fields its owner controls (name, avatar, pronouns, status, up to four
// links), kept in this browser's localStorage, signed with an Ed25519 key
// made here on first use (private half non-extractable, in IndexedDB), and
// shared over the sealed data channel only, under the owner's sharing mode
// and per-field choice. Received cards are checked strictly and live in
// memory for the call, unless saved as a contact (trust on first use).

import { Emitter } from './emitter.js';
import { base64url, fromBase64url } from './ids.js';

/** @typedef {import('./chat.js').DataLink} DataLink */

export const CARD_VERSION = 1;
/** Bound in front of every signed card, so the signature means nothing elsewhere. */
export const CARD_LABEL = 'xroom/v1/card';
/** Where this browser keeps its own card (shared with prefs.js: `name` is the display name). */
export const CARD_KEY = 'xroom.profile';
export const SHARING_KEY = 'xroom.sharing';
export const CONTACTS_KEY = 'xroom.contacts';
/** IndexedDB database, object store and key of the card's key pair. */
export const KEY_DB = Object.freeze({ name: 'xroom', store: 'keys', key: 'card' });

export const LIMITS = Object.freeze({
  name: 64, pronouns: 32, status: 140, link: 200, links: 4, avatarBytes: 64 * 1024, contacts: 50,
});
/** The fields, in the order the editor shows them. */
export const FIELDS = /** @type {const} */ (['name', 'avatar', 'pronouns', 'status', 'links']);
export const MODES = /** @type {const} */ (['everyone', 'ask', 'never']);

/**
 * @typedef {typeof FIELDS[number]} Field
 * @typedef {typeof MODES[number]} ShareMode
 * @typedef {{name: string, avatar: string, pronouns: string, status: string, links: string[]}} CardFields
 * @typedef {CardFields & {v: number, pub: string}} Card  what travels: the fields and the signer's public key
 * @typedef {{t: 'card', card: Card, sig: string}} CardEnvelope
 * @typedef {{mode: ShareMode, fields: Record<Field, boolean>}} Sharing
 * @typedef {{pub: string, fp: string, name: string, card: CardFields, saved: number}} Contact
 */

const AVATAR_RE = /^data:image\/(png|jpeg|webp);base64,([A-Za-z0-9+/]+={0,2})$/;
const B64URL_RE = /^[A-Za-z0-9_-]+$/;
// eslint-disable-next-line no-control-regex
const CONTROL_RE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;
// eslint-disable-next-line no-control-regex
const CONTROL_ALL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;

const enc = new TextEncoder();

/** @returns {CardFields} */
export function emptyCard() {
  return { name: '', avatar: '', pronouns: '', status: '', links: [] };
}

/** @returns {Sharing} */
export function defaultSharing() {
  return { mode: 'everyone', fields: { name: true, avatar: true, pronouns: true, status: true, links: true } };
}

/**
 * One line of text as typed: control characters become spaces, trimmed,
 * cut to `max` characters (code points).
 * @param {unknown} v
 * @param {number} max
 */
export function cleanLine(v, max) {
  if (typeof v !== 'string') return '';
  return [...v.replace(CONTROL_ALL, ' ').trim()].slice(0, max).join('').trim();
}

/**
 * A received line: a string of at most `max` code points, no control
 * characters, no surrounding blanks. Nothing is repaired.
 * @param {unknown} v
 * @param {number} max
 */
function goodLine(v, max) {
  return typeof v === 'string' && [...v].length <= max && !CONTROL_RE.test(v) && v.trim() === v;
}

/** @param {string} b64 */
function b64Bytes(b64) {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/**
 * Whether `v` is an acceptable avatar: '' (none), or a base64 data: URL of
 * a PNG, JPEG or WebP image, at most 64 KiB as a whole, whose bytes start
 * as that format does.
 * @param {unknown} v
 */
export function goodAvatar(v) {
  if (v === '') return true;
  if (typeof v !== 'string' || v.length > LIMITS.avatarBytes) return false;
  const m = AVATAR_RE.exec(v);
  if (!m || m[2].length % 4 !== 0) return false;
  let b;
  try {
    b = b64Bytes(m[2]);
  } catch {
    return false;
  }
  const at = (/** @type {number} */ i, /** @type {number[]} */ sig) => sig.every((x, j) => b[i + j] === x);
  if (m[1] === 'png') return at(0, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  if (m[1] === 'jpeg') return at(0, [0xff, 0xd8, 0xff]);
  return at(0, [0x52, 0x49, 0x46, 0x46]) && at(8, [0x57, 0x45, 0x42, 0x50]); // RIFF....WEBP
}

/**
 * Splits a link or contact line for display: http(s) URLs become links,
 * anything else (mailto:, javascript:, a phone number) stays plain text.
 * @param {string} line
 * @returns {{text: string, href?: string}}
 */
export function linkOf(line) {
  if (!/^https?:\/\//i.test(line)) return { text: line };
  try {
    const u = new URL(line);
    if ((u.protocol === 'http:' || u.protocol === 'https:') && u.hostname) return { text: line, href: u.href };
  } catch { /* plain text */ }
  return { text: line };
}

/**
 * The card's fields as the owner typed them, cleaned (the editor and
 * imports). Unknown members are dropped; a bad avatar is dropped.
 * @param {unknown} raw
 * @returns {CardFields}
 */
export function cleanFields(raw) {
  const o = raw && typeof raw === 'object' && !Array.isArray(raw) ? /** @type {Record<string, unknown>} */ (raw) : {};
  const links = Array.isArray(o.links) ? o.links.map((l) => cleanLine(l, LIMITS.link)).filter(Boolean).slice(0, LIMITS.links) : [];
  return {
    name: cleanLine(o.name, LIMITS.name),
    avatar: goodAvatar(o.avatar) ? /** @type {string} */ (o.avatar) : '',
    pronouns: cleanLine(o.pronouns, LIMITS.pronouns),
    status: cleanLine(o.status, LIMITS.status),
    links,
  };
}

/**
 * Checks a card received from a peer. Strict: exact members, types,
 * lengths, no control characters, a valid avatar and key; nothing is
 * repaired. The signature is checked by `verifyEnvelope`.
 * @param {unknown} raw
 * @returns {Card | null}
 */
export function parseCard(raw) {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return null;
  const o = /** @type {Record<string, unknown>} */ (raw);
  const keys = Object.keys(o).sort().join(',');
  if (keys !== 'avatar,links,name,pronouns,pub,status,v') return null;
  if (o.v !== CARD_VERSION) return null;
  if (typeof o.pub !== 'string' || o.pub.length !== 43 || !B64URL_RE.test(o.pub)) return null;
  if (!goodLine(o.name, LIMITS.name) || !goodLine(o.pronouns, LIMITS.pronouns) || !goodLine(o.status, LIMITS.status)) return null;
  if (!Array.isArray(o.links) || o.links.length > LIMITS.links) return null;
  if (!o.links.every((l) => goodLine(l, LIMITS.link) && l !== '')) return null;
  if (!goodAvatar(o.avatar)) return null;
  return {
    v: CARD_VERSION, pub: o.pub, name: /** @type {string} */ (o.name), avatar: /** @type {string} */ (o.avatar),
    pronouns: /** @type {string} */ (o.pronouns), status: /** @type {string} */ (o.status), links: [.../** @type {string[]} */ (o.links)],
  };
}

/**
 * The bytes a card's signature covers: the label, NUL, then one JSON array
 * in a fixed order (no object, so no key order to agree on):
 * `[v, from tab, to tab, pub, name, pronouns, status, links, avatar]`.
 * The two tab ids bind a signature to one sender and one recipient: a peer
 * cannot pass someone else's card off as its own.
 * @param {Card} card
 * @param {string} from  sender's tab id
 * @param {string} to    recipient's tab id
 */
export function canonicalCard(card, from, to) {
  const body = JSON.stringify([card.v, from, to, card.pub, card.name, card.pronouns, card.status, card.links, card.avatar]);
  return enc.encode(`${CARD_LABEL}\0${body}`);
}

/**
 * The short fingerprint of a public key: SHA-256 of its 32 raw bytes, the
 * first 8 bytes in hex, four groups of four.
 * @param {Uint8Array} pub
 */
export async function fingerprint(pub) {
  const h = new Uint8Array(await crypto.subtle.digest('SHA-256', /** @type {Uint8Array<ArrayBuffer>} */ (pub)));
  const hex = [...h.subarray(0, 8)].map((b) => b.toString(16).padStart(2, '0')).join('').toUpperCase();
  return hex.match(/.{4}/g)?.join(' ') ?? '';
}

/** The fields shared under `sharing`; the others are sent empty. @param {CardFields} c @param {Sharing} s @returns {CardFields} */
export function sharedFields(c, s) {
  return {
    name: s.fields.name ? c.name : '',
    avatar: s.fields.avatar ? c.avatar : '',
    pronouns: s.fields.pronouns ? c.pronouns : '',
    status: s.fields.status ? c.status : '',
    links: s.fields.links ? [...c.links] : [],
  };
}

// --- the key pair ---------------------------------------------------------

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

// --- what this browser keeps ---------------------------------------------------

/** @param {string} key @returns {unknown} */
function read(key) {
  try {
    return JSON.parse(globalThis.localStorage?.getItem(key) ?? 'null');
  } catch {
    return null;
  }
}

/** @param {string} key @param {unknown} value @returns {boolean} */
function write(key, value) {
  try {
    globalThis.localStorage?.setItem(key, JSON.stringify(value));
    return true;
  } catch {
    return false; // private mode, quota
  }
}

/** @param {string} key */
function remove(key) {
  try {
    globalThis.localStorage?.removeItem(key);
  } catch { /* nothing to remove */ }
}

/** @returns {CardFields} */
export function loadCard() {
  return cleanFields(read(CARD_KEY));
}

/**
 * Saves our card; merged into `xroom.profile`, whose `name` is the display
 * name the pre-join screen edits too.
 * @param {CardFields} c
 */
export function saveCard(c) {
  const before = read(CARD_KEY);
  const keep = before && typeof before === 'object' && !Array.isArray(before) ? before : {};
  return write(CARD_KEY, { ...keep, ...cleanFields(c) });
}

/** @param {unknown} raw @returns {Sharing} */
export function cleanSharing(raw) {
  const d = defaultSharing();
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return d;
  const o = /** @type {Record<string, unknown>} */ (raw);
  const mode = MODES.find((m) => m === o.mode) ?? d.mode;
  const f = o.fields && typeof o.fields === 'object' ? /** @type {Record<string, unknown>} */ (o.fields) : {};
  const fields = { ...d.fields };
  for (const k of FIELDS) if (typeof f[k] === 'boolean') fields[k] = /** @type {boolean} */ (f[k]);
  return { mode, fields };
}

/**
 * Whether this browser has a card to share: its owner saved one in the
 * editor (which stores the sharing choices), or it has more than a name.
 * A display name typed on the pre-join screen alone is not a card: no key
 * is made and nothing is sent for it.
 */
export function hasCard() {
  if (read(SHARING_KEY) !== null) return true;
  const c = loadCard();
  return !!(c.avatar || c.pronouns || c.status || c.links.length);
}

/** @returns {Sharing} */
export function loadSharing() {
  return cleanSharing(read(SHARING_KEY));
}

/** @param {Sharing} s */
export function saveSharing(s) {
  return write(SHARING_KEY, cleanSharing(s));
}

/**
 * "Delete my card": the fields (display name included), the sharing
 * choices and the key pair. Saved contacts are others' cards: they have
 * their own delete.
 * @param {KeyStore} keys
 */
export async function deleteCard(keys) {
  remove(CARD_KEY);
  remove(SHARING_KEY);
  await keys.clear();
}

/** @param {unknown} raw @returns {Contact | null} */
function cleanContact(raw) {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return null;
  const o = /** @type {Record<string, unknown>} */ (raw);
  if (typeof o.pub !== 'string' || o.pub.length !== 43 || !B64URL_RE.test(o.pub)) return null;
  if (typeof o.fp !== 'string' || !/^[0-9A-F]{4}( [0-9A-F]{4}){3}$/.test(o.fp)) return null;
  return {
    pub: o.pub, fp: o.fp, name: cleanLine(o.name, LIMITS.name), card: cleanFields(o.card),
    saved: typeof o.saved === 'number' ? o.saved : 0,
  };
}

/** @returns {Contact[]} */
export function loadContacts() {
  const v = read(CONTACTS_KEY);
  if (!Array.isArray(v)) return [];
  return v.map(cleanContact).filter((c) => c !== null).slice(0, LIMITS.contacts);
}

/** @param {Contact[]} list */
function saveContacts(list) {
  return list.length ? write(CONTACTS_KEY, list) : (remove(CONTACTS_KEY), true);
}

/**
 * Saves (or refreshes) a contact, keyed by its public key.
 * @param {Contact} c
 * @returns {boolean} false when storage refused it or the list is full
 */
export function addContact(c) {
  const list = loadContacts().filter((x) => x.pub !== c.pub);
  if (list.length >= LIMITS.contacts) return false;
  return saveContacts([...list, c]);
}

/** @param {string} pub */
export function deleteContact(pub) {
  saveContacts(loadContacts().filter((x) => x.pub !== pub));
}

export function deleteAllContacts() {
  remove(CONTACTS_KEY);
}

/** Names compare without case and surrounding blanks. @param {string} n */
function nameKey(n) {
  return n.trim().toLowerCase();
}

/**
 * Trust on first use: a key we saved is a known contact; a different key
 * under the name of a saved contact is flagged.
 * @param {Contact[]} contacts
 * @param {string} pub
 * @param {string} name
 * @returns {{status: 'known' | 'changed' | 'new', contact?: Contact}}
 */
export function contactStatus(contacts, pub, name) {
  const same = contacts.find((c) => c.pub === pub);
  if (same) return { status: 'known', contact: same };
  const key = nameKey(name);
  const other = key ? contacts.find((c) => nameKey(c.name) === key) : undefined;
  if (other) return { status: 'changed', contact: other };
  return { status: 'new' };
}

// --- export and import ------------------------------------------------------

export const EXPORT_FORMAT = 'xroom-card';

/**
 * The file "Export" saves: the fields, the sharing choices, and the
 * fingerprint for reference. Never a private key (it cannot leave
 * IndexedDB): a card imported elsewhere is signed by that browser's key.
 * @param {CardFields} card
 * @param {Sharing} sharing
 * @param {string} fp
 */
export function exportCard(card, sharing, fp) {
  return JSON.stringify({ format: EXPORT_FORMAT, version: CARD_VERSION, card: cleanFields(card), sharing: cleanSharing(sharing), fingerprint: fp }, null, 2);
}

/**
 * Reads an exported file.
 * @param {string} text
 * @returns {{ok: true, card: CardFields, sharing: Sharing} | {ok: false, reason: string}}
 */
export function parseExport(text) {
  if (text.length > 256 * 1024) return { ok: false, reason: 'The file is too large to be a card.' };
  let v;
  try {
    v = JSON.parse(text);
  } catch {
    return { ok: false, reason: 'The file is not JSON.' };
  }
  if (!v || typeof v !== 'object' || v.format !== EXPORT_FORMAT) return { ok: false, reason: 'The file is not an xroom card.' };
  if (v.version !== CARD_VERSION) return { ok: false, reason: 'The card was made by another version of xroom.' };
  if (!v.card || typeof v.card !== 'object') return { ok: false, reason: 'The file holds no card.' };
  if (v.card.avatar && !goodAvatar(v.card.avatar)) return { ok: false, reason: 'The picture in the file is not a small PNG, JPEG or WebP image.' };
  return { ok: true, card: cleanFields(v.card), sharing: cleanSharing(v.sharing) };
}

/**
 * @typedef {{has: () => boolean, card: () => CardFields, sharing: () => Sharing, contacts: () => Contact[],
 *   addContact: (c: Contact) => boolean, deleteContact: (pub: string) => void}} SavedState
 */

/** @type {SavedState} */
export const localSaved = Object.freeze({
  has: hasCard, card: loadCard, sharing: loadSharing, contacts: loadContacts, addContact, deleteContact,
});

// --- sharing -------------------------------------------------------------------

/**
 * @typedef {'shared' | 'pending' | 'declined' | 'revoked'} Decision
 *   shared: they get our card (sent again when their channel reopens);
 *   pending: we ask the owner; declined: "not now"; revoked: "stop sharing"
 */

/**
 * What to do for a peer whose channel is open, from the mode and what the
 * owner decided for that peer in this call.
 * @param {ShareMode} mode
 * @param {Decision | undefined} decision
 * @returns {'send' | 'ask' | 'none'}
 */
export function shareAction(mode, decision) {
  if (mode === 'never') return 'none';
  if (decision === 'shared') return 'send';
  if (decision === 'declined' || decision === 'revoked') return 'none';
  return mode === 'everyone' ? 'send' : 'ask';
}

/**
 * @typedef {{state: 'none'} | {state: 'revoked'} | {state: 'rejected', reason: 'malformed' | 'signature'}
 *   | {state: 'card', card: Card, fp: string, contact: 'known' | 'changed' | 'new', savedAs: string}} Received
 * @typedef {{tab: string, mode: ShareMode, mine: boolean, decision: Decision | undefined, received: Received}} PeerCard
 *   mine: whether we have a card at all
 */

/**
 * Cards in a call: ours sent to each peer as the owner decides, theirs
 * received, checked and kept in memory. Events: `peer` {tab} whenever what
 * a tile should show changes.
 * @extends {Emitter<{peer: {tab: string}}>}
 */
export class Cards extends Emitter {
  /**
   * @param {DataLink} link
   * @param {string} tab  ours
   * @param {{keys?: KeyStore, nameOf?: (tab: string) => string, saved?: SavedState}} [opts]
   *   saved: where our card, sharing choices and contacts are read and written (default: localStorage)
   */
  constructor(link, tab, opts = {}) {
    super();
    this.link = link;
    this.tab = tab;
    this.store = opts.keys ?? idbKeyStore();
    this.nameOf = opts.nameOf ?? (() => '');
    this.saved = opts.saved ?? localSaved;
    /** @type {Promise<CardKey | null> | null} */
    this.key = null;
    /** @type {Map<string, Decision>} */
    this.decisions = new Map();
    /** @type {Map<string, Received>} */
    this.received = new Map();
    /** @type {Map<string, Promise<void>>} per peer: our sends in order */
    this.sendChain = new Map();
    /** @type {Map<string, Promise<void>>} per peer: their cards checked in order */
    this.recvChain = new Map();
    this.counters = { sent: 0, revokesSent: 0, received: 0, rejected: 0, revoked: 0 };
    /** @type {{field: string, value: unknown} | null} test hook: alter the next card after signing */
    this.tamper = null;
    this.sharing = this.saved.sharing();
    link.handle('card', (from, m) => this.queueIn(from, () => this.onCard(from, m)));
    link.handle('card-revoke', (from) => this.queueIn(from, async () => this.onRevoke(from)));
  }

  /** Our key, made on first use. */
  keyNow() {
    this.key ??= CardKey.load(this.store, true).catch((e) => {
      console.warn('xroom: no card key', e);
      this.key = null;
      return null;
    });
    return this.key;
  }

  /** @param {string} tab @returns {PeerCard} */
  view(tab) {
    return {
      tab, mode: this.sharing.mode, mine: this.saved.has(), decision: this.decisions.get(tab), received: this.received.get(tab) ?? { state: 'none' },
    };
  }

  /** @param {string} tab */
  changed(tab) {
    this.emit('peer', { tab });
  }

  /** @param {Map<string, Promise<void>>} chains @param {string} tab @param {() => Promise<void>} fn */
  queue(chains, tab, fn) {
    const next = (chains.get(tab) ?? Promise.resolve()).then(fn).catch((e) => console.warn('xroom: card', e));
    chains.set(tab, next);
    return next;
  }

  /** @param {string} tab @param {() => Promise<void>} fn */
  queueIn(tab, fn) {
    return this.queue(this.recvChain, tab, fn);
  }

  /** The channel to `tab` opened (first time, or after a rebuild). @param {string} tab */
  peerOpened(tab) {
    this.apply(tab);
  }

  /** Applies the sharing mode to one peer. @param {string} tab */
  apply(tab) {
    if (!this.saved.has()) return;
    const action = shareAction(this.sharing.mode, this.decisions.get(tab));
    if (action === 'send') {
      this.decisions.set(tab, 'shared');
      this.sendCard(tab);
    } else if (action === 'ask' && this.decisions.get(tab) !== 'pending') {
      this.decisions.set(tab, 'pending');
      this.changed(tab);
    }
  }

  /** @param {string} tab */
  sendCard(tab) {
    return this.queue(this.sendChain, tab, async () => {
      if (this.decisions.get(tab) !== 'shared' || this.sharing.mode === 'never' || !this.saved.has()) return;
      const key = await this.keyNow();
      if (!key) return;
      const env = await key.sign(sharedFields(this.saved.card(), this.sharing), this.tab, tab);
      if (this.decisions.get(tab) !== 'shared') return;
      if (this.tamper) {
        /** @type {Record<string, unknown>} */ (env.card)[this.tamper.field] = this.tamper.value;
        this.tamper = null;
      }
      if (this.link.send(tab, env)) this.counters.sent += 1;
      this.changed(tab);
    });
  }

  /** "Share my card" with this peer, now. @param {string} tab */
  shareWith(tab) {
    if (this.sharing.mode === 'never' || !this.saved.has()) return;
    this.decisions.set(tab, 'shared');
    this.changed(tab);
    this.sendCard(tab);
  }

  /** "Not now": no card, no more asking in this call. @param {string} tab */
  notNow(tab) {
    this.decisions.set(tab, 'declined');
    this.changed(tab);
  }

  /**
   * "Stop sharing": tells the peer to drop our card. An honest client does;
   * nothing can make a modified one forget.
   * @param {string} tab
   */
  revoke(tab) {
    const was = this.decisions.get(tab);
    this.decisions.set(tab, 'revoked');
    this.changed(tab);
    if (was !== 'shared') return Promise.resolve();
    return this.queue(this.sendChain, tab, async () => {
      if (this.link.send(tab, { t: 'card-revoke' })) this.counters.revokesSent += 1;
    });
  }

  /** Our card or sharing choices changed (the editor): sends the new card, applies the new mode. */
  reload() {
    this.sharing = this.saved.sharing();
    for (const tab of this.link.openTabs()) {
      const d = this.decisions.get(tab);
      if (this.sharing.mode === 'never' && d === 'shared') this.revoke(tab);
      else if (d === 'shared') this.sendCard(tab);
      else if (d === 'pending' && this.sharing.mode !== 'ask') {
        this.decisions.delete(tab);
        this.apply(tab);
        this.changed(tab);
      } else this.apply(tab);
      this.changed(tab);
    }
  }

  /** Our card was deleted: every peer that had it is told to drop it; the key is gone. */
  deleted() {
    this.key = null;
    for (const [tab, d] of this.decisions) if (d === 'shared') this.revoke(tab);
    this.sharing = this.saved.sharing();
    for (const tab of this.link.openTabs()) this.changed(tab);
  }

  /** @param {string} from @param {unknown} raw */
  async onCard(from, raw) {
    const r = await verifyEnvelope(raw, from, this.tab);
    if (!this.link.channels.has(from)) return; // gone meanwhile
    if (!r.ok) {
      this.counters.rejected += 1;
      this.received.set(from, { state: 'rejected', reason: r.reason });
    } else {
      this.counters.received += 1;
      this.received.set(from, this.withContact(r.card, r.fp, from));
    }
    this.changed(from);
  }

  /** @param {Card} card @param {string} fp @param {string} tab @returns {Received} */
  withContact(card, fp, tab) {
    const c = contactStatus(this.saved.contacts(), card.pub, card.name || this.nameOf(tab));
    return { state: 'card', card, fp, contact: c.status, savedAs: c.contact?.name ?? '' };
  }

  /** @param {string} from */
  onRevoke(from) {
    const had = this.received.get(from)?.state === 'card';
    this.counters.revoked += 1;
    this.received.set(from, had ? { state: 'revoked' } : { state: 'none' });
    this.changed(from);
  }

  /** Saves the card this peer shared as a contact. @param {string} tab */
  saveContact(tab) {
    const r = this.received.get(tab);
    if (r?.state !== 'card') return false;
    const { card, fp } = r;
    const ok = this.saved.addContact({
      pub: card.pub, fp, name: card.name || this.nameOf(tab), saved: Date.now(),
      card: { name: card.name, avatar: card.avatar, pronouns: card.pronouns, status: card.status, links: card.links },
    });
    this.recheck();
    return ok;
  }

  /** @param {string} tab */
  forgetContact(tab) {
    const r = this.received.get(tab);
    if (r?.state !== 'card') return;
    this.saved.deleteContact(r.card.pub);
    this.recheck();
  }

  /** Contacts changed: every received card is matched again. */
  recheck() {
    for (const [tab, r] of this.received) {
      if (r.state !== 'card') continue;
      this.received.set(tab, this.withContact(r.card, r.fp, tab));
      this.changed(tab);
    }
  }

  /** The peer left: its card goes with it. @param {string} tab */
  peerGone(tab) {
    this.decisions.delete(tab);
    this.received.delete(tab);
    this.sendChain.delete(tab);
    this.recvChain.delete(tab);
  }

  /** For tests: states and counters, never a field. */
  snapshot() {
    /** @type {Record<string, {decision: string, received: string, contact: string, fp: string, reason: string}>} */
    const peers = {};
    const tabs = new Set([...this.decisions.keys(), ...this.received.keys()]);
    for (const t of tabs) {
      const r = this.received.get(t) ?? { state: 'none' };
      peers[t] = {
        decision: this.decisions.get(t) ?? '',
        received: r.state,
        contact: r.state === 'card' ? r.contact : '',
        fp: r.state === 'card' ? r.fp : '',
        reason: r.state === 'rejected' ? r.reason : '',
      };
    }
    return { mode: this.sharing.mode, counters: { ...this.counters }, peers };
  }

  close() {
    this.received.clear();
    this.decisions.clear();
  }
}
