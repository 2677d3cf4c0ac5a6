// @ts-check
// tests/bench/plain/e2ee.js: the client WITHOUT end-to-end encryption, for
// measuring what encryption costs and nothing else. It stands in for
// web/js/e2ee/e2ee.js only in the throw-away web root that
// tests/bench/e2ee-cost.mjs builds; it is never served from web/, so no
// link can ever load it. Same interface (the mesh's Guard), same codec
// preferences and certificate; no frame transform, signals in clear JSON.

import { deriveRoomKeys } from './crypto.js';
import { Emitter } from '../util/emitter.js';
import { SUPPORTED_CODECS } from './frame-crypto.js';
import { readMessage } from '../transport/wire.js';

/** @typedef {import('../transport/wire.js').Body} Body */
/** @typedef {import('../transport/wire.js').Message} Message */
/** @typedef {'pending' | 'secure' | 'alert'} Lock */
/** @typedef {{status: {tab: string}, rekeyed: {id: number, reason: string}}} E2eeEvents */

export function e2eeSupported() {
  return true;
}

/** @extends {Emitter<E2eeEvents>} */
export class E2ee extends Emitter {
  /** @param {string} secret @param {string} roomId @param {{tab: string}} identity */
  static async create(secret, roomId, identity) {
    const keys = await deriveRoomKeys(secret, roomId);
    const certificate = await RTCPeerConnection.generateCertificate(
      /** @type {AlgorithmIdentifier} */ (/** @type {unknown} */ ({ name: 'ECDSA', namedCurve: 'P-256' })));
    return new E2ee(keys, identity.tab, certificate);
  }

  /**
   * @param {import('./crypto.js').RoomKeys} keys
   * @param {string} tab
   * @param {RTCCertificate} certificate
   */
  constructor(keys, tab, certificate) {
    super();
    this.keys = keys;
    this.tab = tab;
    this.certificate = certificate;
    this.mode = 'plain';
    this.signals = {
      rejected: 0,
      opened: 0,
      /** @param {string} _from @param {string} _to @param {Message} msg */
      seal: async (_from, _to, msg) => ({ v: 0, plain: msg }),
      /** @param {string} _from @param {string} _to @param {any} data */
      open: async (_from, _to, data) => readMessage(data?.plain),
    };
    // Data-channel messages in clear JSON (cards go out as channels open).
    this.data = {
      /** @param {string} _t @param {string} _c @param {unknown} value */
      sealJSON: async (_t, _c, value) => new TextEncoder().encode(JSON.stringify(value)),
      /** @param {string} _t @param {string} _c @param {Uint8Array} bytes */
      openJSON: async (_t, _c, bytes) => { try { return JSON.parse(new TextDecoder().decode(bytes)); } catch { return undefined; } },
    };
  }

  /** @returns {RTCConfiguration} */
  rtcConfig() { return { certificates: [this.certificate] }; }
  setSender() {}
  /** @param {string} _tab @param {RTCRtpTransceiver} t @param {'audio' | 'video'} kind */
  protectReceiver(_tab, t, kind) {
    const caps = RTCRtpReceiver.getCapabilities(kind)?.codecs ?? [];
    const keep = caps.filter((c) => [...SUPPORTED_CODECS, 'video/rtx', 'video/red', 'video/ulpfec'].includes(c.mimeType.toLowerCase()));
    if (keep.length) t.setCodecPreferences(keep);
  }
  protectSender() { return true; }
  peerAdded() {}
  peerReachable() {}
  peerRemoved() {}
  onKeyMessage() {}
  negotiated() {}
  /** @returns {{lock: Lock, safety: string}} */
  status() { return { lock: 'pending', safety: '' }; }
  /** Always growing, so the mesh's bypass check never fires. */
  sealedCount() { return performance.now(); }
  async freshSealedCount() { return performance.now(); }
  certificates() {}
  sendingUnsealed() {}
  async snapshot() { return { mode: this.mode }; }
  close() {}
}
