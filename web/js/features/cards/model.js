// @ts-check
// model.js (cards/): what a user card is. A card is a short set of fields
// its owner controls (name, picture, pronouns, status, up to four links),
// with the rules for each: cleaned as typed (cleanFields), checked
// strictly as received (parseCard: nothing is repaired), the canonical
// form a signature covers, the key's fingerprint, which fields a sharing
// choice sends, what to do for a peer under a sharing mode, trust on first
// use against saved contacts, and the export file. Pure: WebCrypto for
// digests only, no DOM, no storage.

import { cleanLine, httpHref, isCleanLine, nameSkeleton } from '../../util/text.js';

export const CARD_VERSION = 1;
/** Bound in front of every signed card, so the signature means nothing elsewhere. */
export const CARD_LABEL = 'xroom/v1/card';

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
export const B64URL_RE = /^[A-Za-z0-9_-]+$/;

const enc = new TextEncoder();

/** @returns {CardFields} */
export function emptyCard() {
  return { name: '', avatar: '', pronouns: '', status: '', links: [] };
}

/** @returns {Sharing} */
export function defaultSharing() {
  return { mode: 'everyone', fields: { name: true, avatar: true, pronouns: true, status: true, links: true } };
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
  const href = httpHref(line);
  return href ? { text: line, href } : { text: line };
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
  if (!isCleanLine(o.name, LIMITS.name) || !isCleanLine(o.pronouns, LIMITS.pronouns) || !isCleanLine(o.status, LIMITS.status)) return null;
  if (!Array.isArray(o.links) || o.links.length > LIMITS.links) return null;
  if (!o.links.every((l) => isCleanLine(l, LIMITS.link) && l !== '')) return null;
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
 * Names compare by their look: case, blanks, format characters, accents
 * and letters of other scripts that look Latin do not tell two names
 * apart (util/text.js nameSkeleton).
 * @param {string} n
 */
function nameKey(n) {
  return nameSkeleton(n);
}

/**
 * Trust on first use: a key we saved is a known contact; a different key
 * under the name of a saved contact, or a name that looks like it
 * ("Аlice" with a Cyrillic А, "Alice" with a zero-width space), is flagged.
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
