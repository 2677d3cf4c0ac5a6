// @ts-check
// worker.js (e2ee/): the frame transform, in a module worker (same origin, as
// the CSP's worker-src 'self' requires). Every encoded audio and video
// frame this tab sends is sealed with its current media key; every frame
// received is opened with the key its sender shared for the key id the
// frame names. A frame that does not authenticate, or names a key we do
// not hold, is dropped and counted, never passed on. Frames come from
// RTCRtpScriptTransform (`rtctransform` events) or, in browsers that only
// have createEncodedStreams, from streams posted by e2ee.js. Keys and
// payload-type maps come from e2ee.js by message; so do requests for the
// counters.

import { IvSource, codecOf, parseSealed, sealFor } from './frame-crypto.js';

/** @typedef {import('./frame-crypto.js').Kind} Kind */
/** @typedef {{role: 'encrypt' | 'decrypt', kind: Kind, tab: string, id: number}} TransformOptions */
/**
 * Per remote tab and kind: frames we sealed for it, frames from it opened;
 * frames from it refused because they did not authenticate (in all, and
 * per kind), or for want of a key; frames of ours dropped because we had
 * no key yet; when a frame from it last opened (in all, and per kind).
 * @typedef {import('./keys.js').Counters} Counters
 */
const scope = /** @type {any} */ (globalThis);

/** @type {{id: number, key: CryptoKey, iv: IvSource} | null} this tab's current media key */
let sendKey = null;
/** @type {Map<string, Map<number, CryptoKey>>} by sender tab, by key id */
const recvKeys = new Map();
/** @type {Map<string, Map<number, string>>} negotiated payload types, by remote tab */
const ptMaps = new Map();
/** @type {Map<string, Counters>} */
const counters = new Map();

/** @param {string} tab @returns {Counters} */
function countersOf(tab) {
  let c = counters.get(tab);
  if (!c) {
    c = { tab, encAudio: 0, encVideo: 0, decAudio: 0, decVideo: 0, authFailed: 0, noKey: 0, dropped: 0, keyId: -1, lastOkAt: 0, codecs: [],
      failed: { audio: 0, video: 0 }, okAt: { audio: 0, video: 0 }, lastRefused: null, pipes: { encrypt: 0, decrypt: 0 }, seen: { audio: 0, video: 0 } };
    counters.set(tab, c);
  }
  return c;
}

/** @param {Counters} c @param {string} codec */
function noteCodec(c, codec) {
  if (!c.codecs.includes(codec)) c.codecs.push(codec);
}

/**
 * @param {RTCEncodedVideoFrame | RTCEncodedAudioFrame} frame
 * @param {Kind} kind
 * @param {string} tab
 */
function codecOfFrame(frame, kind, tab) {
  return codecOf(/** @type {{mimeType?: string, payloadType?: number}} */ (frame.getMetadata()), kind, ptMaps.get(tab));
}

/** @param {RTCEncodedVideoFrame | RTCEncodedAudioFrame} frame */
function typeOf(frame) {
  return 'type' in frame ? frame.type : undefined;
}

/**
 * @param {RTCEncodedVideoFrame | RTCEncodedAudioFrame} frame
 * @param {TransformStreamDefaultController<RTCEncodedVideoFrame | RTCEncodedAudioFrame>} out
 * @param {TransformOptions} opt
 */
async function encrypt(frame, out, opt) {
  const c = countersOf(opt.tab);
  const data = new Uint8Array(frame.data);
  if (data.length === 0) {
    out.enqueue(frame); // an empty frame carries nothing to hide
    return;
  }
  const k = sendKey;
  if (!k) {
    c.dropped += 1; // never sent clear
    return;
  }
  const codec = codecOfFrame(frame, opt.kind, opt.tab);
  noteCodec(c, codec);
  const sealed = await sealFor(codec, typeOf(frame), k.key, k.id, k.iv.next(), data, opt.kind);
  frame.data = /** @type {ArrayBuffer} */ (sealed.buffer);
  if (opt.kind === 'audio') c.encAudio += 1; else c.encVideo += 1;
  out.enqueue(frame);
}

/**
 * A frame that did not authenticate: counted, and the last one described
 * (never its content beyond the bytes any relay sees clear) for whoever
 * has to find out why.
 * @param {Counters} c @param {Kind} kind @param {string} codec
 * @param {RTCEncodedVideoFrame | RTCEncodedAudioFrame} frame @param {Uint8Array} data @param {number} keyId
 */
function refused(c, kind, codec, frame, data, keyId) {
  c.authFailed += 1;
  c.failed[kind] += 1;
  const meta = /** @type {{payloadType?: number, mimeType?: string}} */ (frame.getMetadata());
  c.lastRefused = {
    kind, codec, type: typeOf(frame) ?? '', length: data.length, keyId, pt: meta.payloadType ?? -1,
    mime: meta.mimeType ?? '', head: [...data.subarray(0, 4)].map((b) => b.toString(16).padStart(2, '0')).join(''),
    keys: [...(recvKeys.get(c.tab)?.keys() ?? [])], okBefore: kind === 'audio' ? c.decAudio : c.decVideo, at: Date.now(),
  };
}

/**
 * @param {RTCEncodedVideoFrame | RTCEncodedAudioFrame} frame
 * @param {TransformStreamDefaultController<RTCEncodedVideoFrame | RTCEncodedAudioFrame>} out
 * @param {TransformOptions} opt
 */
async function decrypt(frame, out, opt) {
  const c = countersOf(opt.tab);
  c.seen[opt.kind] += 1; // reached us (call/open-check.js watches this)
  const data = new Uint8Array(frame.data);
  if (data.length === 0) {
    out.enqueue(frame);
    return;
  }
  const codec = codecOfFrame(frame, opt.kind, opt.tab);
  const sealed = parseSealed(codec, typeOf(frame), data, opt.kind);
  const key = sealed.keyId < 0 ? undefined : recvKeys.get(opt.tab)?.get(sealed.keyId);
  if (!key) {
    if (sealed.keyId < 0) refused(c, opt.kind, codec, frame, data, sealed.keyId);
    else c.noKey += 1;
    return;
  }
  noteCodec(c, codec);
  const plain = await sealed.open(key);
  if (!plain) {
    refused(c, opt.kind, codec, frame, data, sealed.keyId);
    return;
  }
  frame.data = /** @type {ArrayBuffer} */ (plain.buffer);
  if (opt.kind === 'audio') c.decAudio += 1; else c.decVideo += 1;
  c.keyId = sealed.keyId;
  c.lastOkAt = Date.now();
  c.okAt[opt.kind] = c.lastOkAt;
  out.enqueue(frame);
}

/**
 * @param {ReadableStream} readable
 * @param {WritableStream} writable
 * @param {TransformOptions} opt
 */
function pipe(readable, writable, opt) {
  const fn = opt.role === 'encrypt' ? encrypt : decrypt;
  countersOf(opt.tab).pipes[opt.role] += 1;
  readable
    .pipeThrough(new TransformStream({ transform: (frame, out) => fn(frame, out, opt) }))
    .pipeTo(writable)
    .catch((/** @type {unknown} */ e) => console.warn('xroom: frame transform ended', e));
  // Frames now pass through us: the page may give the sender its track.
  scope.postMessage({ op: 'attached', id: opt.id });
}

scope.onrtctransform = (/** @type {{transformer: {readable: ReadableStream, writable: WritableStream, options: TransformOptions}}} */ ev) => {
  const t = ev.transformer;
  pipe(t.readable, t.writable, t.options);
};

/**
 * @typedef {{op: 'send-key', id: number, key: CryptoKey}
 *   | {op: 'recv-key', tab: string, id: number, key: CryptoKey}
 *   | {op: 'drop-key', tab: string, id: number}
 *   | {op: 'forget', tab: string}
 *   | {op: 'codecs', tab: string, map: [number, string][]}
 *   | {op: 'stats', seq: number}
 *   | {op: 'streams', options: TransformOptions, readable: ReadableStream, writable: WritableStream}} Command
 */

scope.onmessage = (/** @type {MessageEvent<Command>} */ ev) => {
  const m = ev.data;
  switch (m.op) {
    case 'send-key':
      sendKey = { id: m.id, key: m.key, iv: new IvSource() };
      break;
    case 'recv-key': {
      let keys = recvKeys.get(m.tab);
      if (!keys) recvKeys.set(m.tab, (keys = new Map()));
      keys.set(m.id, m.key);
      break;
    }
    case 'drop-key':
      recvKeys.get(m.tab)?.delete(m.id);
      break;
    case 'forget':
      recvKeys.delete(m.tab);
      ptMaps.delete(m.tab);
      break;
    case 'codecs':
      ptMaps.set(m.tab, new Map(m.map));
      break;
    case 'stats':
      scope.postMessage({ op: 'stats', seq: m.seq, counters: Object.fromEntries(counters), sendKeyId: sendKey?.id ?? -1,
        recvKeyIds: Object.fromEntries([...recvKeys].map(([tab, keys]) => [tab, [...keys.keys()]])) });
      break;
    case 'streams':
      pipe(m.readable, m.writable, m.options);
      break;
    default:
      break;
  }
};
