// @ts-check
// negotiation.js: perfect negotiation of one RTCPeerConnection, and the
// decisions around it as pure functions. The polite side of a pair is
// decided from the two tab ids (both sides agree without a message); when
// offers collide ("glare"), the impolite side ignores the other's offer
// and the polite side rolls its own back and answers. Every SDP and ICE
// operation of a connection runs on one chain, one after the other. Which
// connection a signal is for (a new one, a rebuild in a newer generation,
// a stale one) is decided here too (routeSignal). No DOM.

import { tidySdp } from './sdp.js';
import { fingerprintsOf } from '../e2ee/crypto.js';

/** @typedef {import('../transport/wire.js').Message} Message */
/** @typedef {import('../transport/wire.js').Body} Body */
/** @typedef {import('../transport/wire.js').Candidate} Candidate */

/**
 * The polite side of a pair: the tab whose id sorts higher. Both sides
 * compute it from the same two ids, so exactly one of them is polite.
 * @param {string} ours @param {string} theirs
 */
export function isPolite(ours, theirs) {
  return ours > theirs;
}

/**
 * Whether a description that arrives collides with our own offer: an
 * offer while we are making one or are not stable.
 * @param {'offer' | 'answer'} type @param {boolean} makingOffer @param {RTCSignalingState} state
 */
export function collides(type, makingOffer, state) {
  return type === 'offer' && (makingOffer || state !== 'stable');
}

/**
 * Whether we ignore a description: the impolite side ignores a colliding
 * offer (the polite side rolls back and takes it).
 * @param {boolean} polite @param {'offer' | 'answer'} type @param {boolean} makingOffer @param {RTCSignalingState} state
 */
export function ignoresOffer(polite, type, makingOffer, state) {
  return !polite && collides(type, makingOffer, state);
}

/**
 * What a signal from another tab does, given our connection to that tab
 * (if any). A tab we do not know: greeted (a hello without ack), we only
 * greet back ('greet'), in a generation past the greeter's, so that a
 * connection it may still hold for us from before is rebuilt, not reused;
 * the connection (and its tile) comes with its first offer, which is
 * signed for our tab: a first greeting is the one signal not bound to our
 * tab (the sender does not know it yet), so one recorded earlier and
 * replayed makes nothing appear (e2ee/signal-codec.js). Answered (a hello
 * with ack), we make the first offer, so the newcomer's receivers are
 * negotiated first; an offer makes a connection. A newer generation rebuilds ours; a message of an older one is from
 * a connection that has been replaced (a hello still counts). `key`,
 * `key-ack` and `bye` are not about a connection: the mesh handles them
 * before this.
 * @param {{gen: number} | undefined} p
 * @param {Message} msg
 * @returns {{act: 'add' | 'rebuild', gen: number, expectOffer: boolean} | {act: 'greet', gen: number} | {act: 'deliver' | 'drop'}}
 */
export function routeSignal(p, msg) {
  if (!p) {
    if (msg.kind === 'hello') return msg.ack ? { act: 'add', gen: msg.gen, expectOffer: false } : { act: 'greet', gen: msg.gen + 1 };
    if (msg.kind === 'sdp' && msg.description.type === 'offer') return { act: 'add', gen: msg.gen, expectOffer: false };
    return { act: 'drop' };
  }
  if (msg.gen > p.gen) return { act: 'rebuild', gen: msg.gen, expectOffer: !(msg.kind === 'hello' && msg.ack) };
  if (msg.gen < p.gen && msg.kind !== 'hello') return { act: 'drop' };
  return { act: 'deliver' };
}

/**
 * What we do on a hello from a tab we have a connection to: greet back
 * with our generation (it does not know us, or knows an older one: it
 * rebuilds to ours), or, answered while we wait for its first offer that
 * has not come, open the negotiation ourselves.
 * @param {{ack: boolean, gen: number}} hello
 * @param {{gen: number, reachable: boolean, expectOffer: boolean, hasRemote: boolean}} we
 * @returns {'greet' | 'offer' | 'none'}
 */
export function answerHello(hello, we) {
  if ((!hello.ack || hello.gen < we.gen) && we.reachable) return 'greet';
  if (hello.ack && we.expectOffer && !we.hasRemote) return 'offer';
  return 'none';
}

/**
 * What a Negotiation needs from its peer connection's owner (call/peer.js).
 * @typedef {{
 *   tab: string, polite: boolean, pc: RTCPeerConnection, closed: boolean,
 *   canSignal: boolean,
 *   send: (body: Body) => boolean,
 *   renew: () => void,
 *   adoptSenders: () => Promise<void>,
 *   negotiated: () => void,
 * }} NegotiationHost
 *   renew: a new RTCPeerConnection in the next generation, announced;
 *   adoptSenders: send on the transceivers the other side's offer made;
 *   negotiated: a description pair was applied.
 */

/** Perfect negotiation of one RTCPeerConnection, with its operations chain. */
export class Negotiation {
  /**
   * @param {RTCPeerConnection} pc
   * @param {NegotiationHost} host
   * @param {boolean} expectOffer  the other side makes the first offer
   */
  constructor(pc, host, expectOffer) {
    this.pc = pc;
    this.host = host;
    /** Every SDP and ICE operation runs on this chain, one after the other. */
    /** @type {Promise<void>} */
    this.ops = Promise.resolve();
    this.makingOffer = false;
    this.ignoreOffer = false;
    /** the other side makes the first offer (the peer waits OFFER_WAIT_MS for it) */
    this.expectOffer = expectOffer;
    /** an offer is due but the peer could not be reached */
    this.pendingNegotiation = false;
    pc.addEventListener('negotiationneeded', () => {
      if (pc !== host.pc) return;
      this.enqueue(async () => {
        if (this.expectOffer && !pc.remoteDescription) return; // the other side opens
        await this.offer();
      });
    });
  }

  /**
   * Runs `fn` after every operation queued before it; a failure is logged
   * and does not stop the chain. Nothing runs once the connection is
   * replaced; a connection found closed under us is renewed.
   * @param {() => Promise<void> | void} fn
   */
  enqueue(fn) {
    const pc = this.pc;
    const host = this.host;
    this.ops = this.ops.then(async () => {
      if (host.closed || pc !== host.pc) return;
      if (pc.signalingState === 'closed') {
        host.renew();
        return;
      }
      await fn();
    }).catch((e) => {
      console.warn(`xroom: operation on the connection to ${host.tab} failed`, e);
    });
  }

  async offer() {
    const pc = this.pc;
    if (pc.signalingState !== 'stable') return;
    if (!this.host.canSignal) {
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
    this.host.send({ kind: 'sdp', description: { type: d.type, sdp: d.sdp } });
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
  }

  /** @param {{type: 'offer' | 'answer', sdp: string}} description */
  async onDescription(description) {
    const pc = this.pc;
    if (fingerprintsOf(description.sdp).size > 1) {
      // DTLS would take a certificate matching any of them: a second one
      // is room for someone in the middle. Refused, never applied.
      console.error(`xroom: a description from ${this.host.tab} with more than one DTLS fingerprint refused`);
      return;
    }
    this.ignoreOffer = ignoresOffer(this.host.polite, description.type, this.makingOffer, pc.signalingState);
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
      console.warn(`xroom: answer from ${this.host.tab} refused; rebuilding the connection`, e);
      this.host.renew();
      return;
    }
    if (description.type === 'offer') {
      await this.host.adoptSenders();
      await pc.setLocalDescription();
      if (pc.localDescription) this.sendSdp(pc.localDescription);
    }
    this.expectOffer = false;
    this.host.negotiated();
  }

  /** @param {Candidate} candidate */
  async onCandidate(candidate) {
    try {
      await this.pc.addIceCandidate(candidate);
    } catch (e) {
      if (!this.ignoreOffer) throw e;
    }
  }
}
