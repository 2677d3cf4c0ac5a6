// @ts-check
// crypto.js: keys derived from the room secret (the link's #fragment, which
// never leaves the browser). Today: the join `auth` that the daemon keeps as
// the room's verifier, so that knowing the room id alone does not let anyone
// in. The end-to-end keys for signals and media will be derived here too,
// with the same HKDF and their own info labels.

import { base64url, fromBase64url } from './ids.js';

/** HKDF info label of the join auth; other keys get other labels. */
export const AUTH_INFO = 'xroom/v1/auth';
/** Bytes of the join auth (base64url: 22 characters). */
export const AUTH_BYTES = 16;

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
    { name: 'HKDF', hash: 'SHA-256', salt: new Uint8Array(0), info: new TextEncoder().encode(info) },
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
  return base64url(await hkdf(fromBase64url(secret), AUTH_INFO, AUTH_BYTES));
}
