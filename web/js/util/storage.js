// @ts-check
// storage.js: the one wrapper around localStorage. Values are JSON; a
// browser that refuses storage (private mode, a full quota, storage
// switched off) or a value we did not write reads as nothing, and a write
// it refuses reports false instead of throwing: remembering is a
// convenience, never a reason for the page to fail. Storage is looked up
// at each call unless one is passed, so tests can put a fake in its
// place. No DOM.

/** @typedef {Pick<Storage, 'getItem' | 'setItem'> & Partial<Pick<Storage, 'removeItem'>>} Store */

/**
 * The store to use: `store`, or this page's localStorage (looked up here:
 * merely reading `localStorage` throws where storage is switched off).
 * @param {Store | undefined} store
 * @returns {Store | undefined}
 */
function pick(store) {
  return store ?? globalThis.localStorage;
}

/**
 * The JSON value under `key`, or null when there is none or it is not JSON.
 * @param {string} key
 * @param {Store | undefined} [store]
 * @returns {unknown}
 */
export function readJSON(key, store) {
  try {
    return JSON.parse(pick(store)?.getItem(key) ?? 'null');
  } catch {
    return null;
  }
}

/**
 * The object under `key`; {} for nothing, or anything that is not a plain
 * JSON object.
 * @param {string} key
 * @param {Store | undefined} [store]
 * @returns {Record<string, unknown>}
 */
export function readObject(key, store) {
  const v = readJSON(key, store);
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? /** @type {Record<string, unknown>} */ (v) : {};
}

/**
 * Stores `value` as JSON under `key`; false if the browser refused it or
 * has no storage.
 * @param {string} key
 * @param {unknown} value
 * @param {Store | undefined} [store]
 */
export function writeJSON(key, value, store) {
  try {
    const s = pick(store);
    if (!s) return false; // no storage at all
    s.setItem(key, JSON.stringify(value));
    return true;
  } catch {
    return false; // private mode, quota
  }
}

/** @param {string} key @param {Store | undefined} [store] */
export function removeKey(key, store) {
  try {
    pick(store)?.removeItem?.(key);
  } catch { /* nothing to remove */ }
}
