// @ts-check
// wire.js: what a peer-to-peer signal message is, and the one place where
// one is read: the sending tab, the connection generation, a kind and its
// members (Message), validated member by member (readMessage), display
// names cleaned (cleanName). On the wire a message travels sealed, padded
// and bound to both peer ids (e2ee/signal-codec.js), inside the `data` of
// a `signal`; the daemon relays an opaque blob. Pure: no DOM.

import { cleanLine } from '../util/text.js';

export const MAX_NAME = 64;
const TAB_RE = /^[A-Za-z0-9_-]{16,43}$/;
const MAX_SDP = 60000;
const MAX_CANDIDATE = 1024;
/** A media key sealed under a pair key: IV(12) | key(32) | tag(16), base64url. */
const KEY_RE = /^[A-Za-z0-9_-]{80}$/;

/** @typedef {{name: string, mic: boolean, cam: boolean, screen: boolean}} PeerState */
/** @typedef {{candidate: string, sdpMid: string | null, sdpMLineIndex: number | null, usernameFragment: string | null}} Candidate */
/**
 * @typedef {({kind: 'hello', ack: boolean} & PeerState)
 *   | ({kind: 'state'} & PeerState)
 *   | {kind: 'sdp', description: {type: 'offer' | 'answer', sdp: string}}
 *   | {kind: 'ice', candidate: Candidate}
 *   | {kind: 'key', id: number, key: string, want: boolean}
 *   | {kind: 'key-ack', id: number}
 *   | {kind: 'bye'}} Body
 */
/** @typedef {{tab: string, gen: number} & Body} Message */

/**
 * A display name as shown to others: one clean line (util/text.js) of at
 * most MAX_NAME characters.
 * @param {unknown} v
 * @returns {string}
 */
export function cleanName(v) {
  return cleanLine(v, MAX_NAME);
}

/** @param {unknown} v @returns {v is Record<string, unknown>} */
export function isObject(v) {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** @param {Record<string, unknown>} d @returns {PeerState | null} */
function readState(d) {
  if (typeof d.name !== 'string' || typeof d.mic !== 'boolean' || typeof d.cam !== 'boolean' ||
      typeof d.screen !== 'boolean') return null;
  return { name: cleanName(d.name), mic: d.mic, cam: d.cam, screen: d.screen };
}

/** @param {unknown} v @returns {string | null} */
function strOrNull(v) {
  return typeof v === 'string' ? v : null;
}

/** @param {unknown} v @returns {v is number} */
function isKeyId(v) {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 255;
}

/**
 * Validates a message (the plaintext of a payload). Returns null for
 * anything that is not well formed; it is then dropped, not answered.
 * @param {unknown} data
 * @returns {Message | null}
 */
export function readMessage(data) {
  if (!isObject(data)) return null;
  const { tab, gen, kind } = data;
  if (typeof tab !== 'string' || !TAB_RE.test(tab)) return null;
  if (typeof gen !== 'number' || !Number.isSafeInteger(gen) || gen < 0) return null;
  switch (kind) {
    case 'hello': {
      const st = readState(data);
      if (!st || typeof data.ack !== 'boolean') return null;
      return { tab, gen, kind, ack: data.ack, ...st };
    }
    case 'state': {
      const st = readState(data);
      return st ? { tab, gen, kind, ...st } : null;
    }
    case 'sdp': {
      const d = data.description;
      if (!isObject(d) || (d.type !== 'offer' && d.type !== 'answer') ||
          typeof d.sdp !== 'string' || d.sdp.length > MAX_SDP) return null;
      return { tab, gen, kind, description: { type: d.type, sdp: d.sdp } };
    }
    case 'ice': {
      const c = data.candidate;
      if (!isObject(c) || typeof c.candidate !== 'string' || c.candidate.length > MAX_CANDIDATE) return null;
      const idx = c.sdpMLineIndex;
      const sdpMLineIndex = typeof idx === 'number' && Number.isInteger(idx) && idx >= 0 && idx < 64 ? idx : null;
      return {
        tab, gen, kind,
        candidate: {
          candidate: c.candidate,
          sdpMid: strOrNull(c.sdpMid),
          sdpMLineIndex,
          usernameFragment: strOrNull(c.usernameFragment),
        },
      };
    }
    case 'key':
      if (!isKeyId(data.id) || typeof data.key !== 'string' || !KEY_RE.test(data.key) ||
          typeof data.want !== 'boolean') return null;
      return { tab, gen, kind, id: data.id, key: data.key, want: data.want };
    case 'key-ack':
      return isKeyId(data.id) ? { tab, gen, kind, id: data.id } : null;
    case 'bye':
      return { tab, gen, kind };
    default:
      return null;
  }
}
