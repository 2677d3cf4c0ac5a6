// @ts-check
// seal-check.js: the safety net under the end-to-end encryption of what
// we send. A sender that has been sending for SEAL_CHECK_MS while the
// worker sealed nothing for it is bypassing its transform (Chromium skips
// a transform set too late, and its frames would go out unsealed; the
// receiver drops them). The peer (call/peer.js) then silences that kind at
// once and rebuilds the connection, whose new negotiation sets the
// transforms again; after MAX_BYPASS_REBUILDS it stays silent. Pure.

/** A sender sending this long with nothing sealed by the worker is bypassing its transform. */
export const SEAL_CHECK_MS = 3000;
/** Rebuilds tried for a bypassing sender before it stays silent. */
export const MAX_BYPASS_REBUILDS = 2;

/**
 * @typedef {{since: number, base: number}} SealWatch
 *   when a sender started sending on this connection (0: not yet), and the
 *   worker's sealed count for it then
 */

/**
 * What one stats poll says about a sender: `start` (it has begun sending:
 * note when), `wait` (nothing to say yet, or frames are being sealed), or
 * `bypass`. open-check.js asks the same of a receiver: `sent` is then what
 * arrived, `sealed` what reached the decrypt transform.
 * @param {SealWatch} w
 * @param {number} sent  frames encoded (video) or packets sent (audio) so far
 * @param {number} sealed  frames the worker has sealed for it so far
 * @param {number} now
 * @param {number} [patience]  how long to wait (open-check.js waits longer)
 * @returns {'start' | 'wait' | 'bypass'}
 */
export function sealVerdict(w, sent, sealed, now, patience = SEAL_CHECK_MS) {
  if (sent === 0) return 'wait';
  if (!w.since) return 'start';
  if (now - w.since < patience || sealed > w.base) return 'wait';
  return 'bypass';
}
