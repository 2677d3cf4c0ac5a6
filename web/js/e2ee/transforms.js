// @ts-check
// transforms.js: puts the frame worker (worker.js) between each of our
// senders and receivers and the network: RTCRtpScriptTransform where the
// browser has it, createEncodedStreams where it does not; knows when each
// transform runs in the worker (a sender gets its track only then), and
// limits what a receiver may take to the codecs frame-crypto.js has
// rules for. No DOM.

import { SUPPORTED_CODECS } from './frame-crypto.js';

/** How long a sender waits for its transform to run in the worker before it gets its track anyway (the seal check still watches). */
export const TRANSFORM_WAIT_MS = 1500;
/** Codecs that wrap or repair others' packets and may be negotiated alongside. */
const HELPERS = ['video/rtx', 'video/red', 'video/ulpfec'];

/** @typedef {{role: 'encrypt' | 'decrypt', kind: 'audio' | 'video', tab: string}} Options */

export class Transforms {
  /** @param {Worker} worker */
  constructor(worker) {
    this.worker = worker;
    /** RTCRtpScriptTransform where the browser has it; createEncodedStreams only where it does not. */
    this.mode = typeof RTCRtpScriptTransform === 'function' ? 'script' : 'streams';
    /** @type {WeakSet<RTCRtpSender | RTCRtpReceiver>} */
    this.protected = new WeakSet();
    /** transforms set and not yet running in the worker, by their id */
    /** @type {Map<number, () => void>} */
    this.attaching = new Map();
    /** @type {WeakMap<RTCRtpSender | RTCRtpReceiver, Promise<void>>} */
    this.running = new WeakMap();
    this.seq = 0;
    /** transforms that did not report running within TRANSFORM_WAIT_MS (the test hook shows it) */
    this.late = 0;
    worker.addEventListener('message', (ev) => {
      if (ev.data?.op !== 'attached') return;
      this.attaching.get(ev.data.id)?.();
      this.attaching.delete(ev.data.id);
    });
  }

  /**
   * Frames of `end` pass through the worker from now on (once per end).
   * @param {RTCRtpSender | RTCRtpReceiver} end
   * @param {Options} options
   */
  attach(end, options) {
    if (this.protected.has(end)) return;
    const id = ++this.seq;
    const withId = { ...options, id };
    if (this.mode === 'script') {
      end.transform = new RTCRtpScriptTransform(this.worker, withId);
      this.running.set(end, new Promise((resolve) => {
        this.attaching.set(id, resolve);
        setTimeout(() => {
          if (this.attaching.delete(id)) this.late += 1;
          resolve();
        }, TRANSFORM_WAIT_MS);
      }));
    } else {
      // The streams are the worker's from this message on: frames wait in them.
      const { readable, writable } = /** @type {any} */ (end).createEncodedStreams();
      this.worker.postMessage({ op: 'streams', options: withId, readable, writable }, [readable, writable]);
    }
    this.protected.add(end);
  }

  /**
   * Resolves once the transform of `end` runs in the worker (or after
   * TRANSFORM_WAIT_MS): a sender gets its track only then, so that no
   * frame is encoded before the worker can seal it.
   * @param {RTCRtpSender | RTCRtpReceiver} end
   */
  whenRunning(end) {
    return this.running.get(end) ?? Promise.resolve();
  }
}

/**
 * Limits what `transceiver` may receive to the codecs frame-crypto.js has
 * rules for (VP8 first, VP9, H.264, AV1; Opus) and their helpers, when the
 * browser has them.
 * @param {RTCRtpTransceiver} transceiver
 * @param {'audio' | 'video'} kind
 */
export function preferCodecs(transceiver, kind) {
  const caps = globalThis.RTCRtpReceiver?.getCapabilities?.(kind)?.codecs ?? [];
  const rank = (/** @type {RTCRtpCodec} */ c) => SUPPORTED_CODECS.indexOf(c.mimeType.toLowerCase());
  // In the order of SUPPORTED_CODECS (VP8 first); sort() keeps each codec's profiles in order.
  const main = caps.filter((c) => rank(c) >= 0).sort((a, b) => rank(a) - rank(b));
  if (main.length === 0 || !transceiver.setCodecPreferences) return;
  const helpers = caps.filter((c) => HELPERS.includes(c.mimeType.toLowerCase()));
  try {
    transceiver.setCodecPreferences([...main, ...helpers]);
  } catch (e) {
    console.warn('xroom: codec preferences not set', e);
  }
}
