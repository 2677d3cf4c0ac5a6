// @ts-check
// frame-crypto.js: end-to-end encryption of encoded audio and video frames
// (what e2ee-worker.js runs on every frame). AES-GCM-256 under the sender's
// media key; the first bytes of a frame stay clear where the codec needs
// them to packetise and to tell key frames apart (VP8: 10 of a key frame, 3
// of a delta frame; Opus: the TOC byte), and are authenticated all the
// same. Pure: WebCrypto only, no DOM, no worker globals; runs under
// node --test.
//
// A sealed frame: clear(n) | ciphertext+tag(16) | IV(12) | key id(1).
// Associated data: clear(n) | key id | kind ('a' or 'v').

import { IV_BYTES, TAG_BYTES } from './crypto.js';

/** Bytes after the ciphertext: the IV and the key id. */
export const TRAILER_BYTES = IV_BYTES + 1;
/** What a sealed frame adds to the encoded one. */
export const OVERHEAD = TAG_BYTES + TRAILER_BYTES;

/**
 * Bytes left clear at the start of a frame, by codec (lower-case MIME type)
 * and frame type. Codecs we know; the client negotiates only these (see
 * e2ee.js: codec preferences), so a frame of another codec is rare and is
 * sealed whole (never sent clear).
 * @type {Readonly<Record<string, {key: number, delta: number}>>}
 */
export const CLEAR_BYTES = Object.freeze({
  // RFC 6386: a key frame starts with a 3-byte frame tag and a 7-byte
  // start code and size; a delta frame with the 3-byte tag. The RTP
  // packetiser and depacketiser read these (key frame bit, dimensions).
  'video/vp8': { key: 10, delta: 3 },
  // RFC 6716: the TOC byte (mode, bandwidth, frame count), read to detect
  // DTX and comfort noise.
  'audio/opus': { key: 1, delta: 1 },
});

/** Codecs with rules above, the ones the client negotiates. */
export const SUPPORTED_CODECS = Object.freeze(Object.keys(CLEAR_BYTES));

/** @typedef {'audio' | 'video'} Kind */

/**
 * The codec of a frame, as a lower-case MIME type: from the frame's
 * metadata (`mimeType`), else from its payload type and the negotiated
 * payload-type map, else the kind's default (VP8, Opus).
 * @param {{mimeType?: string, payloadType?: number}} meta
 * @param {Kind} kind
 * @param {Map<number, string>} [ptMap]  payload type -> MIME type
 * @returns {string}
 */
export function codecOf(meta, kind, ptMap) {
  if (typeof meta.mimeType === 'string' && meta.mimeType) return meta.mimeType.toLowerCase();
  const byPt = meta.payloadType !== undefined ? ptMap?.get(meta.payloadType) : undefined;
  if (byPt) return byPt.toLowerCase();
  return kind === 'audio' ? 'audio/opus' : 'video/vp8';
}

/**
 * How many of a frame's `length` encoded bytes stay clear.
 * @param {string} codec  lower-case MIME type
 * @param {string | undefined} frameType  'key' | 'delta' | 'empty' (video), undefined (audio)
 * @param {number} length  bytes of the encoded frame (before sealing)
 */
export function clearBytes(codec, frameType, length) {
  const rule = CLEAR_BYTES[codec];
  if (!rule) return 0;
  return Math.min(length, frameType === 'key' ? rule.key : rule.delta);
}

/**
 * The IVs of one media key: 4 random bytes drawn with the key, then a
 * 64-bit counter. One worker encrypts every frame of this tab, so no IV
 * repeats under a key.
 */
export class IvSource {
  constructor() {
    this.salt = crypto.getRandomValues(new Uint8Array(4));
    this.n = 0n;
  }

  next() {
    const iv = new Uint8Array(IV_BYTES);
    iv.set(this.salt);
    this.n += 1n;
    new DataView(iv.buffer).setBigUint64(4, this.n);
    return iv;
  }
}

/**
 * @param {Uint8Array} clear
 * @param {number} keyId
 * @param {Kind} kind
 */
function frameAd(clear, keyId, kind) {
  const ad = new Uint8Array(clear.length + 2);
  ad.set(clear);
  ad[clear.length] = keyId;
  ad[clear.length + 1] = kind === 'audio' ? 0x61 : 0x76;
  return ad;
}

/**
 * Seals an encoded frame.
 * @param {CryptoKey} key
 * @param {number} keyId  0-255
 * @param {Uint8Array} iv  12 bytes, never reused under this key
 * @param {Uint8Array} frame  the encoded frame
 * @param {number} clear  leading bytes left clear (clearBytes)
 * @param {Kind} kind
 * @returns {Promise<Uint8Array>}
 */
export async function sealFrame(key, keyId, iv, frame, clear, kind) {
  const head = frame.subarray(0, clear);
  const sealed = new Uint8Array(await crypto.subtle.encrypt(
    { name: 'AES-GCM', iv: /** @type {BufferSource} */ (iv), additionalData: /** @type {BufferSource} */ (frameAd(head, keyId, kind)) },
    key, /** @type {BufferSource} */ (frame.subarray(clear))));
  const out = new Uint8Array(clear + sealed.length + TRAILER_BYTES);
  out.set(head);
  out.set(sealed, clear);
  out.set(iv, clear + sealed.length);
  out[out.length - 1] = keyId;
  return out;
}

/**
 * The key id of a sealed frame, or -1 when it is too short to be one.
 * @param {Uint8Array} data
 */
export function keyIdOf(data) {
  return data.length >= OVERHEAD ? data[data.length - 1] : -1;
}

/**
 * Bytes of the encoded frame inside a sealed one of `length` bytes.
 * @param {number} length
 */
export function plainLength(length) {
  return Math.max(0, length - OVERHEAD);
}

/**
 * Opens a sealed frame; null when it does not authenticate (wrong key,
 * tampered bytes, clear bytes or key id changed, another kind).
 * @param {CryptoKey} key
 * @param {Uint8Array} data  the sealed frame
 * @param {number} clear  leading clear bytes, from clearBytes(codec, type, plainLength(data.length))
 * @param {Kind} kind
 * @returns {Promise<Uint8Array | null>}
 */
export async function openFrame(key, data, clear, kind) {
  if (data.length < OVERHEAD || clear > data.length - OVERHEAD) return null;
  const keyId = data[data.length - 1];
  const ivAt = data.length - TRAILER_BYTES;
  const head = data.subarray(0, clear);
  try {
    const plain = new Uint8Array(await crypto.subtle.decrypt(
      { name: 'AES-GCM', iv: /** @type {BufferSource} */ (data.subarray(ivAt, ivAt + IV_BYTES)),
        additionalData: /** @type {BufferSource} */ (frameAd(head, keyId, kind)) },
      key, /** @type {BufferSource} */ (data.subarray(clear, ivAt))));
    const out = new Uint8Array(clear + plain.length);
    out.set(head);
    out.set(plain, clear);
    return out;
  } catch {
    return null;
  }
}

/**
 * Payload types of an SDP mapped to their codec (lower-case MIME type),
 * from its `a=rtpmap` lines: the fallback when frames carry no mimeType.
 * @param {string} sdp
 * @returns {Map<number, string>}
 */
export function payloadTypes(sdp) {
  /** @type {Map<number, string>} */
  const map = new Map();
  let kind = '';
  for (const line of sdp.split(/\r?\n/)) {
    const m = /^m=(audio|video) /.exec(line);
    if (m) kind = m[1];
    const r = /^a=rtpmap:(\d+) ([^/\s]+)/.exec(line);
    if (r && kind) map.set(Number(r[1]), `${kind}/${r[2]}`.toLowerCase());
  }
  return map;
}
