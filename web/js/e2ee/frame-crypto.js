// @ts-check
// frame-crypto.js: end-to-end encryption of encoded audio and video frames
// (what worker.js runs on every frame). AES-GCM-256 under the sender's
// media key; the first bytes of a frame stay clear where the codec needs
// them to packetise and to tell key frames apart (VP8: 10 of a key frame, 3
// of a delta frame; VP9: none; Opus: the TOC byte; H.264: the NAL
// structure up to the slice's parameter-set id, the rest escaped against
// start codes; AV1: the OBU headers), and are authenticated all the same.
// The codec is the frame's own (its metadata's mimeType), never assumed.
// Pure: WebCrypto only, no DOM, no worker globals; runs under node --test.
//
// A sealed frame (VP8, VP9, Opus): clear(n) | ciphertext+tag(16) | IV(12) |
// key id(1). Associated data: clear(n) | key id | kind ('a' or 'v').
// H.264 and AV1 keep their structure around the same parts: sealFor.

import { IV_BYTES, TAG_BYTES } from './crypto.js';

/** Bytes after the ciphertext: the IV and the key id. */
export const TRAILER_BYTES = IV_BYTES + 1;
/** What a sealed frame adds to the encoded one. */
export const OVERHEAD = TAG_BYTES + TRAILER_BYTES;

/**
 * Bytes left clear at the start of a frame, by codec (lower-case MIME type)
 * and frame type, in order of preference. Codecs we know; the client
 * negotiates only these (see e2ee.js: codec preferences), so a frame of
 * another codec is rare and is sealed whole (never sent clear).
 * docs/security.md says why each rule is what it is.
 * @type {Readonly<Record<string, {key: number, delta: number}>>}
 */
export const CLEAR_BYTES = Object.freeze({
  // RFC 6386: a key frame starts with a 3-byte frame tag and a 7-byte
  // start code and size; a delta frame with the 3-byte tag. The RTP
  // packetiser and depacketiser read these (key frame bit, dimensions).
  'video/vp8': { key: 10, delta: 3 },
  // RFC 9628: the VP9 payload descriptor (key frame, layers, picture id,
  // scalability structure) is written from the encoder's codec-specific
  // information, which travels beside the frame through the transform,
  // and read back from the descriptor: neither side parses the bitstream.
  // The whole frame is sealed (checked in Chromium 156 and Firefox 153).
  'video/vp9': { key: 0, delta: 0 },
  // H.264 and AV1 follow the frame's structure instead: sealFor below.
  // RFC 6716: the TOC byte (mode, bandwidth, frame count), read to detect
  // DTX and comfort noise.
  'audio/opus': { key: 1, delta: 1 },
});

/** Codecs whose structure sealFor follows (NAL units, OBUs) instead of a clear prefix. */
export const STRUCTURED_CODECS = Object.freeze(['video/h264', 'video/av1']);

/** Codecs with rules, the ones the client negotiates, in order of preference (VP8 first). */
export const SUPPORTED_CODECS = Object.freeze(['video/vp8', 'video/vp9', 'video/h264', 'video/av1', 'audio/opus']);

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

// --- Codecs whose packetiser parses the frame: H.264 and AV1 -------------
//
// Their RTP packetisers split a frame along its structure (H.264: NAL
// units found by their start codes; AV1: OBUs found by their headers and
// sizes) and the depacketisers rebuild it, so that structure stays clear
// and only what is inside is sealed; the structure is authenticated as
// associated data. docs/security.md says why each is what it is.

/**
 * AES-GCM over `plain` with associated data `ad | key id | kind`:
 * ciphertext+tag | IV | key id.
 * @param {CryptoKey} key @param {number} keyId @param {Uint8Array} iv
 * @param {Uint8Array} plain @param {Uint8Array} ad @param {Kind} kind
 */
async function sealBody(key, keyId, iv, plain, ad, kind) {
  const ct = new Uint8Array(await crypto.subtle.encrypt(
    { name: 'AES-GCM', iv: /** @type {BufferSource} */ (iv), additionalData: /** @type {BufferSource} */ (frameAd(ad, keyId, kind)) },
    key, /** @type {BufferSource} */ (plain)));
  const out = new Uint8Array(ct.length + TRAILER_BYTES);
  out.set(ct);
  out.set(iv, ct.length);
  out[out.length - 1] = keyId;
  return out;
}

/**
 * The inverse of sealBody; null when it does not authenticate.
 * @param {CryptoKey} key @param {Uint8Array} body @param {Uint8Array} ad @param {Kind} kind
 * @returns {Promise<Uint8Array | null>}
 */
async function openBody(key, body, ad, kind) {
  if (body.length < OVERHEAD) return null;
  const ivAt = body.length - TRAILER_BYTES;
  try {
    return new Uint8Array(await crypto.subtle.decrypt(
      { name: 'AES-GCM', iv: /** @type {BufferSource} */ (body.subarray(ivAt, ivAt + IV_BYTES)),
        additionalData: /** @type {BufferSource} */ (frameAd(ad, body[body.length - 1], kind)) },
      key, /** @type {BufferSource} */ (body.subarray(0, ivAt))));
  } catch {
    return null;
  }
}

/** @param {Uint8Array[]} parts */
function concat(parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * The NAL units of an H.264 frame in Annex B form: where each unit's
 * header byte is, and where the unit ends (before the next start code,
 * 3 or 4 bytes).
 * @param {Uint8Array} data
 * @returns {{start: number, end: number}[]}
 */
export function nalUnits(data) {
  /** @type {{start: number, end: number}[]} */
  const out = [];
  let start = -1;
  for (let i = 0; i + 2 < data.length; i++) {
    if (data[i] !== 0 || data[i + 1] !== 0 || data[i + 2] !== 1) continue;
    if (start >= 0) out.push({ start, end: i > start && data[i - 1] === 0 ? i - 1 : i });
    start = i + 3;
    i += 2;
  }
  if (start >= 0 && start <= data.length) out.push({ start, end: data.length });
  return out;
}

/**
 * Bits taken by `count` Exp-Golomb ue(v) codes from bit 0 of `bytes`,
 * or -1 if they do not fit.
 * @param {Uint8Array} bytes @param {number} count
 */
function expGolombBits(bytes, count) {
  let bit = 0;
  const at = (/** @type {number} */ b) => (bytes[b >> 3] >> (7 - (b & 7))) & 1;
  for (let k = 0; k < count; k++) {
    let zeros = 0;
    while (bit < bytes.length * 8 && at(bit) === 0) {
      zeros += 1;
      bit += 1;
    }
    bit += 1 + zeros;
    if (zeros > 31 || bit > bytes.length * 8) return -1;
  }
  return bit;
}

/**
 * Bytes of an H.264 frame left clear: everything before the first slice
 * (parameter sets, SEI, with their start codes), the slice's NAL header,
 * and the slice header's first three fields (first_mb_in_slice,
 * slice_type, pic_parameter_set_id), which the receiving side reads to
 * match the slice to its parameter sets before the frame is whole. A
 * frame without a slice keeps its last NAL header clear. 0 when the frame
 * has no start code at all.
 * @param {Uint8Array} data
 */
export function h264ClearBytes(data) {
  const units = nalUnits(data);
  if (units.length === 0) return 0;
  const slice = units.find((u) => u.end > u.start && [1, 5].includes(data[u.start] & 0x1f));
  if (!slice) return Math.min(data.length, units[units.length - 1].start + 1);
  const bits = expGolombBits(data.subarray(slice.start + 1, Math.min(slice.end, slice.start + 9)), 3);
  return Math.min(slice.end, slice.start + 1 + (bits < 0 ? 0 : Math.ceil(bits / 8)));
}

/** Zero bytes (0-2) at the end of `head`. @param {Uint8Array} head */
function trailingZeros(head) {
  let n = 0;
  while (n < 2 && n < head.length && head[head.length - 1 - n] === 0) n += 1;
  return n;
}

/**
 * Emulation prevention, as H.264 does it: a 0x03 after every two zero
 * bytes followed by a byte up to 0x03 (or by the end), so that the sealed
 * bytes never hold a start code. `zeros`: zero bytes just before them.
 * @param {Uint8Array} data @param {number} [zeros]
 */
export function escapeStartCodes(data, zeros = 0) {
  const out = new Uint8Array(data.length + Math.ceil(data.length / 2) + 1);
  let n = 0;
  for (const b of data) {
    if (zeros >= 2 && b <= 3) {
      out[n++] = 3;
      zeros = 0;
    }
    out[n++] = b;
    zeros = b === 0 ? zeros + 1 : 0;
  }
  if (zeros >= 2) out[n++] = 3;
  return out.subarray(0, n);
}

/**
 * The inverse of escapeStartCodes: every 0x03 after two zero bytes goes.
 * @param {Uint8Array} data @param {number} [zeros]
 */
export function unescapeStartCodes(data, zeros = 0) {
  const out = new Uint8Array(data.length);
  let n = 0;
  for (const b of data) {
    if (zeros >= 2 && b === 3) {
      zeros = 0;
      continue;
    }
    out[n++] = b;
    zeros = b === 0 ? zeros + 1 : 0;
  }
  return out.subarray(0, n);
}

/**
 * The associated data of an H.264 frame's clear part: its NAL units'
 * bytes without start codes (the receiver's depacketiser writes its own).
 * @param {Uint8Array} head
 */
function h264Ad(head) {
  return concat(nalUnits(head).map((u) => head.subarray(u.start, u.end)));
}

/**
 * @param {Uint8Array} data @param {number} at
 * @returns {{value: number, len: number} | null}
 */
function leb128(data, at) {
  let value = 0;
  for (let i = 0; i < 8; i++) {
    if (at + i >= data.length) return null;
    const b = data[at + i];
    value += (b & 0x7f) * 2 ** (7 * i);
    if (!(b & 0x80)) return { value, len: i + 1 };
  }
  return null;
}

/** @param {number} n */
function leb128Bytes(n) {
  const out = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return Uint8Array.from(out);
}

/** Temporal delimiter, tile list, padding: the AV1 packetiser drops these OBUs. */
const AV1_DROPPED = [2, 8, 15];

/**
 * The OBUs of an AV1 temporal unit (low-overhead format): header bytes,
 * type, and payload; null when the bytes are not OBUs.
 * @param {Uint8Array} data
 * @returns {{header: Uint8Array, type: number, payload: Uint8Array}[] | null}
 */
export function av1Obus(data) {
  const out = [];
  let i = 0;
  while (i < data.length) {
    const h = data[i];
    if (h & 0x80) return null; // forbidden bit
    const hdrLen = h & 0x04 ? 2 : 1;
    if (i + hdrLen > data.length) return null;
    let size = data.length - i - hdrLen;
    let at = i + hdrLen;
    if (h & 0x02) {
      const l = leb128(data, at);
      if (!l) return null;
      size = l.value;
      at += l.len;
    }
    if (at + size > data.length) return null;
    out.push({ header: data.subarray(i, i + hdrLen), type: (h >> 3) & 0x0f, payload: data.subarray(at, at + size) });
    i = at + size;
  }
  return out;
}

/**
 * An AV1 temporal unit from OBUs, each with its size field.
 * @param {{header: Uint8Array, payload: Uint8Array}[]} obus
 */
function av1Join(obus) {
  const parts = [];
  for (const o of obus) {
    const header = Uint8Array.from(o.header);
    header[0] |= 0x02;
    parts.push(header, leb128Bytes(o.payload.length), o.payload);
  }
  return concat(parts);
}

/**
 * The AV1 OBUs that are carried (not dropped by the packetiser) and the
 * associated data made of their headers (the size flag masked: the
 * packetiser clears it, the depacketiser sets it).
 * @param {{header: Uint8Array, type: number, payload: Uint8Array}[]} obus
 */
function av1Carried(obus) {
  const carried = obus.filter((o) => !AV1_DROPPED.includes(o.type));
  const ad = concat(carried.map((o) => {
    const h = Uint8Array.from(o.header);
    h[0] &= ~0x02;
    return h;
  }));
  return { carried, ad };
}

/**
 * Seals a frame of `codec` for sending: the codec's structure clear,
 * the rest sealed.
 *  - H.264: h264ClearBytes clear; the rest sealed, then escaped so that
 *    no start code appears in it.
 *  - AV1: every OBU header clear (with a size field); the payloads sealed
 *    as one, each keeping its length, the last one also carrying the tag,
 *    IV and key id.
 *  - others: sealFrame with clearBytes.
 * @param {string} codec  lower-case MIME type
 * @param {string | undefined} frameType
 * @param {CryptoKey} key @param {number} keyId @param {Uint8Array} iv
 * @param {Uint8Array} frame @param {Kind} kind
 * @returns {Promise<Uint8Array>}
 */
export async function sealFor(codec, frameType, key, keyId, iv, frame, kind) {
  if (codec === 'video/h264') {
    const clear = h264ClearBytes(frame);
    const head = frame.subarray(0, clear);
    const body = await sealBody(key, keyId, iv, frame.subarray(clear), h264Ad(head), kind);
    return concat([head, escapeStartCodes(body, trailingZeros(head))]);
  }
  if (codec === 'video/av1') {
    const obus = av1Obus(frame);
    const { carried, ad } = obus ? av1Carried(obus) : { carried: [], ad: new Uint8Array(0) };
    if (obus && carried.length > 0) {
      const body = await sealBody(key, keyId, iv, concat(carried.map((o) => o.payload)), ad, kind);
      let at = 0;
      const out = carried.map((o, i) => {
        const n = i === carried.length - 1 ? body.length - at : o.payload.length;
        const payload = body.subarray(at, at + n);
        at += n;
        return { header: o.header, payload };
      });
      return av1Join(out);
    }
  }
  return sealFrame(key, keyId, iv, frame, clearBytes(codec, frameType, frame.length), kind);
}

/**
 * A received frame of `codec`, read for opening: the key id it names
 * (-1 when it cannot be a sealed frame) and how to open it (null when it
 * does not authenticate).
 * @param {string} codec @param {string | undefined} frameType
 * @param {Uint8Array} data @param {Kind} kind
 * @returns {{keyId: number, open: (key: CryptoKey) => Promise<Uint8Array | null>}}
 */
export function parseSealed(codec, frameType, data, kind) {
  const none = { keyId: -1, open: async () => null };
  if (codec === 'video/h264') {
    const clear = h264ClearBytes(data);
    const head = data.subarray(0, clear);
    const body = unescapeStartCodes(data.subarray(clear), trailingZeros(head));
    if (body.length < OVERHEAD) return none;
    return {
      keyId: body[body.length - 1],
      open: async (key) => {
        const plain = await openBody(key, body, h264Ad(head), kind);
        return plain && concat([head, plain]);
      },
    };
  }
  if (codec === 'video/av1') {
    const obus = av1Obus(data);
    if (!obus) return none;
    const { carried, ad } = av1Carried(obus);
    const body = concat(carried.map((o) => o.payload));
    const last = carried[carried.length - 1];
    if (!last || body.length < OVERHEAD || last.payload.length < OVERHEAD) return none;
    return {
      keyId: body[body.length - 1],
      open: async (key) => {
        const plain = await openBody(key, body, ad, kind);
        if (!plain) return null;
        let at = 0;
        const out = carried.map((o, i) => {
          const n = i === carried.length - 1 ? o.payload.length - OVERHEAD : o.payload.length;
          const payload = plain.subarray(at, at + n);
          at += n;
          return { header: o.header, payload };
        });
        return av1Join(out);
      },
    };
  }
  const keyId = keyIdOf(data);
  if (keyId < 0) return none;
  return { keyId, open: (key) => openFrame(key, data, clearBytes(codec, frameType, plainLength(data.length)), kind) };
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
