// @ts-check
// ids.js: names and links. base64url, the random room id (128 bits) and
// room secret (256 bits) that the start page makes, and the parsing of a
// room link `/r/<room-id>#<secret>`. Pure: no DOM, runs under node --test.

/** Room ids the daemon accepts (shared/spec/protocol.md, "Names"). */
export const ROOM_ID_RE = /^[A-Za-z0-9_-]{1,64}$/;
const B64URL_RE = /^[A-Za-z0-9_-]*$/;

/** Bytes of a room id and of a room secret made by the start page. */
export const ROOM_ID_BYTES = 16;
export const SECRET_BYTES = 32;
/** A secret shorter than this (in bytes) is refused as too weak to be a key. */
export const MIN_SECRET_BYTES = 16;

/**
 * base64url without padding (RFC 4648 section 5).
 * @param {Uint8Array} bytes
 * @returns {string}
 */
export function base64url(bytes) {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/**
 * Decodes unpadded base64url; throws RangeError on anything else.
 * @param {string} text
 * @returns {Uint8Array}
 */
export function fromBase64url(text) {
  if (!B64URL_RE.test(text) || text.length % 4 === 1) {
    throw new RangeError('not base64url');
  }
  const b64 = text.replace(/-/g, '+').replace(/_/g, '/');
  const bin = atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4));
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  if (base64url(out) !== text) throw new RangeError('not canonical base64url');
  return out;
}

/**
 * `n` random bytes from the platform CSPRNG, as base64url.
 * @param {number} n
 */
export function randomId(n) {
  return base64url(crypto.getRandomValues(new Uint8Array(n)));
}

/** Longest id of a message or transfer accepted from a peer (randomId(12) makes 16 characters). */
export const SHORT_ID_MAX = 32;

/**
 * Whether `v` is such an id as received: 1 to SHORT_ID_MAX base64url
 * characters.
 * @param {unknown} v
 * @returns {v is string}
 */
export function isShortId(v) {
  return typeof v === 'string' && v.length > 0 && v.length <= SHORT_ID_MAX && B64URL_RE.test(v);
}

/** A new room: its id and its secret. @returns {{id: string, secret: string}} */
export function newRoom() {
  return { id: randomId(ROOM_ID_BYTES), secret: randomId(SECRET_BYTES) };
}

/**
 * The path and fragment of a room's link.
 * @param {string} id
 * @param {string} secret
 */
export function roomHref(id, secret) {
  return `/r/${id}#${secret}`;
}

/**
 * @typedef {{ok: true, id: string, secret: string, href: string}
 *   | {ok: false, reason: 'not-a-link' | 'other-server' | 'no-room' | 'no-secret' | 'bad-secret'}} ParsedLink
 */

/**
 * Parses a pasted link (absolute, or a path relative to `base`) or the
 * current location. Only links of `base`'s origin are accepted: a room lives
 * on the server that made it.
 * @param {string} text
 * @param {string} base  the page's own URL (its origin is the server's)
 * @returns {ParsedLink}
 */
export function parseRoomLink(text, base) {
  let u;
  try {
    u = new URL(text.trim(), base);
  } catch {
    return { ok: false, reason: 'not-a-link' };
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return { ok: false, reason: 'not-a-link' };
  if (u.origin !== new URL(base).origin) return { ok: false, reason: 'other-server' };
  const m = /^\/r\/([^/]+)$/.exec(u.pathname);
  if (!m || !ROOM_ID_RE.test(m[1])) return { ok: false, reason: 'no-room' };
  const secret = u.hash.slice(1);
  if (!secret) return { ok: false, reason: 'no-secret' };
  try {
    if (fromBase64url(secret).length < MIN_SECRET_BYTES) return { ok: false, reason: 'bad-secret' };
  } catch {
    return { ok: false, reason: 'bad-secret' };
  }
  return { ok: true, id: m[1], secret, href: roomHref(m[1], secret) };
}
