// @ts-check
// senders.js: what we send on one peer connection. We send on the
// transceivers the other side's offer makes for what it receives from us;
// each is protected by the end-to-end encryption (the Guard) before a
// track is put on it, and one that cannot be protected never gets one.
// Here too: the local track on each, the bandwidth caps on the video
// sender (governor.js), and the seal check (seal-check.js) with its
// consequence: a kind found bypassing its transform is silenced. No DOM.

import { applyCaps, capsFor } from './governor.js';
import { MAX_BYPASS_REBUILDS, sealVerdict } from './seal-check.js';
import { hideAudioLevel } from './sdp.js';

/** @typedef {import('../e2ee/e2ee.js').Guard} Guard */
/**
 * Where our tracks come from (the page's media).
 * @typedef {{track: (kind: 'audio' | 'video') => MediaStreamTrack | null, source: () => 'camera' | 'screen'}} Tracks
 */
/** @typedef {'audio' | 'video'} Kind */

export class Senders {
  /**
   * @param {string} tab  the remote tab
   * @param {Guard} guard
   * @param {Tracks} local
   */
  constructor(tab, guard, local) {
    this.tab = tab;
    this.guard = guard;
    this.local = local;
    /** the transceivers the peer's offer made for what it receives from us */
    /** @type {RTCRtpTransceiver | null} */
    this.audio = null;
    /** @type {RTCRtpTransceiver | null} */
    this.video = null;
    /** kinds whose frames were found going out unsealed: their senders stay silent */
    /** @type {Set<Kind>} */
    this.unsealed = new Set();
    /** connections rebuilt because a sender bypassed its transform */
    this.bypasses = 0;
    /** when each sender started sending on this connection, and the sealed count then */
    this.watch = { audio: { since: 0, base: 0 }, video: { since: 0, base: 0 } };
    /** kinds whose bypass is being confirmed with the worker's count of now */
    /** @type {Set<Kind>} */
    this.confirming = new Set();
  }

  /**
   * A new RTCPeerConnection: no senders yet, the seal check starts over,
   * and kinds silenced for a bypass get another chance (up to
   * MAX_BYPASS_REBUILDS).
   */
  reset() {
    this.audio = null;
    this.video = null;
    if (this.bypasses <= MAX_BYPASS_REBUILDS && this.unsealed.size > 0) {
      this.unsealed.clear();
      this.guard.sendingUnsealed(this.tab, []);
    }
    for (const kind of /** @type {const} */ (['audio', 'video'])) {
      this.watch[kind] = { since: 0, base: this.guard.sealedCount(this.tab, kind) };
    }
  }

  /**
   * The other side's offer created transceivers for what it wants to
   * receive: we send on those. Must run right after setRemoteDescription
   * resolves, with no await before the transforms are set: Chromium
   * short-circuits the encoded-frame path of a sender that has no
   * transform one task after the description that created it, and a
   * transform set later is silently skipped (its frames would go out
   * unsealed; the receiver drops them, and check() catches it).
   * @param {RTCPeerConnection} pc
   * @param {RTCRtpTransceiver[]} ours  our receiving transceivers (not for sending)
   */
  async adopt(pc, ours) {
    /** @type {RTCRtpTransceiver[]} */
    const adopted = [];
    // What the offer just applied may have brought back (Chromium resets
    // a transceiver's extensions when an offer's m-line takes it): the
    // answer leaves the clear audio level out, ours and theirs.
    for (const t of pc.getTransceivers()) if (t.receiver.track.kind === 'audio' && t.currentDirection !== 'stopped') hideAudioLevel(t);
    for (const t of pc.getTransceivers()) {
      if (ours.includes(t) || t.currentDirection === 'stopped' || !t.mid) continue;
      const kind = /** @type {Kind} */ (t.receiver.track.kind);
      if (kind === 'audio' && (!this.audio || this.audio === t)) {
        this.audio = t;
      } else if (kind === 'video' && (!this.video || this.video === t)) {
        this.video = t;
      } else {
        if (t.direction !== 'inactive') t.direction = 'inactive'; // more than we expect: refuse it
        continue;
      }
      if (!this.guard.protectSender(this.tab, t.sender, kind)) {
        // Frames on it could not be sealed: it sends nothing, ever.
        if (t.direction !== 'inactive') t.direction = 'inactive';
        if (t === this.audio) this.audio = null; else this.video = null;
        continue;
      }
      if (t.direction !== 'sendonly') t.direction = 'sendonly';
      adopted.push(t);
    }
    // Each gets its track once its transform runs in the worker: a frame
    // encoded before that could leave unsealed (seen in Chromium 156: the
    // first few audio frames of a connection refused by the receiver).
    await Promise.all(adopted.map((t) => this.guard.transformRunning(t.sender)));
    for (const t of adopted) {
      const track = this.trackFor(/** @type {Kind} */ (t.receiver.track.kind));
      if (t.sender.track !== track) await t.sender.replaceTrack(track);
    }
  }

  /** What we send of `kind`: the local track, or nothing while that kind is silenced. @param {Kind} kind */
  trackFor(kind) {
    return this.unsealed.has(kind) ? null : this.local.track(kind);
  }

  /** The local track of `kind` changed. @param {Kind} kind */
  replaceTrack(kind) {
    const t = kind === 'audio' ? this.audio : this.video;
    if (!t) return;
    const track = this.trackFor(kind);
    if (t.sender.track === track) return;
    t.sender.replaceTrack(track).catch((e) => console.warn('xroom: replaceTrack failed', e));
  }

  /** The governor's caps on our video sender. @param {number} peers  how many peers we send video to */
  async govern(peers) {
    const sender = this.video?.sender;
    if (!sender) return;
    const s = this.local.track('video')?.getSettings() ?? {};
    await applyCaps(sender, capsFor(peers, this.local.source(), { width: s.width, height: s.height }));
  }

  /**
   * The seal check for one of our senders, after a stats poll: one that
   * bypasses its transform is silenced at once. True when the connection
   * should then be rebuilt (a new negotiation sets the transforms again);
   * after MAX_BYPASS_REBUILDS it stays silent.
   * @param {Kind} kind
   * @param {number} sent  frames encoded (video) or packets sent (audio) so far
   * @returns {Promise<boolean>}
   */
  async check(kind, sent) {
    if (this.unsealed.has(kind) || this.confirming.has(kind)) return false;
    const w = this.watch[kind];
    const now = performance.now();
    const verdict = sealVerdict(w, sent, this.guard.sealedCount(this.tab, kind), now);
    if (verdict === 'start') w.since = now;
    if (verdict !== 'bypass') return false;
    // Only on the worker's count of now: the last one may be stale.
    this.confirming.add(kind);
    let fresh;
    try {
      fresh = await this.guard.freshSealedCount(this.tab, kind);
    } finally {
      this.confirming.delete(kind);
    }
    if (this.watch[kind] !== w || this.unsealed.has(kind) ||
        sealVerdict(w, sent, fresh, now) !== 'bypass') return false;
    console.error(`xroom: ${kind} to ${this.tab} is not passing through the encryption transform; silenced`);
    this.unsealed.add(kind);
    this.bypasses += 1;
    this.guard.sendingUnsealed(this.tab, [...this.unsealed]);
    const t = kind === 'audio' ? this.audio : this.video;
    t?.sender.replaceTrack(null).catch(() => {});
    return this.bypasses <= MAX_BYPASS_REBUILDS;
  }

  /** For the test hook. */
  snapshot() {
    const enc = this.video?.sender.getParameters().encodings?.[0];
    return {
      unsealed: [...this.unsealed],
      bypasses: this.bypasses,
      sending: {
        audio: this.audio?.sender.track?.label ?? null,
        video: this.video?.sender.track?.label ?? null,
        maxBitrate: enc?.maxBitrate ?? null,
        maxFramerate: enc?.maxFramerate ?? null,
        scaleResolutionDownBy: enc?.scaleResolutionDownBy ?? null,
      },
    };
  }
}
