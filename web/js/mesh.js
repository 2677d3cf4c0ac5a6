// @ts-check
// mesh.js: one RTCPeerConnection per remote tab (a full mesh). Perfect
// negotiation with the polite side decided from the tab ids, every SDP and
// ICE operation of a connection run one after the other, trickle ICE, ICE
// restarts when a connection fails or stays disconnected, a rebuild when a
// restart does not help, connection badges from getStats, and the bandwidth
// governor. Connections are keyed by tab id (carried in every signal), not
// by peer id, so a rejoin after a daemon restart finds the connections that
// are still up instead of opening new ones. No DOM.
//
// Transceivers: each side creates its own two receiving transceivers
// (audio, video; recvonly) before any negotiation, and sends on the ones
// that the other side's offer creates. So every receiver exists before the
// first offer or answer (receiver transforms for end-to-end encryption must
// be set then), and turning the camera off or sharing a screen is a
// replaceTrack, never a renegotiation.
//
// End-to-end encryption (e2ee.js, behind the Guard interface): the frame
// transforms are put on our receivers as they are made and on our senders
// before a track is put on them; a sender that cannot be protected never
// gets a track. Media keys travel as `key` and `key-ack` signals.

import { Emitter } from './emitter.js';
import { DATA_CHANNEL } from './chat.js';
import { FILE_CHANNEL } from './files.js';
import { capsFor } from './governor.js';
import { SpeakingDetector } from './media.js';
import { tidySdp } from './sdp.js';

/** @typedef {import('./wire.js').Message} Message */
/** @typedef {import('./wire.js').PeerState} PeerState */
/** @typedef {import('./wire.js').Body} Body */
/** @typedef {import('./e2ee.js').Guard} Guard */
/** @typedef {'connecting' | 'direct' | 'relayed' | 'reconnecting' | 'failed'} Badge */

/** After this many restarts and rebuilds without a connection the badge says failed (trying goes on). */
export const FAILED_AFTER = 4;
/** A connection disconnected this long gets an ICE restart. */
export const DISCONNECTED_RESTART_MS = 3000;
/** A connection not (re)connected this long after a start or restart is restarted again. */
export const CONNECT_TIMEOUT_MS = 12000;
/** After this many restarts in a row without success, the connection is rebuilt. */
export const MAX_RESTARTS = 2;
/** A sender sending this long with nothing sealed by the worker is bypassing its transform. */
export const SEAL_CHECK_MS = 3000;
/** Rebuilds tried for a bypassing sender before it stays silent. */
export const MAX_BYPASS_REBUILDS = 2;
/** The side that waits for the other's first offer makes its own after this. */
export const OFFER_WAIT_MS = 3000;
/** A peer without a signaling path whose connection is down this long is dropped. */
export const LOST_PEER_MS = 8000;
/** The same while our own signaling is down (the peer may come back with it). */
export const LOST_PEER_OFFLINE_MS = 30000;
const STATS_MS = 1000;
const LEVELS_MS = 150;

/**
 * What the mesh needs from the rest of the page.
 * @typedef {{
 *   send: (peerId: string, msg: Message) => void,
 *   prepareBye: (peerId: string, msg: Message) => void,
 *   sendBye: (peerId: string) => boolean,
 *   state: () => PeerState,
 *   track: (kind: 'audio' | 'video') => MediaStreamTrack | null,
 *   source: () => 'camera' | 'screen',
 * }} Local
 */

/**
 * @typedef {{
 *   framesDecoded: number, frameWidth: number, frameHeight: number,
 *   audioBytes: number, audioPackets: number, audioEnergy: number,
 *   videoBytesSent: number, framesEncoded: number, sentFrameHeight: number,
 *   qualityLimitation: string, route: 'direct' | 'relayed' | '', localUfrag: string,
 *   dtls: {local: string, remote: string},
 * }} PeerStats
 */

/**
 * @typedef {{
 *   'peer-added': {tab: string},
 *   'peer-removed': {tab: string, reason: string},
 *   'peer-updated': {tab: string},
 *   'peer-stream': {tab: string, stream: MediaStream},
 *   'peer-channel': {tab: string, channel: RTCDataChannel, files: RTCDataChannel},
 *   levels: {levels: Map<string, {level: number, speaking: boolean}>},
 * }} MeshEvents
 */

/** @extends {Emitter<MeshEvents>} */
export class Mesh extends Emitter {
  /**
   * @param {string} tab  this tab's id
   * @param {Local} local
   * @param {Guard} guard  end-to-end encryption of media and keys
   */
  constructor(tab, local, guard) {
    super();
    this.tab = tab;
    this.local = local;
    this.guard = guard;
    /** Only relay (TURN) candidates: the others never learn our address. */
    this.relayOnly = false;
    /** @type {Map<string, Peer>} by tab id */
    this.peers = new Map();
    this.signalingUp = false;
    /** @type {RTCIceServer[]} */
    this.iceServers = [];
    this.closed = false;
    this.statsTimer = setInterval(() => this.pollStats(), STATS_MS);
    this.levelsTimer = setInterval(() => this.pollLevels(), LEVELS_MS);
    guard.setSender((t, body, peerId) => this.sendTo(t, body, peerId));
  }

  /**
   * Sends `body` to tab `tab`: through its connection's peer id, or, for a
   * tab we have no connection with yet, to `peerId`.
   * @param {string} tab
   * @param {Body} body
   * @param {string} [peerId]
   */
  sendTo(tab, body, peerId) {
    const p = this.peers.get(tab);
    if (p) return p.send(body);
    if (!peerId || !this.signalingUp) return false;
    this.local.send(peerId, /** @type {Message} */ ({ tab: this.tab, gen: 0, ...body }));
    return true;
  }

  /**
   * Hide our address: gather and send only relay candidates, on every
   * connection (an ICE restart moves the running ones) and every new one.
   * @param {boolean} on
   */
  setRelayOnly(on) {
    if (this.relayOnly === on) return;
    this.relayOnly = on;
    for (const p of this.peers.values()) p.applyPolicy();
  }

  /**
   * Joined (or rejoined) the room: greet everyone already there. Those we
   * still have a connection with answer from their tab, and are rebound.
   * @param {string[]} peerIds
   * @param {RTCIceServer[]} iceServers
   */
  online(peerIds, iceServers) {
    this.signalingUp = true;
    this.iceServers = iceServers;
    for (const p of this.peers.values()) p.setIceServers(iceServers);
    for (const id of peerIds) this.sendHello(id, false, 0);
  }

  /** The signaling socket is down: no peer can be reached until a rejoin. */
  offline() {
    this.signalingUp = false;
    for (const p of this.peers.values()) {
      p.peerId = null;
      p.checkLost();
    }
  }

  /** @param {string} peerId */
  peerLeft(peerId) {
    const p = this.byPeerId(peerId);
    if (!p) return;
    p.peerId = null;
    p.checkLost();
  }

  /** @param {string} peerId */
  byPeerId(peerId) {
    for (const p of this.peers.values()) if (p.peerId === peerId) return p;
    return undefined;
  }

  /**
   * @param {string} peerId
   * @param {boolean} ack
   * @param {number} gen
   */
  sendHello(peerId, ack, gen) {
    this.local.send(peerId, { tab: this.tab, gen, kind: 'hello', ack, ...this.local.state() });
  }

  /**
   * A signal from another tab, already opened by wire.js.
   * @param {string} from  its current peer id
   * @param {Message} msg
   */
  signal(from, msg) {
    if (this.closed || msg.tab === this.tab) return;
    if (msg.kind === 'key' || msg.kind === 'key-ack') {
      // Keys belong to the tab, not to a connection or its generation.
      this.guard.onKeyMessage(from, msg);
      return;
    }
    if (msg.kind === 'bye') {
      // The tab leaves: whatever generation it was sealed in.
      const gone = this.peers.get(msg.tab);
      if (gone) this.remove(gone, 'left');
      return;
    }
    let p = this.peers.get(msg.tab);
    if (!p) {
      if (msg.kind === 'hello') {
        // A tab we do not know. Greeted: we answer and it makes the first
        // offer; the generation moves past the greeter's, so that a
        // connection it may still hold for us from before is rebuilt, not
        // reused. Answered: we make the first offer, so the newcomer's
        // receivers are negotiated first and it sees the others soonest.
        p = msg.ack ? this.add(msg.tab, msg.gen, from, false) : this.add(msg.tab, msg.gen + 1, from, true);
      } else if (msg.kind === 'sdp' && msg.description.type === 'offer') {
        p = this.add(msg.tab, msg.gen, from, false);
      } else {
        return;
      }
    } else if (msg.gen > p.gen) {
      p.rebuild(msg.gen, !(msg.kind === 'hello' && msg.ack));
    } else if (msg.gen < p.gen && msg.kind !== 'hello') {
      return; // from a connection that has been replaced
    }
    p.bind(from);
    p.onMessage(msg);
  }

  /**
   * @param {string} tab
   * @param {number} gen
   * @param {string} peerId
   * @param {boolean} expectOffer  the other side makes the first offer
   */
  add(tab, gen, peerId, expectOffer) {
    const p = new Peer(this, tab, gen, expectOffer);
    this.peers.set(tab, p);
    p.peerId = peerId;
    this.local.prepareBye(peerId, { tab: this.tab, gen: 0, kind: 'bye' });
    this.guard.peerAdded(tab);
    this.emit('peer-added', { tab });
    this.emit('peer-stream', { tab, stream: p.stream });
    this.governAll();
    return p;
  }

  /** @param {Peer} p @param {string} reason */
  remove(p, reason) {
    if (this.peers.get(p.tab) !== p) return;
    p.close();
    this.peers.delete(p.tab);
    this.guard.peerRemoved(p.tab, reason);
    this.emit('peer-removed', { tab: p.tab, reason });
    this.governAll();
  }

  /** A local track changed (device switch, camera on/off, screen share). @param {'audio' | 'video'} kind */
  trackChanged(kind) {
    for (const p of this.peers.values()) p.replaceTrack(kind);
    if (kind === 'video') this.governAll();
  }

  /** Our name, mic or camera changed: tell everyone. */
  stateChanged() {
    for (const p of this.peers.values()) p.sendState();
  }

  /** Re-applies the bandwidth caps of every sender (the peer count changed). */
  governAll() {
    for (const p of this.peers.values()) p.govern();
  }

  /** How many peers this tab sends video to. */
  get sendingTo() { return Math.max(1, this.peers.size); }

  /** Says goodbye to every peer and closes every connection. */
  leave() {
    for (const p of this.peers.values()) {
      // The goodbye sealed ahead goes at once (the page may be closing);
      // one sealed now only if none is ready.
      if (p.peerId && this.signalingUp && !this.local.sendBye(p.peerId)) p.send({ kind: 'bye' });
    }
    this.close();
  }

  close() {
    this.closed = true;
    clearInterval(this.statsTimer);
    clearInterval(this.levelsTimer);
    for (const p of [...this.peers.values()]) this.remove(p, 'closed');
  }

  pollStats() {
    for (const p of this.peers.values()) p.pollStats();
  }

  pollLevels() {
    const now = performance.now();
    const wall = Date.now();
    /** @type {Map<string, {level: number, speaking: boolean}>} */
    const levels = new Map();
    for (const p of this.peers.values()) {
      const src = p.recvAudio.receiver.getSynchronizationSources?.() ?? [];
      // Browsers differ on the timebase of `timestamp` (page or wall clock).
      const fresh = src.find((s) => Math.min(Math.abs(now - s.timestamp), Math.abs(wall - s.timestamp)) < 1000);
      const level = p.remote.mic && fresh ? (fresh.audioLevel ?? 0) : 0;
      levels.set(p.tab, { level, speaking: p.speaking.update(level, now) });
    }
    this.emit('levels', { levels });
  }

  /** For the test hook: everything measurable, per peer. */
  snapshot() {
    return [...this.peers.values()].map((p) => p.snapshot());
  }
}

/**
 * True when the ICE servers include a relay (a `turn:` or `turns:` URL):
 * only then can "hide my address" work.
 * @param {RTCIceServer[]} servers
 */
export function hasTurn(servers) {
  return servers.some((s) => (Array.isArray(s.urls) ? s.urls : [s.urls])
    .some((u) => typeof u === 'string' && /^turns?:/i.test(u)));
}

/** The ICE ufrag of our current local description. @param {RTCPeerConnection} pc */
function localUfrag(pc) {
  return /a=ice-ufrag:(\S+)/.exec(pc.localDescription?.sdp ?? '')?.[1] ?? '';
}

class Peer {
  /**
   * @param {Mesh} mesh
   * @param {string} tab
   * @param {number} gen
   * @param {boolean} expectOffer
   */
  constructor(mesh, tab, gen, expectOffer) {
    this.mesh = mesh;
    this.tab = tab;
    this.gen = gen;
    /** Perfect negotiation: the polite side yields when offers collide. */
    this.polite = mesh.tab > tab;
    /** @type {string | null} the peer id to reach it through the room, while there is one */
    this.peerId = null;
    /** @type {PeerState} */
    this.remote = { name: '', mic: true, cam: true, screen: false };
    /** @type {Badge} */
    this.badge = 'connecting';
    this.speaking = new SpeakingDetector();
    /** @type {PeerStats} */
    this.stats = {
      framesDecoded: 0, frameWidth: 0, frameHeight: 0, audioBytes: 0, audioPackets: 0, audioEnergy: 0,
      videoBytesSent: 0, framesEncoded: 0, sentFrameHeight: 0, qualityLimitation: '', route: '', localUfrag: '',
      dtls: { local: '', remote: '' },
    };
    /** @type {{iceRestarts: number, rebuilds: number, negotiations: number, candidatesSent: Record<string, number>}} */
    this.counters = { iceRestarts: 0, rebuilds: 0, negotiations: 0, candidatesSent: {} };
    /** Relay-only, and the relay server gave this connection no candidate. */
    this.relayProblem = false;
    /** Relay candidates gathered by the current connection. */
    this.relayGathered = 0;
    /** @type {Record<string, ReturnType<typeof setTimeout> | undefined>} */
    this.timers = {};
    // Per connection; build() sets them again for each new RTCPeerConnection.
    /** @type {RTCPeerConnection} */
    this.pc = /** @type {never} */ (null);
    /** our receiving transceivers, made before any negotiation */
    /** @type {RTCRtpTransceiver} */
    this.recvAudio = /** @type {never} */ (null);
    /** @type {RTCRtpTransceiver} */
    this.recvVideo = /** @type {never} */ (null);
    /** @type {RTCDataChannel} the sealed data channel (chat.js) */
    this.channel = /** @type {never} */ (null);
    /** @type {RTCDataChannel} the sealed file-transfer channel (files.js) */
    this.fileChannel = /** @type {never} */ (null);
    /** what the peer sends us: the tracks of recvAudio and recvVideo */
    /** @type {MediaStream} */
    this.stream = /** @type {never} */ (null);
    /** the transceivers the peer's offer made for what it receives from us */
    /** @type {RTCRtpTransceiver | null} */
    this.sendAudio = null;
    /** @type {RTCRtpTransceiver | null} */
    this.sendVideo = null;
    /** Every SDP and ICE operation runs on this chain, one after the other. */
    /** @type {Promise<void>} */
    this.ops = Promise.resolve();
    this.makingOffer = false;
    this.ignoreOffer = false;
    /** the other side makes the first offer (we wait OFFER_WAIT_MS for it) */
    this.expectOffer = expectOffer;
    this.everConnected = false;
    /** ICE restarts in a row without success on this RTCPeerConnection */
    this.restarts = 0;
    /** restarts and rebuilds since the connection was last up (kept across rebuilds) */
    this.attempts = 0;
    /** an ICE restart is under way (until the new ICE generation carries the media) */
    this.restarting = false;
    /** the local ICE ufrag before the restart, and stats polls since it was negotiated */
    this.restartFrom = '';
    this.restartSettling = 0;
    /** an offer is due but the peer could not be reached */
    this.pendingNegotiation = false;
    /** kinds whose frames were found going out unsealed: their senders stay silent */
    /** @type {Set<'audio' | 'video'>} */
    this.unsealed = new Set();
    /** when each sender started sending on this RTCPeerConnection, and the sealed count then */
    this.sealCheck = { audio: { since: 0, base: 0 }, video: { since: 0, base: 0 } };
    /** connections rebuilt because a sender bypassed its transform */
    this.bypasses = 0;
    this.closed = false;
    this.build(expectOffer);
  }

  /**
   * A new RTCPeerConnection with our two receiving transceivers.
   * @param {boolean} expectOffer
   */
  build(expectOffer) {
    const pc = new RTCPeerConnection({
      ...this.mesh.guard.rtcConfig(),
      iceServers: this.mesh.iceServers,
      bundlePolicy: 'max-bundle',
      iceTransportPolicy: this.mesh.relayOnly ? 'relay' : 'all',
    });
    const recvAudio = pc.addTransceiver('audio', { direction: 'recvonly' });
    const recvVideo = pc.addTransceiver('video', { direction: 'recvonly' });
    // Before any negotiation: a receiver transform set later (in ontrack)
    // is skipped by Chromium.
    this.mesh.guard.protectReceiver(this.tab, recvAudio, 'audio');
    this.mesh.guard.protectReceiver(this.tab, recvVideo, 'video');
    // The sealed data channel (chat, files): negotiated with a fixed id, so
    // it exists on both sides before any offer, without signaling.
    this.channel = pc.createDataChannel(DATA_CHANNEL.label, { negotiated: true, id: DATA_CHANNEL.id, ordered: true });
    // Files get a channel of their own: a message waits behind at most one
    // chunk of a transfer, not behind megabytes of them.
    this.fileChannel = pc.createDataChannel(FILE_CHANNEL.label, { negotiated: true, id: FILE_CHANNEL.id, ordered: true });
    this.pc = pc;
    this.recvAudio = recvAudio;
    this.recvVideo = recvVideo;
    this.stream = new MediaStream([recvAudio.receiver.track, recvVideo.receiver.track]);
    this.sendAudio = null;
    this.sendVideo = null;
    this.ops = Promise.resolve();
    this.makingOffer = false;
    this.ignoreOffer = false;
    this.expectOffer = expectOffer;
    this.everConnected = false;
    this.restarts = 0;
    this.restarting = false;
    this.pendingNegotiation = false;
    this.closed = false;
    if (this.bypasses <= MAX_BYPASS_REBUILDS && this.unsealed.size > 0) {
      this.unsealed.clear();
      this.mesh.guard.sendingUnsealed(this.tab, []);
    }
    for (const kind of /** @type {const} */ (['audio', 'video'])) {
      this.sealCheck[kind] = { since: 0, base: this.mesh.guard.sealedCount(this.tab, kind) };
    }

    pc.addEventListener('negotiationneeded', () => {
      if (pc !== this.pc) return;
      this.enqueue(async () => {
        if (this.expectOffer && !pc.remoteDescription) return; // the other side opens
        await this.offer();
      });
    });
    this.relayGathered = 0;
    pc.addEventListener('icegatheringstatechange', () => {
      if (pc !== this.pc || pc.iceGatheringState !== 'complete') return;
      // Relay only, and the TURN server answered nothing usable (down,
      // wrong secret, expired credentials): say so now instead of a tile
      // that waits for minutes.
      const problem = this.mesh.relayOnly && this.relayGathered === 0;
      if (problem !== this.relayProblem) {
        this.relayProblem = problem;
        if (problem) console.warn('xroom: relay-only, but the TURN server gave no candidate');
        this.mesh.emit('peer-updated', { tab: this.tab });
      }
    });
    pc.addEventListener('icecandidate', ({ candidate }) => {
      if (pc !== this.pc || !candidate || !candidate.candidate) return;
      if (candidate.type === 'relay') {
        this.relayGathered += 1;
        if (this.relayProblem) {
          this.relayProblem = false;
          this.mesh.emit('peer-updated', { tab: this.tab });
        }
      }
      if (this.mesh.relayOnly && candidate.type !== 'relay') return; // our address stays ours
      const sent = this.counters.candidatesSent;
      const type = candidate.type ?? 'unknown';
      sent[type] = (sent[type] ?? 0) + 1;
      const c = candidate.toJSON();
      this.send({
        kind: 'ice',
        candidate: {
          candidate: c.candidate ?? '',
          sdpMid: c.sdpMid ?? null,
          sdpMLineIndex: c.sdpMLineIndex ?? null,
          usernameFragment: c.usernameFragment ?? null,
        },
      });
    });
    pc.addEventListener('connectionstatechange', () => {
      if (pc === this.pc) this.onConnectionState(pc.connectionState);
    });
    this.mesh.emit('peer-channel', { tab: this.tab, channel: this.channel, files: this.fileChannel });
    this.armConnectTimeout();
    if (expectOffer) {
      this.timers.offerWait = setTimeout(() => {
        if (pc !== this.pc || pc.remoteDescription) return;
        this.expectOffer = false;
        this.enqueue(() => this.offer());
      }, OFFER_WAIT_MS);
    }
  }

  /** @param {RTCIceServer[]} servers */
  setIceServers(servers) {
    try {
      this.pc.setConfiguration({ ...this.pc.getConfiguration(), iceServers: servers });
    } catch (e) {
      console.warn('xroom: ICE servers not updated', e);
    }
  }

  /** The mesh's relay-only switch changed: gather again under the new policy. */
  applyPolicy() {
    try {
      this.pc.setConfiguration({ ...this.pc.getConfiguration(), iceTransportPolicy: this.mesh.relayOnly ? 'relay' : 'all' });
    } catch (e) {
      console.warn('xroom: ICE policy not changed; rebuilding', e);
      this.rebuild(this.gen + 1, true, true);
      return;
    }
    this.restart('policy');
  }

  get canSignal() { return this.peerId !== null && this.mesh.signalingUp; }

  /** @param {Body} body */
  send(body) {
    if (!this.canSignal || this.peerId === null) return false;
    this.mesh.local.send(this.peerId, /** @type {Message} */ ({ tab: this.mesh.tab, gen: this.gen, ...body }));
    return true;
  }

  sendState() {
    this.send({ kind: 'state', ...this.mesh.local.state() });
  }

  /**
   * Runs `fn` after every operation queued before it; a failure is logged
   * and does not stop the chain.
   * @param {() => Promise<void> | void} fn
   */
  enqueue(fn) {
    const pc = this.pc;
    this.ops = this.ops.then(async () => {
      if (this.closed || pc !== this.pc) return;
      if (pc.signalingState === 'closed') {
        this.rebuild(this.gen + 1, true, true);
        return;
      }
      await fn();
    }).catch((e) => {
      console.warn(`xroom: operation on the connection to ${this.tab} failed`, e);
    });
  }

  /** The peer is reachable through the room under `peerId` (again). @param {string} peerId */
  bind(peerId) {
    const was = this.peerId;
    this.peerId = peerId;
    if (was === peerId) return;
    this.mesh.local.prepareBye(peerId, { tab: this.mesh.tab, gen: this.gen, kind: 'bye' });
    clearTimeout(this.timers.lost);
    this.timers.lost = undefined;
    if (was === null) {
      this.resync();
      this.mesh.guard.peerReachable(this.tab);
    }
  }

  /** A signaling path came back: catch up on what could not be sent. */
  resync() {
    this.enqueue(async () => {
      const pc = this.pc;
      if (pc.signalingState === 'have-local-offer' && pc.localDescription) {
        this.sendSdp(pc.localDescription);
      } else if (pc.signalingState === 'stable' && this.pendingNegotiation) {
        await this.offer();
      }
    });
    if (this.pc.connectionState === 'failed' || (this.pc.connectionState === 'disconnected' && !this.timers.disconnected)) {
      this.restart('rejoined');
    }
  }

  /** @param {Message} msg */
  onMessage(msg) {
    switch (msg.kind) {
      case 'hello':
        this.setRemote(msg);
        if ((!msg.ack || msg.gen < this.gen) && this.peerId) {
          // Greet back with our tab and generation (from a lower one, they
          // rebuild to ours).
          this.mesh.sendHello(this.peerId, true, this.gen);
        } else if (msg.ack && this.expectOffer && !this.pc.remoteDescription) {
          // They know us now: we open the negotiation.
          this.expectOffer = false;
          this.enqueue(() => this.offer());
        }
        break;
      case 'state':
        this.setRemote(msg);
        break;
      case 'sdp':
        this.enqueue(() => this.onDescription(msg.description));
        break;
      case 'ice':
        this.enqueue(() => this.onCandidate(msg.candidate));
        break;
      default:
        break;
    }
  }

  /** @param {PeerState} st */
  setRemote(st) {
    const { name, mic, cam, screen } = st;
    this.remote = { name, mic, cam, screen };
    this.mesh.emit('peer-updated', { tab: this.tab });
  }

  async offer() {
    const pc = this.pc;
    if (pc.signalingState !== 'stable') return;
    if (!this.canSignal) {
      this.pendingNegotiation = true;
      return;
    }
    this.pendingNegotiation = false;
    this.makingOffer = true;
    try {
      await pc.setLocalDescription();
    } finally {
      this.makingOffer = false;
    }
    if (pc.localDescription) this.sendSdp(pc.localDescription);
  }

  /** @param {RTCSessionDescription} d */
  sendSdp(d) {
    if (d.type !== 'offer' && d.type !== 'answer') return;
    this.send({ kind: 'sdp', description: { type: d.type, sdp: d.sdp } });
  }

  /** @param {{type: 'offer' | 'answer', sdp: string}} description */
  async onDescription(description) {
    const pc = this.pc;
    const collision = description.type === 'offer' && (this.makingOffer || pc.signalingState !== 'stable');
    this.ignoreOffer = !this.polite && collision;
    if (this.ignoreOffer) return;
    if (description.type === 'answer' && pc.signalingState !== 'have-local-offer') return; // a stale answer
    try {
      // The polite side rolls back its own offer here.
      await pc.setRemoteDescription({ type: description.type, sdp: tidySdp(description.sdp) });
    } catch (e) {
      if (description.type !== 'answer' || !pc.currentRemoteDescription) throw e;
      // The answer to a renegotiation of a running connection cannot be
      // applied: the connection would stay in have-local-offer, unable to
      // negotiate again. Firefox answers an ICE restart with a DTLS role
      // change, which Chromium refuses ("Failed to set SSL role"). A new
      // connection starts over instead.
      console.warn(`xroom: answer from ${this.tab} refused; rebuilding the connection`, e);
      this.rebuild(this.gen + 1, true, true);
      return;
    }
    if (description.type === 'offer') {
      await this.adoptSenders();
      await pc.setLocalDescription();
      if (pc.localDescription) this.sendSdp(pc.localDescription);
    }
    this.counters.negotiations += 1;
    this.expectOffer = false;
    clearTimeout(this.timers.offerWait);
    if (pc.localDescription && pc.remoteDescription) {
      this.mesh.guard.negotiated(this.tab, pc.localDescription.sdp, pc.remoteDescription.sdp);
    }
    this.govern();
  }

  /**
   * The other side's offer created transceivers for what it wants to
   * receive: we send on those. Must run right after setRemoteDescription
   * resolves, with no await before the transforms are set: Chromium
   * short-circuits the encoded-frame path of a sender that has no
   * transform one task after the description that created it, and a
   * transform set later is silently skipped (its frames would go out
   * unsealed; the receiver drops them, and checkSealed() catches it).
   */
  async adoptSenders() {
    /** @type {RTCRtpTransceiver[]} */
    const adopted = [];
    for (const t of this.pc.getTransceivers()) {
      if (t === this.recvAudio || t === this.recvVideo || t.currentDirection === 'stopped' || !t.mid) continue;
      const kind = /** @type {'audio' | 'video'} */ (t.receiver.track.kind);
      if (kind === 'audio' && (!this.sendAudio || this.sendAudio === t)) {
        this.sendAudio = t;
      } else if (kind === 'video' && (!this.sendVideo || this.sendVideo === t)) {
        this.sendVideo = t;
      } else {
        if (t.direction !== 'inactive') t.direction = 'inactive'; // more than we expect: refuse it
        continue;
      }
      if (!this.mesh.guard.protectSender(this.tab, t.sender, kind)) {
        // Frames on it could not be sealed: it sends nothing, ever.
        if (t.direction !== 'inactive') t.direction = 'inactive';
        if (t === this.sendAudio) this.sendAudio = null; else this.sendVideo = null;
        continue;
      }
      if (t.direction !== 'sendonly') t.direction = 'sendonly';
      adopted.push(t);
    }
    for (const t of adopted) {
      const kind = /** @type {'audio' | 'video'} */ (t.receiver.track.kind);
      const track = this.unsealed.has(kind) ? null : this.mesh.local.track(kind);
      if (t.sender.track !== track) await t.sender.replaceTrack(track);
    }
  }

  /** @param {import('./wire.js').Candidate} candidate */
  async onCandidate(candidate) {
    try {
      await this.pc.addIceCandidate(candidate);
    } catch (e) {
      if (!this.ignoreOffer) throw e;
    }
  }

  /** @param {'audio' | 'video'} kind */
  replaceTrack(kind) {
    const t = kind === 'audio' ? this.sendAudio : this.sendVideo;
    if (!t) return;
    const track = this.unsealed.has(kind) ? null : this.mesh.local.track(kind);
    if (t.sender.track === track) return;
    t.sender.replaceTrack(track).catch((e) => console.warn('xroom: replaceTrack failed', e));
  }

  /** Applies the governor's caps to our video sender. */
  govern() {
    this.enqueue(async () => {
      const sender = this.sendVideo?.sender;
      if (!sender) return;
      const track = this.mesh.local.track('video');
      const s = track?.getSettings() ?? {};
      const caps = capsFor(this.mesh.sendingTo, this.mesh.local.source(), { width: s.width, height: s.height });
      const params = sender.getParameters();
      if (!params.encodings || params.encodings.length === 0) return; // not negotiated yet
      let same = true;
      for (const enc of params.encodings) {
        same &&= enc.maxBitrate === caps.maxBitrate && enc.maxFramerate === caps.maxFramerate &&
          (enc.scaleResolutionDownBy ?? 1) === caps.scaleResolutionDownBy;
        enc.maxBitrate = caps.maxBitrate;
        enc.maxFramerate = caps.maxFramerate;
        enc.scaleResolutionDownBy = caps.scaleResolutionDownBy;
      }
      const withPref = /** @type {RTCRtpSendParameters & {degradationPreference?: string}} */ (params);
      same &&= withPref.degradationPreference === caps.degradationPreference;
      if (same) return;
      withPref.degradationPreference = caps.degradationPreference;
      try {
        await sender.setParameters(params);
      } catch {
        // A browser without degradationPreference: the caps alone.
        const again = sender.getParameters();
        for (const enc of again.encodings ?? []) {
          enc.maxBitrate = caps.maxBitrate;
          enc.maxFramerate = caps.maxFramerate;
          enc.scaleResolutionDownBy = caps.scaleResolutionDownBy;
        }
        await sender.setParameters(again);
      }
    });
  }

  /** @param {RTCPeerConnectionState} s */
  onConnectionState(s) {
    if (s === 'connected') {
      this.everConnected = true;
      this.restarts = 0;
      this.attempts = 0;
      this.restarting = false;
      clearTimeout(this.timers.disconnected);
      clearTimeout(this.timers.connect);
      this.timers.disconnected = this.timers.connect = undefined;
      if (this.badge !== 'direct' && this.badge !== 'relayed') this.setBadge(this.stats.route || 'direct');
      this.pollStats();
    } else if (s === 'disconnected') {
      if (this.everConnected) this.setBadge('reconnecting');
      clearTimeout(this.timers.disconnected);
      this.timers.disconnected = setTimeout(() => {
        this.timers.disconnected = undefined;
        if (this.pc.connectionState === 'disconnected') this.restart('disconnected');
      }, DISCONNECTED_RESTART_MS);
    } else if (s === 'failed') {
      this.restart('failed');
    }
    this.checkLost();
  }

  /** @param {Badge} b */
  setBadge(b) {
    if (this.badge === b) return;
    this.badge = b;
    this.mesh.emit('peer-updated', { tab: this.tab });
  }

  armConnectTimeout() {
    clearTimeout(this.timers.connect);
    this.timers.connect = setTimeout(() => {
      this.timers.connect = undefined;
      if (!this.closed && this.pc.connectionState !== 'connected') this.restart('timeout');
    }, CONNECT_TIMEOUT_MS);
  }

  /**
   * ICE restart (perfect negotiation makes the offer); after MAX_RESTARTS
   * in a row without success, a rebuild.
   * @param {string} reason
   */
  restart(reason) {
    if (this.closed) return;
    if (!this.canSignal) {
      // Nobody to negotiate with: resync() restarts once the peer is back.
      this.setBadge(this.pc.connectionState === 'failed' || !this.everConnected ? 'failed' : 'reconnecting');
      return;
    }
    this.attempts += 1;
    this.setBadge(this.attempts > FAILED_AFTER ? 'failed' : 'reconnecting');
    if (this.restarts >= MAX_RESTARTS) {
      console.info(`xroom: rebuilding the connection to ${this.tab} (${reason})`);
      this.rebuild(this.gen + 1, true, true);
      return;
    }
    console.info(`xroom: ICE restart towards ${this.tab} (${reason})`);
    this.restarts += 1;
    this.counters.iceRestarts += 1;
    this.restarting = true;
    this.restartFrom = localUfrag(this.pc);
    this.restartSettling = 0;
    this.pc.restartIce();
    this.armConnectTimeout();
  }

  /**
   * A new RTCPeerConnection in place of the old one, for generation `gen`.
   * @param {number} gen
   * @param {boolean} expectOffer
   * @param {boolean} [announce]  we decided it: tell the other side
   */
  rebuild(gen, expectOffer, announce = false) {
    this.closePc();
    this.gen = gen;
    this.counters.rebuilds += 1;
    this.closed = false;
    this.build(expectOffer);
    this.setBadge(this.attempts > FAILED_AFTER ? 'failed' : 'reconnecting');
    this.mesh.emit('peer-stream', { tab: this.tab, stream: this.stream });
    if (announce && this.peerId && this.mesh.signalingUp) this.mesh.sendHello(this.peerId, false, this.gen);
  }

  /**
   * A peer we cannot reach through the room is kept while its connection
   * is up (media is peer to peer), and dropped once that is down too.
   */
  checkLost() {
    if (this.closed) return;
    const reachable = this.canSignal;
    const up = this.pc.connectionState === 'connected';
    if (reachable || up) {
      clearTimeout(this.timers.lost);
      this.timers.lost = undefined;
      return;
    }
    if (this.timers.lost) return;
    const wait = this.mesh.signalingUp ? LOST_PEER_MS : LOST_PEER_OFFLINE_MS;
    this.timers.lost = setTimeout(() => {
      this.timers.lost = undefined;
      if (!this.canSignal && this.pc.connectionState !== 'connected') this.mesh.remove(this, 'lost');
    }, wait);
  }

  async pollStats() {
    if (this.closed) return;
    const pc = this.pc;
    let report;
    try {
      report = await pc.getStats();
    } catch {
      return;
    }
    if (pc !== this.pc) return;
    const st = this.stats;
    /** @type {Map<string, any>} */
    const byId = new Map();
    report.forEach((s) => byId.set(s.id, s));
    let pairId = '';
    for (const s of byId.values()) {
      if (s.type === 'inbound-rtp' && s.kind === 'video' && s.mid === this.recvVideo.mid) {
        st.framesDecoded = s.framesDecoded ?? 0;
        st.frameWidth = s.frameWidth ?? 0;
        st.frameHeight = s.frameHeight ?? 0;
      } else if (s.type === 'inbound-rtp' && s.kind === 'audio' && s.mid === this.recvAudio.mid) {
        st.audioBytes = s.bytesReceived ?? 0;
        st.audioPackets = s.packetsReceived ?? 0;
        st.audioEnergy = s.totalAudioEnergy ?? 0;
      } else if (s.type === 'outbound-rtp' && s.kind === 'video') {
        st.videoBytesSent = s.bytesSent ?? 0;
        st.framesEncoded = s.framesEncoded ?? 0;
        st.sentFrameHeight = s.frameHeight ?? 0;
        st.qualityLimitation = s.qualityLimitationReason ?? '';
        this.checkSealed('video', st.framesEncoded);
      } else if (s.type === 'outbound-rtp' && s.kind === 'audio') {
        this.checkSealed('audio', s.packetsSent ?? 0);
      } else if (s.type === 'transport' && s.selectedCandidatePairId) {
        pairId = s.selectedCandidatePairId;
        // The certificates DTLS actually used (the safety code is made
        // from the SDP's fingerprints, which DTLS checks against these).
        const cert = (/** @type {string} */ id) => {
          const c = byId.get(id);
          return c ? `${String(c.fingerprintAlgorithm).toLowerCase()} ${String(c.fingerprint).toUpperCase()}` : '';
        };
        st.dtls = { local: cert(s.localCertificateId), remote: cert(s.remoteCertificateId) };
        if (s.iceLocalUsernameFragment) st.localUfrag = s.iceLocalUsernameFragment;
      }
    }
    const pair = byId.get(pairId);
    if (pair) {
      const l = byId.get(pair.localCandidateId);
      const r = byId.get(pair.remoteCandidateId);
      st.route = l?.candidateType === 'relay' || r?.candidateType === 'relay' ? 'relayed' : 'direct';
      if (l?.usernameFragment) st.localUfrag = l.usernameFragment;
    }
    if (pc.connectionState === 'connected' && st.route) {
      const negotiated = this.restarting && pc.signalingState === 'stable' && localUfrag(pc) !== this.restartFrom;
      if (negotiated) this.restartSettling += 1;
      // Done once the new ICE generation carries the media, or once the
      // restart is negotiated and the connection has stayed up a while
      // (the browser may keep a working pair of the old generation).
      if (negotiated && (st.localUfrag === localUfrag(pc) || this.restartSettling >= 3)) {
        this.restarting = false;
        this.restarts = 0;
        clearTimeout(this.timers.connect);
        this.timers.connect = undefined;
      }
      if (!this.restarting) this.setBadge(st.route);
    }
  }

  /**
   * The safety net under adoptSenders: a sender that has been sending for
   * SEAL_CHECK_MS while the worker sealed nothing for it bypasses its
   * transform. It is silenced at once, and the connection rebuilt (a new
   * negotiation sets the transforms again); after MAX_BYPASS_REBUILDS it
   * stays silent.
   * @param {'audio' | 'video'} kind
   * @param {number} sent  frames encoded (video) or packets sent (audio) so far
   */
  checkSealed(kind, sent) {
    const c = this.sealCheck[kind];
    if (sent === 0 || this.unsealed.has(kind)) return;
    const now = performance.now();
    if (!c.since) {
      c.since = now;
      return;
    }
    if (now - c.since < SEAL_CHECK_MS || this.mesh.guard.sealedCount(this.tab, kind) > c.base) return;
    console.error(`xroom: ${kind} to ${this.tab} is not passing through the encryption transform; silenced`);
    this.unsealed.add(kind);
    this.bypasses += 1;
    this.mesh.guard.sendingUnsealed(this.tab, [...this.unsealed]);
    const t = kind === 'audio' ? this.sendAudio : this.sendVideo;
    t?.sender.replaceTrack(null).catch(() => {});
    if (this.bypasses <= MAX_BYPASS_REBUILDS) this.rebuild(this.gen + 1, true, true);
  }

  /** For the test hook. */
  snapshot() {
    const sender = this.sendVideo?.sender;
    const enc = sender?.getParameters().encodings?.[0];
    return {
      tab: this.tab,
      peerId: this.peerId,
      gen: this.gen,
      polite: this.polite,
      badge: this.badge,
      relayProblem: this.relayProblem,
      connectionState: this.pc.connectionState,
      descUfrag: localUfrag(this.pc),
      signalingState: this.pc.signalingState,
      remote: { ...this.remote },
      ...this.stats,
      ...this.counters,
      transceivers: this.pc.getTransceivers().length,
      unsealed: [...this.unsealed],
      bypasses: this.bypasses,
      relayOnly: this.pc.getConfiguration().iceTransportPolicy === 'relay',
      ...this.mesh.guard.status(this.tab),
      sending: {
        audio: this.sendAudio?.sender.track?.label ?? null,
        video: this.sendVideo?.sender.track?.label ?? null,
        maxBitrate: enc?.maxBitrate ?? null,
        maxFramerate: enc?.maxFramerate ?? null,
        scaleResolutionDownBy: enc?.scaleResolutionDownBy ?? null,
      },
    };
  }

  closePc() {
    this.closed = true;
    for (const t of Object.values(this.timers)) clearTimeout(t);
    this.timers = {};
    try { this.pc.close(); } catch { /* already */ }
  }

  close() {
    this.closePc();
  }

  /** Test hook: act as if ICE had failed on this connection. */
  forceIceFailure() {
    this.onConnectionState('failed');
  }

  /** Test hook: the connection dies silently on this side (no bye). */
  killSilently() {
    try { this.pc.close(); } catch { /* already */ }
  }
}
