// @ts-check
// wire.js (files/): what travels on the file channel, before sealing.
// Control messages are JSON (`file-offer`, `file-accept`, `file-decline`,
// `file-ack`, `file-nack`, `file-resume`, `file-end`, `file-done`,
// `file-cancel`), checked member by member on receipt (parseControl).
// Chunks are binary:
//   [1][id length][id][u32 index][32-byte SHA-256 of the bytes][bytes]
// The whole file's hash is the root: SHA-256 over the chunk hashes in
// order. Also the file name a receiver is shown (cleanFileName). Pure:
// WebCrypto, no DOM.

import { SHORT_ID_MAX, isShortId } from '../../util/ids.js';
import { cleanLine } from '../../util/text.js';

/**
 * Bytes per chunk. 64 KiB: every browser sends it as one SCTP message
 * (Chromium's limit is 256 KiB), the per-chunk cost (seal, hash, one disk
 * write) is spread over enough bytes, and a chunk delays a message on
 * another channel by well under a millisecond on a fast link. Measured in
 * tests/bench/file-transfer.mjs (docs/performance.md).
 */
export const CHUNK = 64 * 1024;
/** Chunk sizes a receiver accepts from a sender. */
export const CHUNK_MIN = 4 * 1024;
export const CHUNK_MAX = 256 * 1024;
/** Largest file: what a double counts exactly. */
export const MAX_SIZE = Number.MAX_SAFE_INTEGER;
/** Bytes of a chunk hash (SHA-256). */
export const HASH = 32;
/** Longest file name shown and saved. */
const MAX_NAME = 255;
const KIND_CHUNK = 1;

const enc = new TextEncoder();
const dec = new TextDecoder('utf-8', { fatal: true });

/** @param {unknown} v @param {number} max */
function count(v, max) {
  return Number.isSafeInteger(v) && /** @type {number} */ (v) >= 0 && /** @type {number} */ (v) <= max;
}

/**
 * A file name as the receiver will see and save it: no path, one clean
 * line (util/text.js: no control or bidirectional characters), no leading
 * dots, at most MAX_NAME characters, the extension kept when cut.
 * @param {string} name
 */
export function cleanFileName(name) {
  let n = cleanLine(String(name).split(/[\\/]/).pop() ?? '', Infinity);
  n = n.replace(/^\.+/, '');
  if (n.length > MAX_NAME) {
    const dot = n.lastIndexOf('.');
    const ext = dot > 0 && n.length - dot <= 16 ? n.slice(dot) : '';
    n = n.slice(0, MAX_NAME - ext.length) + ext;
  }
  return n || 'file';
}

/** Chunks of a file of `size` bytes. @param {number} size @param {number} chunk */
export function chunkCount(size, chunk) {
  return Math.ceil(size / chunk);
}

/** SHA-256. @param {Uint8Array} data */
export async function sha256(data) {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', /** @type {Uint8Array<ArrayBuffer>} */ (data)));
}

/**
 * The whole-file hash: SHA-256 over the chunk hashes in order (a one-level
 * hash tree: WebCrypto has no incremental SHA-256, and this lets both sides
 * compute it chunk by chunk).
 * @param {Array<Uint8Array | undefined>} hashes
 */
export async function rootOf(hashes) {
  const all = new Uint8Array(hashes.length * HASH);
  hashes.forEach((h, i) => {
    if (!h) throw new Error(`chunk ${i} has no hash`);
    all.set(h, i * HASH);
  });
  return sha256(all);
}

/** Whether two hashes are equal (in constant time). @param {Uint8Array} a @param {Uint8Array} b */
export function same(a, b) {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i += 1) d |= a[i] ^ b[i];
  return d === 0;
}

/** @param {Uint8Array} b */
export function hex(b) {
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
}

/** @param {string} s */
function unhex(s) {
  if (typeof s !== 'string' || !/^[0-9a-f]{64}$/.test(s)) return null;
  const out = new Uint8Array(HASH);
  for (let i = 0; i < HASH; i += 1) out[i] = parseInt(s.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/**
 * A chunk on the wire (before sealing):
 * [1][id length][id][u32 index][32-byte SHA-256][bytes].
 * @param {string} id @param {number} index @param {Uint8Array} hash @param {Uint8Array} data
 */
export function encodeChunk(id, index, hash, data) {
  const idb = enc.encode(id);
  const out = new Uint8Array(2 + idb.length + 4 + HASH + data.length);
  out[0] = KIND_CHUNK;
  out[1] = idb.length;
  out.set(idb, 2);
  let at = 2 + idb.length;
  new DataView(out.buffer).setUint32(at, index);
  at += 4;
  out.set(hash, at);
  out.set(data, at + HASH);
  return out;
}

/** Whether a message (opened) is a chunk rather than a control message. @param {Uint8Array} b */
export function isChunk(b) {
  return b[0] === KIND_CHUNK;
}

/**
 * @param {Uint8Array} b
 * @returns {{id: string, index: number, hash: Uint8Array, data: Uint8Array} | null}
 */
export function decodeChunk(b) {
  if (b.length < 2 || b[0] !== KIND_CHUNK) return null;
  const n = b[1];
  if (n === 0 || n > SHORT_ID_MAX || b.length < 2 + n + 4 + HASH) return null;
  let id;
  try {
    id = dec.decode(b.subarray(2, 2 + n));
  } catch {
    return null;
  }
  if (!isShortId(id)) return null;
  const at = 2 + n;
  const index = new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(at);
  return { id, index, hash: b.subarray(at + 4, at + 4 + HASH), data: b.subarray(at + 4 + HASH) };
}

/** A control message on the wire (before sealing). @param {Record<string, unknown>} msg */
export function encodeControl(msg) {
  return enc.encode(JSON.stringify(msg));
}

/**
 * Reads a control message (opened bytes); null if it is not one.
 * @param {Uint8Array} b
 */
export function decodeControl(b) {
  try {
    return parseControl(JSON.parse(dec.decode(b)));
  } catch {
    return null;
  }
}

/**
 * Checks a control message; anything malformed is null.
 * @param {unknown} v
 * @returns {Record<string, any> | null}
 */
export function parseControl(v) {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return null;
  const o = /** @type {Record<string, unknown>} */ (v);
  if (!isShortId(o.id)) return null;
  switch (o.t) {
    case 'file-offer':
      if (typeof o.name !== 'string' || o.name.length > MAX_NAME * 2) return null;
      if (!count(o.size, MAX_SIZE) || !count(o.chunk, CHUNK_MAX) || /** @type {number} */ (o.chunk) < CHUNK_MIN) return null;
      if (typeof o.mime !== 'string' || o.mime.length > 128) return null;
      return { t: o.t, id: o.id, name: cleanFileName(o.name), size: o.size, chunk: o.chunk, mime: o.mime };
    case 'file-ack': case 'file-resume':
      return count(o.have, 2 ** 32) ? { t: o.t, id: o.id, have: o.have } : null;
    case 'file-nack':
      return count(o.i, 2 ** 32) ? { t: o.t, id: o.id, i: o.i } : null;
    case 'file-end': {
      const root = unhex(/** @type {string} */ (o.root));
      return root ? { t: o.t, id: o.id, root } : null;
    }
    case 'file-accept': case 'file-decline': case 'file-done':
      return { t: o.t, id: o.id };
    case 'file-cancel':
      return { t: o.t, id: o.id, reason: typeof o.reason === 'string' ? o.reason.slice(0, 64) : '' };
    default:
      return null;
  }
}
