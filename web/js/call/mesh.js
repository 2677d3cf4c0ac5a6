// @ts-check
// mesh.js: one connection per remote tab (a full mesh). Connections are
// keyed by tab id (carried in every signal), not by peer id, so a rejoin
// after a daemon restart finds the connections that are still up instead
// of opening new ones. The mesh routes each signal to its connection
// (negotiation.js routeSignal: a new one, a rebuild, or none), greets the
// room on joining, follows the signaling socket going down and up, applies
// the bandwidth caps when the peer count changes, and reports speaking
// levels. Each connection is a Peer (peer.js). No DOM.
//
// End-to-end encryption (e2ee/e2ee.js, behind the Guard interface): the
// frame transforms are put on our receivers as they are made and on our
// senders before a track is put on them; a sender that cannot be protected
// never gets a track. Media keys travel as `key` and `key-ack` signals.

import { Emitter } from '../util/emitter.js';
import { routeSignal } from './negotiation.js';
import { Peer } from './peer.js';
import { Roster } from './roster.js';

/** @typedef {import('../transport/wire.js').Message} Message */
/** @typedef {import('../transport/wire.js').Body} Body */
/** @typedef {import('../e2ee/e2ee.js').Guard} Guard */
/** @typedef {import('./peer.js').Local} Local */
/** @typedef {import('./peer.js').MeshEvents} MeshEvents */

const STATS_MS = 1000;
const LEVELS_MS = 150;
/** First greetings kept until their offer comes. */
const GREETED_MAX = 64;

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
    /** @type {Map<string, import('../transport/wire.js').PeerState>} tabs greeted back, whose offer has not come: their state, by tab */
    this.greeted = new Map();
    /** everyone the daemon admitted (roster.js) */
    this.roster = new Roster();
    this.signalingUp = false;
    /** @type {RTCIceServer[]} */
    this.iceServers = [];
    this.closed = false;
    /** a level poll is running (they may take longer than LEVELS_MS) */
    this.pollingLevels = false;
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
    for (const p of this.peers.values()) {
      p.setIceServers(iceServers);
      // Goodbyes are sealed for our peer id, which a rejoin changed.
      if (p.peerId) this.local.prepareBye(p.peerId, { tab: this.tab, gen: p.gen, kind: 'bye' });
    }
    this.roster.welcome(peerIds, performance.now());
    for (const id of peerIds) this.sendHello(id, false, 0);
  }

  /** The daemon admitted someone. @param {string} peerId */
  peerJoined(peerId) {
    this.roster.joined(peerId, performance.now());
  }

  /** How many the daemon admitted that have not connected with us (after a grace period). */
  unconnected() {
    const bound = new Set();
    for (const p of this.peers.values()) if (p.peerId) bound.add(p.peerId);
    return this.roster.unconnected(bound, performance.now());
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
    this.roster.left(peerId);
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
   * A signal from another tab, already opened by the signal codec (e2ee/signal-codec.js).
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
    const r = routeSignal(p, msg);
    if (r.act === 'drop') return;
    if (r.act === 'greet') {
      // A first greeting: greet back; its name and state wait for its offer.
      if (msg.kind !== 'hello') return;
      this.greeted.delete(msg.tab);
      this.greeted.set(msg.tab, { name: msg.name, mic: msg.mic, cam: msg.cam, screen: msg.screen });
      if (this.greeted.size > GREETED_MAX) this.greeted.delete(/** @type {string} */ (this.greeted.keys().next().value));
      this.sendHello(from, true, r.gen);
      return;
    }
    if (r.act === 'add') {
      p = this.add(msg.tab, r.gen, from, r.expectOffer);
      const st = this.greeted.get(msg.tab);
      this.greeted.delete(msg.tab);
      if (st) p.setRemote(st);
    } else if (r.act === 'rebuild') p?.rebuild(r.gen, r.expectOffer);
    if (!p) return;
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
    const now = performance.now();
    for (const p of [...this.peers.values()]) {
      if (p.goneAt(now)) {
        console.info(`xroom: ${p.tab} gone: its connection has been down ${Math.round((now - p.downSince) / 1000)} s`);
        this.remove(p, 'gone');
      } else {
        p.pollStats();
      }
    }
  }

  /**
   * Each peer's audio level: from its synchronization source where the
   * packets carry one, else (the audio-level header extension is not
   * negotiated: sdp.js hideAudioLevel) from the decoded audio, which the
   * receiver's inbound RTP stats report.
   */
  async pollLevels() {
    if (this.pollingLevels) return;
    this.pollingLevels = true;
    try {
      const now = performance.now();
      const wall = Date.now();
      /** @type {Map<string, {level: number, speaking: boolean}>} */
      const levels = new Map();
      await Promise.all([...this.peers.values()].map(async (p) => {
        const receiver = p.recvAudio.receiver;
        const src = receiver.getSynchronizationSources?.() ?? [];
        // Browsers differ on the timebase of `timestamp` (page or wall clock).
        const fresh = src.find((s) => Math.min(Math.abs(now - s.timestamp), Math.abs(wall - s.timestamp)) < 1000);
        let level = fresh?.audioLevel;
        if (fresh && level === undefined) {
          (await receiver.getStats()).forEach((s) => { if (s.type === 'inbound-rtp' && typeof s.audioLevel === 'number') level = s.audioLevel; });
        }
        level = p.remote.mic && fresh ? (level ?? 0) : 0;
        levels.set(p.tab, { level, speaking: p.speaking.update(level, now) });
      }));
      if (!this.closed) this.emit('levels', { levels });
    } catch (e) {
      console.warn('xroom: no audio levels', e);
    } finally {
      this.pollingLevels = false;
    }
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
