// @ts-check
// e2ee.js: end-to-end encryption of the call, the main thread's half.
// Holds the room keys (crypto.js) and the signal codec (wire.js), runs the
// frame transform worker (e2ee-worker.js) and puts it on every sender and
// receiver, makes this tab's media keys, shares each with every peer
// (sealed in signals), makes a new one when a peer leaves, and tells the
// view where each peer stands: the lock state and the safety code. The
// mesh calls it through the Guard interface below; a test build can swap
// this module for one without encryption (tests/bench/plain). No DOM.

import { DataSealer, deriveRoomKeys, fingerprintOf, newMediaKey, aesKey, safetyCode } from './crypto.js';
import { Emitter } from './emitter.js';
import { SUPPORTED_CODECS, payloadTypes } from './frame-crypto.js';
import { base64url, fromBase64url } from './ids.js';
import { SignalCodec } from './wire.js';

/** @typedef {import('./wire.js').Body} Body */
/** @typedef {import('./wire.js').Message} Message */
/** @typedef {'pending' | 'secure' | 'alert'} Lock */

/** A new key is used once every remaining peer has it, or after this anyway. */
export const REKEY_SWITCH_MS = 2000;
/** A peer's previous key is kept this long after it sends a new one (frames in flight). */
export const PREVIOUS_KEY_MS = 10_000;
/** Our key is sent again to a peer that has not acknowledged it after this. */
export const KEY_RESEND_MS = 2000;
const STATUS_MS = 1000;
/** Codecs that wrap or repair others' packets and may be negotiated alongside. */
const HELPERS = ['video/rtx', 'video/red', 'video/ulpfec'];

/**
 * What the mesh needs from the end-to-end layer.
 * @typedef {{
 *   rtcConfig: () => RTCConfiguration,
 *   setSender: (send: (tab: string, body: Body, peerId?: string) => boolean) => void,
 *   protectReceiver: (tab: string, transceiver: RTCRtpTransceiver, kind: 'audio' | 'video') => void,
 *   protectSender: (tab: string, sender: RTCRtpSender, kind: 'audio' | 'video') => boolean,
 *   peerAdded: (tab: string) => void,
 *   peerReachable: (tab: string) => void,
 *   peerRemoved: (tab: string, reason: string) => void,
 *   onKeyMessage: (peerId: string, msg: Message) => void,
 *   negotiated: (tab: string, localSdp: string, remoteSdp: string) => void,
 *   status: (tab: string) => PeerSecurity,
 *   sealedCount: (tab: string, kind: 'audio' | 'video') => number,
 *   sendingUnsealed: (tab: string, kinds: ('audio' | 'video')[]) => void,
 * }} Guard
 */

/**
 * @typedef {{lock: Lock, safety: string}} PeerSecurity
 * @typedef {{encAudio: number, encVideo: number, decAudio: number, decVideo: number, authFailed: number,
 *   noKey: number, dropped: number, keyId: number, lastOkAt: number, codecs: string[],
 *   failed: {audio: number, video: number}, okAt: {audio: number, video: number}}} Counters
 * @typedef {{acked: number, sentId: number, sentAt: number, recvId: number, safety: string,
 *   fingerprints: string, lock: Lock, failedBefore: {audio: number, video: number}, present: boolean, unsealed: string[],
 *   retire: Set<ReturnType<typeof setTimeout>>}} PeerKeys
 * @typedef {{status: {tab: string}, rekeyed: {id: number, reason: string}}} E2eeEvents
 */

/** True when this browser can encrypt frames end to end (and so may join). */
export function e2eeSupported() {
  return typeof Worker === 'function' && typeof RTCRtpSender === 'function' &&
    (typeof RTCRtpScriptTransform === 'function' || 'createEncodedStreams' in RTCRtpSender.prototype);
}

/** @extends {Emitter<E2eeEvents>} */
export class E2ee extends Emitter {
  /**
   * Derives the room's keys, starts the worker and makes this tab's first
   * media key and DTLS certificate. Throws when the worker cannot run.
   * @param {string} secret  the link's fragment
   * @param {string} tab  this tab's id
   * @returns {Promise<E2ee>}
   */
  static async create(secret, tab) {
    const keys = await deriveRoomKeys(secret);
    const worker = new Worker(new URL('./e2ee-worker.js', import.meta.url), { type: 'module', name: 'xroom-e2ee' });
    // One certificate for every connection of this page: our DTLS
    // fingerprint, and so each safety code, stays the same across ICE
    // restarts and rebuilds.
    const certificate = await RTCPeerConnection.generateCertificate(
      /** @type {AlgorithmIdentifier} */ (/** @type {unknown} */ ({ name: 'ECDSA', namedCurve: 'P-256' })));
    const e = new E2ee(keys, tab, worker, certificate);
    await e.ready();
    await e.switchTo(await e.makeKey(0), 'start');
    return e;
  }

  /**
   * @param {import('./crypto.js').RoomKeys} keys
   * @param {string} tab
   * @param {Worker} worker
   * @param {RTCCertificate} certificate
   */
  constructor(keys, tab, worker, certificate) {
    super();
    this.keys = keys;
    this.tab = tab;
    this.worker = worker;
    this.certificate = certificate;
    /** Seals and opens every signal payload (signaling.js calls it). */
    this.signals = new SignalCodec(keys.signal, tab);
    /** Seals and opens data-channel messages. */
    this.data = new DataSealer(keys.data, tab);
    /** RTCRtpScriptTransform where the browser has it; createEncodedStreams only where it does not. */
    this.mode = typeof RTCRtpScriptTransform === 'function' ? 'script' : 'streams';
    /** @type {{id: number, raw: Uint8Array, key: CryptoKey}} */
    this.current = /** @type {never} */ (null);
    /** @type {{id: number, raw: Uint8Array, key: CryptoKey, reason: string} | null} a key being handed out */
    this.next = null;
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    this.switchTimer = undefined;
    /** rekeys run one after the other */
    /** @type {Promise<void>} */
    this.rekeying = Promise.resolve();
    /** @type {{id: number, at: number, reason: string}[]} */
    this.history = [];
    /** @type {Map<string, PeerKeys>} by remote tab */
    this.peers = new Map();
    /** @type {WeakSet<RTCRtpSender | RTCRtpReceiver>} */
    this.protected = new WeakSet();
    /** @type {(tab: string, body: Body, peerId?: string) => boolean} */
    this.send = () => false;
    /** @type {Record<string, Counters>} */
    this.counters = {};
    this.seq = 0;
    /** @type {Map<number, (v: any) => void>} */
    this.waiting = new Map();
    this.worker.addEventListener('message', (ev) => {
      const m = ev.data;
      const done = this.waiting.get(m?.seq);
      if (done) {
        this.waiting.delete(m.seq);
        done(m);
      }
    });
    this.timer = setInterval(() => { this.tick(); }, STATUS_MS);
  }

  /** Resolves once the worker answers; rejects if it fails to load. */
  ready() {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('the encryption worker did not start')), 10_000);
      this.worker.addEventListener('error', (e) => { clearTimeout(t); reject(new Error(`the encryption worker failed: ${e.message}`)); }, { once: true });
      this.ask().then((v) => { clearTimeout(t); resolve(v); }, reject);
    });
  }

  /** The worker's counters and key ids. @returns {Promise<{counters: Record<string, Counters>, sendKeyId: number, recvKeyIds: Record<string, number[]>}>} */
  ask() {
    const seq = ++this.seq;
    return new Promise((resolve) => {
      this.waiting.set(seq, resolve);
      this.worker.postMessage({ op: 'stats', seq });
    });
  }

  /** @param {number} id */
  async makeKey(id) {
    const { raw, key } = await newMediaKey();
    return { id, raw, key };
  }

  /**
   * From now on, frames are sealed with `k`.
   * @param {{id: number, raw: Uint8Array, key: CryptoKey}} k
   * @param {string} reason
   */
  switchTo(k, reason) {
    this.current = k;
    this.worker.postMessage({ op: 'send-key', id: k.id, key: k.key });
    this.history.push({ id: k.id, at: Date.now(), reason });
    if (this.history.length > 32) this.history.shift();
    if (reason !== 'start') this.emit('rekeyed', { id: k.id, reason });
    for (const tab of this.peers.keys()) this.updateLock(tab);
  }

  // --- Guard ------------------------------------------------------------

  /** @returns {RTCConfiguration} */
  rtcConfig() {
    /** @type {RTCConfiguration & {encodedInsertableStreams?: boolean}} */
    const c = { certificates: [this.certificate] };
    if (this.mode === 'streams') c.encodedInsertableStreams = true;
    return c;
  }

  /** @param {(tab: string, body: Body, peerId?: string) => boolean} send */
  setSender(send) {
    this.send = send;
  }

  /**
   * Frames from `tab` on this transceiver are opened by the worker; the
   * codecs it may carry are the ones whose clear bytes we know.
   * @param {string} tab
   * @param {RTCRtpTransceiver} transceiver
   * @param {'audio' | 'video'} kind
   */
  protectReceiver(tab, transceiver, kind) {
    preferCodecs(transceiver, kind);
    try {
      this.attach(transceiver.receiver, { role: 'decrypt', kind, tab });
    } catch (e) {
      // Sealed frames then reach the decoder as noise: nothing is shown.
      console.warn('xroom: cannot decrypt this receiver', e);
    }
  }

  /**
   * Frames sent on `sender` are sealed. False if that could not be set up:
   * the caller must then not send on it.
   * @param {string} tab
   * @param {RTCRtpSender} sender
   * @param {'audio' | 'video'} kind
   */
  protectSender(tab, sender, kind) {
    try {
      this.attach(sender, { role: 'encrypt', kind, tab });
      return true;
    } catch (e) {
      console.warn('xroom: cannot encrypt this sender; it stays silent', e);
      return false;
    }
  }

  /**
   * @param {RTCRtpSender | RTCRtpReceiver} end
   * @param {{role: 'encrypt' | 'decrypt', kind: 'audio' | 'video', tab: string}} options
   */
  attach(end, options) {
    if (this.protected.has(end)) return;
    if (this.mode === 'script') {
      end.transform = new RTCRtpScriptTransform(this.worker, options);
    } else {
      const { readable, writable } = /** @type {any} */ (end).createEncodedStreams();
      this.worker.postMessage({ op: 'streams', options, readable, writable }, [readable, writable]);
    }
    this.protected.add(end);
  }

  /** @param {string} tab @returns {PeerKeys} */
  peer(tab) {
    let p = this.peers.get(tab);
    if (!p) {
      p = { acked: -1, sentId: -1, sentAt: 0, recvId: -1, safety: '', fingerprints: '', lock: 'pending',
        failedBefore: { audio: 0, video: 0 }, present: false, unsealed: [], retire: new Set() };
      this.peers.set(tab, p);
    }
    return p;
  }

  /** A connection to `tab` exists: it gets our key. @param {string} tab */
  peerAdded(tab) {
    this.peer(tab).present = true;
    this.shareKey(tab);
  }

  /** `tab` can be reached again (a rejoin): what it has not acknowledged goes again. @param {string} tab */
  peerReachable(tab) {
    const p = this.peers.get(tab);
    if (p && p.acked !== (this.next ?? this.current).id) this.shareKey(tab);
  }

  /**
   * `tab` is gone: its keys are forgotten, and ours is replaced so that it
   * cannot read what we send from now on. Not when we are the one leaving.
   * @param {string} tab
   * @param {string} reason
   */
  peerRemoved(tab, reason) {
    const p = this.peers.get(tab);
    for (const t of p?.retire ?? []) clearTimeout(t);
    this.peers.delete(tab);
    this.worker.postMessage({ op: 'forget', tab });
    if (reason !== 'closed') this.rekey(`${reason}:${tab}`);
  }

  /**
   * Sends our newest key to `tab`, saying whether we still lack its own
   * (a tab that forgot us, and came back, sends its key again).
   * @param {string} tab
   */
  shareKey(tab) {
    const p = this.peer(tab);
    const k = this.next ?? this.current;
    if (this.send(tab, { kind: 'key', id: k.id, key: base64url(k.raw), want: p.recvId < 0 })) {
      p.sentId = k.id;
      p.sentAt = performance.now();
    }
  }

  /**
   * A new media key for this tab, handed to every peer still here; frames
   * use it once all have acknowledged it (or after REKEY_SWITCH_MS).
   * @param {string} reason
   */
  rekey(reason) {
    this.rekeying = this.rekeying.then(() => this.startRekey(reason)).catch((e) => console.warn('xroom: rekey failed', e));
    return this.rekeying;
  }

  /** @param {string} reason */
  async startRekey(reason) {
    const id = ((this.next ?? this.current).id + 1) & 0xff;
    const k = { ...(await this.makeKey(id)), reason };
    this.next = k;
    clearTimeout(this.switchTimer);
    const present = [...this.peers].filter(([, p]) => p.present);
    for (const [tab] of present) this.shareKey(tab);
    if (present.length === 0) {
      this.finishRekey();
      return;
    }
    this.switchTimer = setTimeout(() => this.finishRekey(), REKEY_SWITCH_MS);
  }

  finishRekey() {
    const k = this.next;
    if (!k) return;
    clearTimeout(this.switchTimer);
    this.next = null;
    this.switchTo(k, k.reason);
  }

  /**
   * A `key` or `key-ack` from another tab (already opened and checked by
   * the signal codec, so it comes from someone holding the room key).
   * @param {string} peerId  to answer through
   * @param {Message} msg
   */
  onKeyMessage(peerId, msg) {
    if (msg.kind === 'key') {
      const p = this.peer(msg.tab);
      const old = p.recvId;
      p.recvId = msg.id;
      this.installKey(msg.tab, msg.id, fromBase64url(msg.key), peerId).catch((e) => console.warn('xroom: key refused', e));
      if (old >= 0 && old !== msg.id) this.retireLater(p, msg.tab, old);
      // It lacks ours (it forgot us and came back): send it again, unless
      // we just did.
      if (msg.want && p.present && performance.now() - p.sentAt > 500) this.shareKey(msg.tab);
      this.updateLock(msg.tab);
    } else if (msg.kind === 'key-ack') {
      const p = this.peers.get(msg.tab);
      if (!p) return;
      p.acked = msg.id;
      if (this.next && msg.id === this.next.id &&
          [...this.peers.values()].every((q) => !q.present || q.acked === this.next?.id)) {
        this.finishRekey();
      }
      this.updateLock(msg.tab);
    }
  }

  /**
   * Hands a peer's key to the worker, then acknowledges it.
   * @param {string} tab
   * @param {number} id
   * @param {Uint8Array} raw
   * @param {string} peerId
   */
  async installKey(tab, id, raw, peerId) {
    const key = await aesKey(raw);
    this.worker.postMessage({ op: 'recv-key', tab, id, key });
    this.send(tab, { kind: 'key-ack', id }, peerId);
  }

  /**
   * Drops a peer's previous key once frames sealed with it can no longer
   * be on their way.
   * @param {PeerKeys} p
   * @param {string} tab
   * @param {number} old
   */
  retireLater(p, tab, old) {
    const t = setTimeout(() => {
      p.retire.delete(t);
      if (this.peers.get(tab)?.recvId !== old) this.worker.postMessage({ op: 'drop-key', tab, id: old });
    }, PREVIOUS_KEY_MS);
    p.retire.add(t);
  }

  /**
   * A negotiation with `tab` completed: the payload types for the worker,
   * and the safety code from both DTLS fingerprints.
   * @param {string} tab
   * @param {string} localSdp
   * @param {string} remoteSdp
   */
  negotiated(tab, localSdp, remoteSdp) {
    const map = new Map([...payloadTypes(remoteSdp), ...payloadTypes(localSdp)]);
    this.worker.postMessage({ op: 'codecs', tab, map: [...map] });
    const a = fingerprintOf(localSdp);
    const b = fingerprintOf(remoteSdp);
    const p = this.peer(tab);
    if (!a || !b || p.fingerprints === `${a}|${b}`) return;
    p.fingerprints = `${a}|${b}`;
    safetyCode(this.keys.safety, a, b).then((code) => {
      const q = this.peers.get(tab);
      if (!q || q.fingerprints !== `${a}|${b}`) return;
      q.safety = code;
      this.emit('status', { tab });
    }, (e) => console.warn('xroom: no safety code', e));
  }

  /**
   * Frames of `kind` sealed so far for `tab`, as of the last count (at
   * most a second old).
   * @param {string} tab
   * @param {'audio' | 'video'} kind
   */
  sealedCount(tab, kind) {
    const c = this.counters[tab];
    return c ? (kind === 'audio' ? c.encAudio : c.encVideo) : 0;
  }

  /**
   * The mesh found our frames of these kinds to `tab` bypassing the
   * transform (and silenced them); [] once they pass through it again.
   * @param {string} tab
   * @param {('audio' | 'video')[]} kinds
   */
  sendingUnsealed(tab, kinds) {
    const p = this.peers.get(tab);
    if (!p) return;
    p.unsealed = [...kinds];
    this.updateLock(tab);
  }

  /** @param {string} tab @returns {PeerSecurity} */
  status(tab) {
    const p = this.peers.get(tab);
    return { lock: p?.lock ?? 'pending', safety: p?.safety ?? '' };
  }

  /**
   * Secure: the peer acknowledged our current key, and we hold the key
   * its frames use, and they authenticate. Alert: its audio or its video
   * frames fail to authenticate and none of that kind has passed for 2 s
   * (or ever), or ours to it could not be sealed. Pending otherwise.
   * @param {string} tab
   */
  updateLock(tab) {
    const p = this.peers.get(tab);
    if (!p) return;
    const c = this.counters[tab];
    // Per kind: frames refused lately and none of that kind opened for
    // 2 s, or frames refused and never one of that kind opened (a lull in
    // the refusals does not make that secure; audio opening does not make
    // refused video secure).
    const now = Date.now();
    const refused = !!c && (/** @type {const} */ (['audio', 'video'])).some((k) =>
      (c.failed[k] > p.failedBefore[k] && now - c.okAt[k] > 2000) || (c.failed[k] > 0 && c.okAt[k] === 0));
    const failing = refused || p.unsealed.length > 0;
    const keysCurrent = p.acked === this.current.id && p.recvId >= 0 && (!c || c.keyId < 0 || c.keyId === p.recvId);
    /** @type {Lock} */
    const lock = failing ? 'alert' : keysCurrent ? 'secure' : 'pending';
    if (c) p.failedBefore = { ...c.failed };
    if (lock !== p.lock) {
      p.lock = lock;
      this.emit('status', { tab });
    }
  }

  /** Every second: the worker's counters, the locks, keys not yet acknowledged. */
  async tick() {
    const s = await this.ask();
    this.counters = s.counters;
    const now = performance.now();
    const want = (this.next ?? this.current).id;
    for (const [tab, p] of this.peers) {
      if (p.present && p.acked !== want && now - p.sentAt > KEY_RESEND_MS) this.shareKey(tab);
      this.updateLock(tab);
    }
  }

  /** For the test hook: keys, counters, locks. */
  async snapshot() {
    const s = await this.ask();
    this.counters = s.counters;
    return {
      mode: this.mode,
      sendKeyId: this.current.id,
      workerSendKeyId: s.sendKeyId,
      pendingKeyId: this.next?.id ?? null,
      history: [...this.history],
      signalsRejected: this.signals.rejected,
      signalsOpened: this.signals.opened,
      peers: Object.fromEntries([...this.peers].map(([tab, p]) => [tab, {
        acked: p.acked, recvId: p.recvId, lock: p.lock, unsealed: p.unsealed, safety: p.safety, present: p.present, fingerprints: p.fingerprints,
        heldKeyIds: s.recvKeyIds[tab] ?? [], counters: s.counters[tab] ?? null,
      }])),
      counters: s.counters,
    };
  }

  close() {
    clearInterval(this.timer);
    clearTimeout(this.switchTimer);
    for (const p of this.peers.values()) for (const t of p.retire) clearTimeout(t);
    this.worker.terminate();
  }
}

/**
 * Limits what `transceiver` may receive to the codecs frame-crypto.js has
 * rules for (VP8 first, VP9, H.264, AV1; Opus) and their helpers, when the
 * browser has them.
 * @param {RTCRtpTransceiver} transceiver
 * @param {'audio' | 'video'} kind
 */
function preferCodecs(transceiver, kind) {
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
