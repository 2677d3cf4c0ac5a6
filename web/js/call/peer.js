// @ts-check
// peer.js: the connection to one remote tab, across the RTCPeerConnections
// it goes through. Each is built with our two receiving transceivers
// (audio, video; recvonly) and the two data channels before any
// negotiation, and sends on the transceivers the other side's offer makes,
// so every receiver exists before the first offer or answer (receiver
// transforms for end-to-end encryption must be set then), and turning the
// camera off or sharing a screen is a replaceTrack, never a
// renegotiation. Perfect negotiation: negotiation.js. ICE restarts when the
// connection fails or stays disconnected, a rebuild (a new
// RTCPeerConnection in a new generation, announced by a hello) when
// restarts do not help; dropped when the peer can neither be reached
// through the room nor is connected. Badges from getStats (stats.js); what
// we send, its caps and its seal check: senders.js. No DOM.

import { DATA_CHANNEL, FILE_CHANNEL } from '../transport/channels.js';
import { SpeakingDetector } from './media.js';
import { Negotiation, answerHello, isPolite } from './negotiation.js';
import { OpenCheck } from './open-check.js';
import { Senders } from './senders.js';
import { hideAudioLevel } from './sdp.js';
import { connectedBadge, emptyStats, readStats, restartDone, retryBadge, ufragOf, unreachableBadge } from './stats.js';

/** @typedef {import('../transport/wire.js').Message} Message */
/** @typedef {import('../transport/wire.js').PeerState} PeerState */
/** @typedef {import('../transport/wire.js').Body} Body */
/** @typedef {import('../e2ee/e2ee.js').Guard} Guard */
/** @typedef {import('./stats.js').Badge} Badge */
/** @typedef {import('./stats.js').PeerStats} PeerStats */

/** A connection disconnected this long gets an ICE restart. */
export const DISCONNECTED_RESTART_MS = 3000;
/**
 * A connection not (re)connected this long after a start or restart is
 * restarted again; each further try in a row waits twice as long, up to
 * CONNECT_TIMEOUT_CAP_MS (a restart in the middle of a slow handshake, on
 * a loaded device, starts it over).
 */
export const CONNECT_TIMEOUT_MS = 12000;
export const CONNECT_TIMEOUT_CAP_MS = 24000;

/** How long the try after `attempts` failed ones in a row may take. @param {number} attempts */
export function connectTimeout(attempts) {
  return Math.min(CONNECT_TIMEOUT_CAP_MS, CONNECT_TIMEOUT_MS * 2 ** Math.max(0, Math.min(attempts, 8)));
}
/** After this many restarts in a row without success, the connection is rebuilt. */
export const MAX_RESTARTS = 2;
/** The side that waits for the other's first offer makes its own after this. */
export const OFFER_WAIT_MS = 3000;
/** A peer without a signaling path whose connection is down this long is dropped. */
export const LOST_PEER_MS = 8000;
/** The same while our own signaling is down (the peer may come back with it). */
export const LOST_PEER_OFFLINE_MS = 30000;
/**
 * A peer whose connection was up once and has been down this long is gone,
 * whatever the daemon says: a departure the daemon hides (no `peer-left`,
 * the goodbye dropped) still removes it, and so still changes our media
 * key (e2ee.js). Restarts and rebuilds go on until then.
 */
export const GONE_PEER_MS = 30000;

/**
 * Whether a peer is gone: its connection was up once (`upOnce`) and has
 * been down since `downSince` for GONE_PEER_MS.
 * @param {boolean} upOnce @param {number} downSince  0: not down @param {number} now
 */
export function isGone(upOnce, downSince, now) {
  return upOnce && downSince > 0 && now - downSince >= GONE_PEER_MS;
}

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
 *   'peer-added': {tab: string},
 *   'peer-removed': {tab: string, reason: string},
 *   'peer-updated': {tab: string},
 *   'peer-stream': {tab: string, stream: MediaStream},
 *   'peer-channel': {tab: string, channel: RTCDataChannel, files: RTCDataChannel},
 *   levels: {levels: Map<string, {level: number, speaking: boolean}>},
 * }} MeshEvents
 */

/**
 * What a Peer uses of the mesh (call/mesh.js).
 * @typedef {{
 *   tab: string, local: Local, guard: Guard, iceServers: RTCIceServer[], relayOnly: boolean,
 *   signalingUp: boolean, sendingTo: number,
 *   emit: <K extends keyof MeshEvents>(type: K, ev: MeshEvents[K]) => void,
 *   sendHello: (peerId: string, ack: boolean, gen: number) => void,
 *   remove: (p: Peer, reason: string) => void,
 * }} PeerHost
 */

export class Peer {
  // One RTCPeerConnection and what belongs to it: build() sets these anew
  // for each (null only until the constructor calls it).
  /** @type {RTCPeerConnection} */ pc = /** @type {never} */ (null);
  /** @type {RTCRtpTransceiver} our receiving audio transceiver, made before any negotiation */
  recvAudio = /** @type {never} */ (null);
  /** @type {RTCRtpTransceiver} */ recvVideo = /** @type {never} */ (null);
  /** @type {MediaStream} what the peer sends us: the tracks of recvAudio and recvVideo */
  stream = /** @type {never} */ (null);
  /** @type {RTCDataChannel} the sealed data channel (transport/data-link.js) */
  channel = /** @type {never} */ (null);
  /** @type {RTCDataChannel} the sealed file-transfer channel (features/files/) */
  fileChannel = /** @type {never} */ (null);
  /** @type {Negotiation} */ neg = /** @type {never} */ (null);
  closed = false;
  everConnected = false;
  /** whether this browser took the audio level out of what it negotiates (sdp.js hideAudioLevel) */
  audioLevelHidden = false;
  /** the connection to this tab was up once, in any generation */
  upOnce = false;
  /** when it last went down (0: it is up, or never was) */
  downSince = 0;
  /** ICE restarts in a row without success */
  restarts = 0;
  /** an ICE restart is under way (until the new ICE generation carries the media) */
  restarting = false;
  /** relay candidates gathered */
  relayGathered = 0;

  /**
   * @param {PeerHost} mesh
   * @param {string} tab
   * @param {number} gen
   * @param {boolean} expectOffer
   */
  constructor(mesh, tab, gen, expectOffer) {
    this.mesh = mesh;
    this.tab = tab;
    this.gen = gen;
    /** Perfect negotiation: the polite side yields when offers collide. */
    this.polite = isPolite(mesh.tab, tab);
    /** @type {string | null} the peer id to reach it through the room, while there is one */
    this.peerId = null;
    /** @type {PeerState} */
    this.remote = { name: '', mic: true, cam: true, screen: false };
    /** @type {Badge} */
    this.badge = 'connecting';
    this.speaking = new SpeakingDetector();
    this.stats = emptyStats();
    /** @type {{iceRestarts: number, rebuilds: number, negotiations: number, candidatesSent: Record<string, number>}} */
    this.counters = { iceRestarts: 0, rebuilds: 0, negotiations: 0, candidatesSent: {} };
    /** Relay-only, and the relay server gave this connection no candidate. */
    this.relayProblem = false;
    /** @type {Record<string, ReturnType<typeof setTimeout> | undefined>} */
    this.timers = {};
    /** restarts and rebuilds since the connection was last up (kept across rebuilds) */
    this.attempts = 0;
    /** the local ICE ufrag before the restart, and stats polls since it was negotiated */
    this.restartFrom = '';
    this.restartSettling = 0;
    /** what we send on the current connection */
    this.senders = new Senders(tab, mesh.guard, mesh.local);
    /** whether what we receive reaches the decrypt transform */
    this.opens = new OpenCheck(tab, mesh.guard);
    this.build(expectOffer);
  }

  /**
   * A new RTCPeerConnection with our two receiving transceivers and the
   * two data channels; everything that belongs to one connection starts
   * over here.
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
    this.audioLevelHidden = hideAudioLevel(recvAudio);
    // The sealed data channels (chat, cards, plugins; files): negotiated
    // with fixed ids, so they exist on both sides before any offer.
    this.channel = pc.createDataChannel(DATA_CHANNEL.label, { negotiated: true, id: DATA_CHANNEL.id, ordered: true });
    this.fileChannel = pc.createDataChannel(FILE_CHANNEL.label, { negotiated: true, id: FILE_CHANNEL.id, ordered: true });
    this.pc = pc;
    this.recvAudio = recvAudio;
    this.recvVideo = recvVideo;
    this.stream = new MediaStream([recvAudio.receiver.track, recvVideo.receiver.track]);
    this.closed = false;
    this.neg = new Negotiation(pc, this, expectOffer);
    this.everConnected = false;
    this.restarts = 0;
    this.restarting = false;
    this.senders.reset();
    this.opens.reset();
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
        this.neg.expectOffer = false;
        this.neg.enqueue(() => this.neg.offer());
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
      this.renew();
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
    this.neg.resync();
    if (this.pc.connectionState === 'failed' || (this.pc.connectionState === 'disconnected' && !this.timers.disconnected)) {
      this.restart('rejoined');
    }
  }

  /** @param {Message} msg */
  onMessage(msg) {
    switch (msg.kind) {
      case 'hello': {
        this.setRemote(msg);
        const reply = answerHello(msg, {
          gen: this.gen, reachable: !!this.peerId, expectOffer: this.neg.expectOffer, hasRemote: !!this.pc.remoteDescription,
        });
        if (reply === 'greet' && this.peerId) {
          // Greet back with our tab and generation (from a lower one, they
          // rebuild to ours).
          this.mesh.sendHello(this.peerId, true, this.gen);
        } else if (reply === 'offer') {
          // They know us now: we open the negotiation.
          this.neg.expectOffer = false;
          this.neg.enqueue(() => this.neg.offer());
        }
        break;
      }
      case 'state':
        this.setRemote(msg);
        break;
      case 'sdp':
        this.neg.enqueue(() => this.neg.onDescription(msg.description));
        break;
      case 'ice':
        this.neg.enqueue(() => this.neg.onCandidate(msg.candidate));
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

  /** A description pair was applied (negotiation.js). */
  negotiated() {
    this.counters.negotiations += 1;
    clearTimeout(this.timers.offerWait);
    const pc = this.pc;
    if (pc.localDescription && pc.remoteDescription) {
      this.mesh.guard.negotiated(this.tab, pc.localDescription.sdp, pc.remoteDescription.sdp);
    }
    this.govern();
  }

  /** We send on the transceivers the other side's offer made (senders.js). */
  adoptSenders() {
    return this.senders.adopt(this.pc, [this.recvAudio, this.recvVideo]);
  }

  /** A local track changed. @param {'audio' | 'video'} kind */
  replaceTrack(kind) {
    this.senders.replaceTrack(kind);
  }

  /** Applies the governor's caps to our video sender, in turn with the negotiation. */
  govern() {
    this.neg.enqueue(() => this.senders.govern(this.mesh.sendingTo));
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
      if (this.badge !== 'direct' && this.badge !== 'relayed') this.setBadge(connectedBadge(this.stats.route));
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
    }, connectTimeout(this.attempts));
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
      this.setBadge(unreachableBadge(this.pc.connectionState, this.everConnected));
      return;
    }
    this.attempts += 1;
    this.setBadge(retryBadge(this.attempts));
    if (this.restarts >= MAX_RESTARTS) {
      console.info(`xroom: rebuilding the connection to ${this.tab} (${reason})`);
      this.renew();
      return;
    }
    console.info(`xroom: ICE restart towards ${this.tab} (${reason})`);
    this.restarts += 1;
    this.counters.iceRestarts += 1;
    this.restarting = true;
    this.restartFrom = ufragOf(this.pc.localDescription?.sdp);
    this.restartSettling = 0;
    this.pc.restartIce();
    this.armConnectTimeout();
  }

  /** A new RTCPeerConnection in the next generation, and the other side told. */
  renew() {
    this.rebuild(this.gen + 1, true, true);
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
    this.setBadge(retryBadge(this.attempts));
    this.mesh.emit('peer-stream', { tab: this.tab, stream: this.stream });
    const announced = announce && !!this.peerId && this.mesh.signalingUp;
    if (announced) this.mesh.sendHello(/** @type {string} */ (this.peerId), false, this.gen);
    console.info(`xroom: connection to ${this.tab} in generation ${gen}` +
      `${announce ? (announced ? ', announced' : ', not announced (no signaling path)') : ''}`);
  }

  /**
   * Notes whether the connection is up (every stats poll, across rebuilds);
   * true once the peer is gone (isGone).
   * @param {number} now
   */
  goneAt(now) {
    if (this.pc.connectionState === 'connected') {
      this.upOnce = true;
      this.downSince = 0;
    } else if (this.upOnce && !this.downSince) {
      this.downSince = now;
    }
    return isGone(this.upOnce, this.downSince, now);
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
    const { sent, received } = readStats(byId, { audio: this.recvAudio.mid, video: this.recvVideo.mid }, st);
    if (st.dtls.local && st.dtls.remote) this.mesh.guard.certificates(this.tab, st.dtls.local, st.dtls.remote);
    for (const [kind, n] of sent) {
      if (await this.senders.check(kind, n) && pc === this.pc && !this.closed) this.renew();
    }
    for (const [kind, n] of received) {
      if (pc === this.pc && await this.opens.check(kind, n) && pc === this.pc && !this.closed) this.renew();
    }
    if (pc !== this.pc) return;
    if (pc.connectionState === 'connected' && st.route) {
      const ufrag = ufragOf(pc.localDescription?.sdp);
      const negotiated = this.restarting && pc.signalingState === 'stable' && ufrag !== this.restartFrom;
      if (negotiated) this.restartSettling += 1;
      if (restartDone({ negotiated, pairUfrag: st.localUfrag, ufrag, settling: this.restartSettling })) {
        this.restarting = false;
        this.restarts = 0;
        clearTimeout(this.timers.connect);
        this.timers.connect = undefined;
      }
      if (!this.restarting) this.setBadge(st.route);
    }
  }

  /** For the test hook. */
  snapshot() {
    const { unsealed, bypasses, sending } = this.senders.snapshot();
    return {
      tab: this.tab,
      peerId: this.peerId,
      gen: this.gen,
      polite: this.polite,
      badge: this.badge,
      relayProblem: this.relayProblem,
      connectionState: this.pc.connectionState,
      descUfrag: ufragOf(this.pc.localDescription?.sdp),
      signalingState: this.pc.signalingState,
      remote: { ...this.remote },
      ...this.stats,
      ...this.counters,
      transceivers: this.pc.getTransceivers().length,
      unsealed,
      bypasses,
      relayOnly: this.pc.getConfiguration().iceTransportPolicy === 'relay',
      audioLevelHidden: this.audioLevelHidden,
      ...this.mesh.guard.status(this.tab),
      sending,
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
