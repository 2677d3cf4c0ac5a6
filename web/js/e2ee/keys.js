// @ts-check
// keys.js: the bookkeeping of media keys and locks, as pure functions of
// what e2ee.js keeps per remote tab. Our key ids count up one byte (a
// frame names its key in one byte); a new key is used once every peer
// still here has acknowledged it; a key not acknowledged is sent again;
// and the lock on a tile is green only when keys are current both ways
// and frames authenticate. No DOM, no worker, no WebCrypto.

/** A peer's previous key is kept this long after it sends a new one (frames in flight). */
export const PREVIOUS_KEY_MS = 10_000;
/** Our key is sent again to a peer that has not acknowledged it after this. */
export const KEY_RESEND_MS = 2000;
/** A peer asking for our key again is answered unless we sent it this recently. */
const RESEND_ON_ASK_MS = 500;
/** Refused frames of a kind make the lock red if none of that kind opened for this long. */
const REFUSED_FOR_MS = 2000;

/** @typedef {'pending' | 'secure' | 'alert'} Lock */
/** @typedef {'audio' | 'video'} Kind */
/**
 * The worker's counters for one remote tab (e2ee/worker.js).
 * @typedef {{tab: string, encAudio: number, encVideo: number, decAudio: number, decVideo: number, authFailed: number,
 *   noKey: number, dropped: number, keyId: number, lastOkAt: number, codecs: string[],
 *   failed: {audio: number, video: number}, okAt: {audio: number, video: number}, lastRefused: object | null,
 *   pipes: {encrypt: number, decrypt: number}, seen: {audio: number, video: number}}} Counters
 */
/**
 * What we keep per remote tab: the id of our key it acknowledged, the id
 * we last sent it and when, the id of its key we hold, its safety code and
 * the fingerprints it was made from, its lock, its refusal counts at the
 * last lock update, whether it is in the call, which of our kinds to it
 * were found unsealed, and the timers that drop its previous keys.
 * @typedef {{acked: number, sentId: number, sentAt: number, recvId: number, safety: string,
 *   fingerprints: string, certsFromStats: boolean, lock: Lock, failedBefore: {audio: number, video: number}, present: boolean, unsealed: string[],
 *   retire: Set<ReturnType<typeof setTimeout>>}} PeerKeys
 */

/** @returns {PeerKeys} */
export function newPeerKeys() {
  return {
    acked: -1, sentId: -1, sentAt: 0, recvId: -1, safety: '', fingerprints: '', certsFromStats: false, lock: 'pending',
    failedBefore: { audio: 0, video: 0 }, present: false, unsealed: [], retire: new Set(),
  };
}

/** The id of the key after `id`: one byte, wrapping. @param {number} id */
export function nextKeyId(id) {
  return (id + 1) & 0xff;
}

/**
 * Whether every peer still in the call has acknowledged key `id` (then we
 * switch to it without waiting).
 * @param {Iterable<PeerKeys>} peers @param {number} id
 */
export function allAcked(peers, id) {
  for (const p of peers) if (p.present && p.acked !== id) return false;
  return true;
}

/**
 * Whether our key `id` is due again to a peer: it is in the call, has not
 * acknowledged it, and we last sent it over KEY_RESEND_MS ago.
 * @param {PeerKeys} p @param {number} id @param {number} now
 */
export function resendDue(p, id, now) {
  return p.present && p.acked !== id && now - p.sentAt > KEY_RESEND_MS;
}

/**
 * Whether a peer that says it lacks our key (it forgot us and came back)
 * gets it again now: unless we just sent it.
 * @param {PeerKeys} p @param {boolean} want @param {number} now
 */
export function answerWant(p, want, now) {
  return want && p.present && now - p.sentAt > RESEND_ON_ASK_MS;
}

/**
 * The lock of a peer. Alert: its audio or its video frames fail to
 * authenticate and none of that kind has opened for REFUSED_FOR_MS (or
 * ever), or ours to it could not be sealed. Secure: it acknowledged our
 * current key, we hold a key of its, and its frames use that key. Pending
 * otherwise. Per kind: a lull in the refusals does not make a kind secure,
 * and audio opening does not make refused video secure.
 * @param {PeerKeys} p
 * @param {Counters | undefined} c  the worker's counters for it, if any yet
 * @param {number} currentId  our current key
 * @param {number} now  wall clock (the worker's okAt is Date.now())
 * @returns {Lock}
 */
export function lockOf(p, c, currentId, now) {
  const refused = !!c && (/** @type {const} */ (['audio', 'video'])).some((k) =>
    (c.failed[k] > p.failedBefore[k] && now - c.okAt[k] > REFUSED_FOR_MS) || (c.failed[k] > 0 && c.okAt[k] === 0));
  if (refused || p.unsealed.length > 0) return 'alert';
  const keysCurrent = p.acked === currentId && p.recvId >= 0 && (!c || c.keyId < 0 || c.keyId === p.recvId);
  return keysCurrent ? 'secure' : 'pending';
}
