// @ts-check
// e2ee.js: end-to-end encryption of the call, the main thread's half.
// Holds the room keys (crypto.js), this tab's identity and pair keys
// (identity.js) and the signal codec (signal-codec.js), runs the frame
// transform worker (worker.js) and puts it on every sender and receiver,
// makes this tab's media keys, shares each with every peer (sealed under
// the pair key of the two tabs, inside a signal), makes a new one when a
// peer leaves, and tells the view where each peer stands: the lock state
// and the safety code. The mesh calls it through the Guard interface
// below; a test build can swap this module for one without encryption
// (tests/bench/plain). No DOM.

import { DataSealer, aesKey, deriveRoomKeys, fingerprintOf, newMediaKey, safetyCode } from './crypto.js';
import { openMediaKey, sealMediaKey } from './identity.js';
import { Emitter } from '../util/emitter.js';
import { payloadTypes } from './frame-crypto.js';
import { PREVIOUS_KEY_MS, allAcked, answerWant, lockOf, newPeerKeys, nextKeyId, resendDue } from './keys.js';
import { SignalCodec } from './signal-codec.js';
import { Transforms, preferCodecs } from './transforms.js';

/** @typedef {import('../transport/wire.js').Body} Body */
/** @typedef {import('../transport/wire.js').Message} Message */
/** @typedef {import('./keys.js').Lock} Lock */
/** @typedef {import('./keys.js').Counters} Counters */
/** @typedef {import('./keys.js').PeerKeys} PeerKeys */

/** A new key is used once every remaining peer has it, or after this anyway. */
export const REKEY_SWITCH_MS = 2000;
const STATUS_MS = 1000;

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
 *   certificates: (tab: string, local: string, remote: string) => void,
 *   status: (tab: string) => PeerSecurity,
 *   sealedCount: (tab: string, kind: 'audio' | 'video') => number,
 *   freshSealedCount: (tab: string, kind: 'audio' | 'video') => Promise<number>,
 *   openedCount: (tab: string, kind: 'audio' | 'video') => number,
 *   freshOpenedCount: (tab: string, kind: 'audio' | 'video') => Promise<number>,
 *   sendingUnsealed: (tab: string, kinds: ('audio' | 'video')[]) => void,
 *   transformRunning: (end: RTCRtpSender | RTCRtpReceiver) => Promise<void>,
 * }} Guard
 */

/**
 * @typedef {{lock: Lock, safety: string}} PeerSecurity
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
   * @param {string} roomId
   * @param {import('./identity.js').TabIdentity} identity  this tab's keys
   * @returns {Promise<E2ee>}
   */
  static async create(secret, roomId, identity) {
    const keys = await deriveRoomKeys(secret, roomId);
    const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module', name: 'xroom-e2ee' });
    // One certificate for every connection of this page: our DTLS
    // fingerprint, and so each safety code, stays the same across ICE
    // restarts and rebuilds.
    const certificate = await RTCPeerConnection.generateCertificate(
      /** @type {AlgorithmIdentifier} */ (/** @type {unknown} */ ({ name: 'ECDSA', namedCurve: 'P-256' })));
    const e = new E2ee(keys, roomId, identity, worker, certificate);
    await e.ready();
    await e.switchTo(await e.makeKey(0), 'start');
    return e;
  }

  /**
   * @param {import('./crypto.js').RoomKeys} keys
   * @param {string} roomId
   * @param {import('./identity.js').TabIdentity} identity
   * @param {Worker} worker
   * @param {RTCCertificate} certificate
   */
  constructor(keys, roomId, identity, worker, certificate) {
    super();
    this.keys = keys;
    this.roomId = roomId;
    this.identity = identity;
    this.tab = identity.tab;
    this.worker = worker;
    this.certificate = certificate;
    /** Seals and opens every signal payload (signaling.js calls it); knows each tab's keys. */
    this.signals = new SignalCodec(keys.signal, identity, roomId);
    /** @type {Map<string, Promise<CryptoKey | null>>} the pair key with each tab, by tab */
    this.pairKeys = new Map();
    /** Seals and opens data-channel messages, under pair keys. */
    this.data = new DataSealer((t) => this.pairKey(t), this.tab);
    /** media keys from peers that did not open under the pair key */
    this.keysRefused = 0;
    /** the worker between our senders and receivers and the network */
    this.transforms = new Transforms(worker);
    this.mode = this.transforms.mode;
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
    /** @type {(tab: string, body: Body, peerId?: string) => boolean} */
    this.send = () => false;
    /** @type {Record<string, Counters>} */
    this.counters = {};
    this.seq = 0;
    /** @type {Map<number, (v: any) => void>} */
    this.waiting = new Map();
    /** media keys received, opened one after the other */
    /** @type {Promise<void>} */
    this.keyQueue = Promise.resolve();
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
    this.transforms.attach(end, options);
  }

  /** Resolves once the transform of `end` runs in the worker (transforms.js). @param {RTCRtpSender | RTCRtpReceiver} end */
  transformRunning(end) {
    return this.transforms.whenRunning(end);
  }

  /** @param {string} tab @returns {PeerKeys} */
  peer(tab) {
    let p = this.peers.get(tab);
    if (!p) {
      p = newPeerKeys();
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
   * The key this tab shares with `tab` (identity.js pairKey), once `tab`
   * has sent us a signed signal (its agreement key); null before.
   * @param {string} tab
   * @returns {Promise<CryptoKey | null>}
   */
  pairKey(tab) {
    const had = this.pairKeys.get(tab);
    if (had) return had;
    const theirs = this.signals.keysOf.get(tab);
    if (!theirs) return Promise.resolve(null);
    const k = this.identity.pairKey(theirs.dh, tab, this.keys.pairSalt, this.roomId).catch((e) => {
      console.warn('xroom: no pair key', e);
      this.pairKeys.delete(tab);
      return null;
    });
    this.pairKeys.set(tab, k);
    return k;
  }

  /**
   * Sends our newest key to `tab`, sealed under our pair key, saying
   * whether we still lack its own (a tab that forgot us, and came back,
   * sends its key again).
   * @param {string} tab
   */
  shareKey(tab) {
    const p = this.peer(tab);
    const k = this.next ?? this.current;
    const want = p.recvId < 0;
    // Marked sent now (a resend waits KEY_RESEND_MS), sealed and sent next.
    p.sentId = k.id;
    p.sentAt = performance.now();
    this.sealKey(tab, k).then((key) => {
      if (!key || !this.send(tab, { kind: 'key', id: k.id, key, want })) p.sentAt = 0;
    }, (e) => console.warn('xroom: key not sealed', e));
  }

  /** Our media key `k` sealed for `tab` (identity.js); null without a pair key yet. @param {string} tab @param {{id: number, raw: Uint8Array}} k */
  async sealKey(tab, k) {
    const pair = await this.pairKey(tab);
    return pair ? sealMediaKey(pair, this.tab, tab, k.id, k.raw) : null;
  }

  /** The raw media key `id` that `tab` sealed for us; null if it does not open. @param {string} tab @param {number} id @param {string} key */
  async openKey(tab, id, key) {
    const pair = await this.pairKey(tab);
    return pair ? openMediaKey(pair, tab, this.tab, id, key) : null;
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
    const id = nextKeyId((this.next ?? this.current).id);
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
      this.keyQueue = this.keyQueue.then(() => this.onKey(peerId, msg)).catch((e) => console.warn('xroom: key refused', e));
    } else if (msg.kind === 'key-ack') {
      const p = this.peers.get(msg.tab);
      if (!p) return;
      p.acked = msg.id;
      if (this.next && msg.id === this.next.id && allAcked(this.peers.values(), this.next.id)) this.finishRekey();
      this.updateLock(msg.tab);
    }
  }

  /**
   * A peer's media key: opened with our pair key, handed to the worker,
   * acknowledged. Keys are taken one after the other, in their order.
   * @param {string} peerId
   * @param {Message & {kind: 'key'}} msg
   */
  async onKey(peerId, msg) {
    const raw = await this.openKey(msg.tab, msg.id, msg.key);
    if (!raw) {
      this.keysRefused += 1;
      return;
    }
    const p = this.peer(msg.tab);
    const old = p.recvId;
    p.recvId = msg.id;
    const key = await aesKey(raw);
    this.worker.postMessage({ op: 'recv-key', tab: msg.tab, id: msg.id, key });
    this.send(msg.tab, { kind: 'key-ack', id: msg.id }, peerId);
    if (old >= 0 && old !== msg.id) this.retireLater(p, msg.tab, old);
    // It lacks ours (it forgot us and came back): send it again, unless
    // we just did.
    if (answerWant(p, msg.want, performance.now())) this.shareKey(msg.tab);
    this.updateLock(msg.tab);
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
   * A negotiation with `tab` completed: the payload types for the worker.
   * @param {string} tab
   * @param {string} localSdp
   * @param {string} remoteSdp
   */
  negotiated(tab, localSdp, remoteSdp) {
    const map = new Map([...payloadTypes(remoteSdp), ...payloadTypes(localSdp)]);
    this.worker.postMessage({ op: 'codecs', tab, map: [...map] });
    // A browser whose stats name no certificate (Firefox 153): the code
    // from the one fingerprint each description may carry (more than one
    // is refused before this), which DTLS checked the certificate against.
    const p = this.peers.get(tab);
    if (p && !p.certsFromStats) this.setCode(tab, fingerprintOf(localSdp), fingerprintOf(remoteSdp));
  }

  /**
   * The DTLS certificates the connection to `tab` actually uses (its
   * transport's stats, after the handshake; not what an SDP claims): the
   * safety code is made from their fingerprints.
   * @param {string} tab
   * @param {string} a  ours, "sha-256 AB:CD:…"
   * @param {string} b  theirs
   */
  certificates(tab, a, b) {
    const p = this.peers.get(tab);
    if (!p || !a || !b) return;
    p.certsFromStats = true;
    this.setCode(tab, a, b);
  }

  /** The safety code of `tab` from these two fingerprints (ours, theirs). @param {string} tab @param {string} a @param {string} b */
  setCode(tab, a, b) {
    const p = this.peers.get(tab);
    const theirs = this.signals.keysOf.get(tab);
    if (!p || !a || !b || !theirs || p.fingerprints === `${a}|${b}`) return;
    p.fingerprints = `${a}|${b}`;
    safetyCode(this.keys.safety, { fp: a, pub: this.identity.pub }, { fp: b, pub: theirs.pub }).then((code) => {
      const q = this.peers.get(tab);
      if (!q || q.fingerprints !== `${a}|${b}`) return;
      q.safety = code;
      this.emit('status', { tab });
    }, (e) => console.warn('xroom: no safety code', e));
  }

  /**
   * Frames of `kind` sealed so far for `tab`, as of the last count (a
   * second old on an idle machine, more on a loaded one).
   * @param {string} tab
   * @param {'audio' | 'video'} kind
   */
  sealedCount(tab, kind) {
    const c = this.counters[tab];
    return c ? (kind === 'audio' ? c.encAudio : c.encVideo) : 0;
  }

  /**
   * The same, counted by the worker now: on a loaded machine the last count
   * can be seconds old, so the seal check asks again before it silences
   * anything.
   * @param {string} tab
   * @param {'audio' | 'video'} kind
   */
  async freshSealedCount(tab, kind) {
    this.counters = (await this.ask()).counters;
    return this.sealedCount(tab, kind);
  }

  /** Frames of `kind` from `tab` that reached our decrypt transform, whatever became of them (the open check). @param {string} tab @param {'audio' | 'video'} kind */
  openedCount(tab, kind) {
    return this.counters[tab]?.seen?.[kind] ?? 0;
  }

  /** The same, counted by the worker now. @param {string} tab @param {'audio' | 'video'} kind */
  async freshOpenedCount(tab, kind) {
    this.counters = (await this.ask()).counters;
    return this.openedCount(tab, kind);
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

  /** The lock of `tab` from the latest counters (keys.js lockOf); `status` when it changes. @param {string} tab */
  updateLock(tab) {
    const p = this.peers.get(tab);
    if (!p) return;
    const c = this.counters[tab];
    const lock = lockOf(p, c, this.current.id, Date.now());
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
      if (resendDue(p, want, now)) this.shareKey(tab);
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
      pub: this.identity.pub,
      signalsRejected: this.signals.rejected,
      keysRefused: this.keysRefused,
      signalsOpened: this.signals.opened,
      transforms: { attached: this.transforms.seq, waiting: this.transforms.attaching.size, late: this.transforms.late },
      peers: Object.fromEntries([...this.peers].map(([tab, p]) => [tab, {
        pub: this.signals.keysOf.get(tab)?.pub ?? '', acked: p.acked, sentId: p.sentId, sentAt: p.sentAt, recvId: p.recvId, lock: p.lock, unsealed: p.unsealed, safety: p.safety, present: p.present, fingerprints: p.fingerprints,
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
