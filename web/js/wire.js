// @ts-check
// wire.js: the one place where peer-to-peer signal payloads (the `data` of
// a `signal` message) are built and read. Every payload names the sending
// tab (a per-tab random id that survives rejoins, unlike peer ids) and the
// connection generation it belongs to. `seal` and `open` are async so that
// end-to-end sealing (AES-GCM with a key from the room secret) slots in here
// without changing a caller. Pure: no DOM.

/** Payload version; a payload of another version is dropped. */
export const WIRE_VERSION = 1;
export const MAX_NAME = 64;
const TAB_RE = /^[A-Za-z0-9_-]{16,43}$/;
const MAX_SDP = 60000;
const MAX_CANDIDATE = 1024;

/** @typedef {{name: string, mic: boolean, cam: boolean, screen: boolean}} PeerState */
/** @typedef {{candidate: string, sdpMid: string | null, sdpMLineIndex: number | null, usernameFragment: string | null}} Candidate */
/**
 * @typedef {({kind: 'hello', ack: boolean} & PeerState)
 *   | ({kind: 'state'} & PeerState)
 *   | {kind: 'sdp', description: {type: 'offer' | 'answer', sdp: string}}
 *   | {kind: 'ice', candidate: Candidate}
 *   | {kind: 'bye'}} Body
 */
/** @typedef {{tab: string, gen: number} & Body} Message */

/**
 * A display name as shown to others: trimmed, control characters removed,
 * at most MAX_NAME characters.
 * @param {unknown} v
 * @returns {string}
 */
export function cleanName(v) {
  if (typeof v !== 'string') return '';
  // eslint-disable-next-line no-control-regex
  return [...v.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, ' ').trim()].slice(0, MAX_NAME).join('');
}

/**
 * The payload to put in `signal.data`.
 * @param {Message} msg
 * @returns {Promise<unknown>}
 */
export async function seal(msg) {
  return { v: WIRE_VERSION, ...msg };
}

/** @param {unknown} v @returns {v is Record<string, unknown>} */
function isObject(v) {
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

/**
 * Reads a received `signal.data`. Returns null for anything that is not a
 * well-formed payload of this version (it is then dropped, not answered).
 * @param {unknown} data
 * @returns {Promise<Message | null>}
 */
export async function open(data) {
  if (!isObject(data) || data.v !== WIRE_VERSION) return null;
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
    case 'bye':
      return { tab, gen, kind };
    default:
      return null;
  }
}
