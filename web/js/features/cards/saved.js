// @ts-check
// saved.js (cards/): what this browser keeps of cards, in localStorage
// only (util/storage.js): our card's fields in `xroom.profile` (whose
// `name` is the display name the pre-join screen edits too), the sharing
// choices in `xroom.sharing`, saved contacts in `xroom.contacts`. Every
// value read is cleaned as strictly as one typed or received. No DOM.

import { PROFILE_KEY } from '../../util/prefs.js';
import { readJSON, readObject, removeKey, writeJSON } from '../../util/storage.js';
import { cleanLine } from '../../util/text.js';
import { B64URL_RE, LIMITS, cleanFields, cleanSharing } from './model.js';

/** @typedef {import('./model.js').CardFields} CardFields */
/** @typedef {import('./model.js').Sharing} Sharing */
/** @typedef {import('./model.js').Contact} Contact */
/** @typedef {import('./key.js').KeyStore} KeyStore */

/** Where this browser keeps its own card: the profile of util/prefs.js, whose `name` is the display name. */
export const CARD_KEY = PROFILE_KEY;
export const SHARING_KEY = 'xroom.sharing';
export const CONTACTS_KEY = 'xroom.contacts';

/** @returns {CardFields} */
export function loadCard() {
  return cleanFields(readJSON(CARD_KEY));
}

/**
 * Saves our card; merged into `xroom.profile`, whose `name` is the display
 * name the pre-join screen edits too.
 * @param {CardFields} c
 */
export function saveCard(c) {
  return writeJSON(CARD_KEY, { ...readObject(CARD_KEY), ...cleanFields(c) });
}

/**
 * Whether this browser has a card to share: its owner saved one in the
 * editor (which stores the sharing choices), or it has more than a name.
 * A display name typed on the pre-join screen alone is not a card: no key
 * is made and nothing is sent for it.
 */
export function hasCard() {
  if (readJSON(SHARING_KEY) !== null) return true;
  const c = loadCard();
  return !!(c.avatar || c.pronouns || c.status || c.links.length);
}

/** @returns {Sharing} */
export function loadSharing() {
  return cleanSharing(readJSON(SHARING_KEY));
}

/** @param {Sharing} s */
export function saveSharing(s) {
  return writeJSON(SHARING_KEY, cleanSharing(s));
}

/**
 * "Delete my card": the fields (display name included), the sharing
 * choices and the key pair. Saved contacts are others' cards: they have
 * their own delete.
 * @param {KeyStore} keys
 */
export async function deleteCard(keys) {
  removeKey(CARD_KEY);
  removeKey(SHARING_KEY);
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
  const v = readJSON(CONTACTS_KEY);
  if (!Array.isArray(v)) return [];
  return v.map(cleanContact).filter((c) => c !== null).slice(0, LIMITS.contacts);
}

/** @param {Contact[]} list */
function saveContacts(list) {
  return list.length ? writeJSON(CONTACTS_KEY, list) : (removeKey(CONTACTS_KEY), true);
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
  removeKey(CONTACTS_KEY);
}

/**
 * @typedef {{has: () => boolean, card: () => CardFields, sharing: () => Sharing, contacts: () => Contact[],
 *   addContact: (c: Contact) => boolean, deleteContact: (pub: string) => void}} SavedState
 */

/** @type {SavedState} */
export const localSaved = Object.freeze({
  has: hasCard, card: loadCard, sharing: loadSharing, contacts: loadContacts, addContact, deleteContact,
});
