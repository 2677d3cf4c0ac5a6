// @ts-check
// open-check.js: the safety net under the decryption of what we receive,
// the mirror of the seal check (seal-check.js) for senders. A receiver
// whose packets have been arriving for OPEN_CHECK_MS while the worker saw
// none of its frames is bypassing its decrypt transform: its tile stays
// black (or its audio garbled) however long one waits. Seen in Chromium
// 156 in four-person calls on a loaded machine: packets on our receiver in
// getStats, the transform running in the worker, and not one frame handed
// to it. The peer (call/peer.js) then rebuilds the connection, whose new
// receivers get their transforms before any negotiation; after
// MAX_BYPASS_REBUILDS it says so in the console and stops trying. No DOM.

import { MAX_BYPASS_REBUILDS, sealVerdict } from './seal-check.js';

/**
 * How long packets may arrive with no frame reaching the worker. Longer
 * than the seal check's: a worker busy on a loaded machine may take a
 * while with the first frames, and a rebuild costs the call seconds.
 */
export const OPEN_CHECK_MS = 5000;

/** @typedef {'audio' | 'video'} Kind */
/**
 * What the check needs of the end-to-end encryption.
 * @typedef {{
 *   openedCount: (tab: string, kind: Kind) => number,
 *   freshOpenedCount: (tab: string, kind: Kind) => Promise<number>,
 * }} OpenCounts
 */

export class OpenCheck {
  /**
   * @param {string} tab  the remote tab
   * @param {OpenCounts} guard
   */
  constructor(tab, guard) {
    this.tab = tab;
    this.guard = guard;
    /** connections rebuilt because a receiver bypassed its transform */
    this.bypasses = 0;
    /** when each receiver started receiving on this connection, and the worker's count then */
    this.watch = { audio: { since: 0, base: 0 }, video: { since: 0, base: 0 } };
    /** @type {Set<Kind>} kinds whose bypass is being confirmed with the worker's count of now */
    this.confirming = new Set();
  }

  /** A new RTCPeerConnection: the check starts over. */
  reset() {
    for (const kind of /** @type {const} */ (['audio', 'video'])) {
      this.watch[kind] = { since: 0, base: this.guard.openedCount(this.tab, kind) };
    }
  }

  /**
   * One stats poll: true when the connection should be rebuilt because
   * what arrives for `kind` does not reach the decrypt transform.
   * @param {Kind} kind
   * @param {number} received  audio packets or video frames received so far
   * @returns {Promise<boolean>}
   */
  async check(kind, received) {
    if (this.confirming.has(kind)) return false;
    const w = this.watch[kind];
    const now = performance.now();
    const verdict = sealVerdict(w, received, this.guard.openedCount(this.tab, kind), now, OPEN_CHECK_MS);
    if (verdict === 'start') w.since = now;
    if (verdict !== 'bypass') return false;
    this.confirming.add(kind);
    let fresh;
    try {
      fresh = await this.guard.freshOpenedCount(this.tab, kind);
    } finally {
      this.confirming.delete(kind);
    }
    if (this.watch[kind] !== w || sealVerdict(w, received, fresh, now, OPEN_CHECK_MS) !== 'bypass') return false;
    w.since = Infinity; // said once per connection
    this.bypasses += 1;
    if (this.bypasses > MAX_BYPASS_REBUILDS) {
      console.error(`xroom: ${kind} from ${this.tab} does not reach the decryption transform; giving up after ${MAX_BYPASS_REBUILDS} rebuilds`);
      return false;
    }
    console.error(`xroom: ${kind} from ${this.tab} does not reach the decryption transform; rebuilding the connection`);
    return true;
  }
}
