// @ts-check
// transfer.js (files/): one transfer, its states, and the rules of the
// exchange as pure functions of it, which the sending half (sender.js),
// the receiving half (receiver.js) and FileTransfers (transfers.js) apply.
// A transfer seen from the sender:
//   offered ──offer──▶ (the receiver is asked: `asking`)
//   ◀── accept: sending (chunks in order, each with its hash)
//   ◀── ack {have}    every ACK_EVERY chunks the receiver has written
//   ◀── nack {i}      chunk i failed its hash: back to i
//   end {root} ──▶    then the receiver re-reads the file (verifying)
//   ◀── done
// and `paused` while the channel is down (resume {have} goes on from the
// first chunk not yet written). declined, cancelled, failed and done end
// it. No DOM, no channel: numbers and states only.

import { chunkCount } from './wire.js';

/** @typedef {import('./store.js').Sink} Sink */
/** @typedef {import('./store.js').Store} Store */
/** @typedef {import('./channel.js').FileLink} FileLink */

/**
 * Bytes sent but not yet acknowledged as written by the receiver: the
 * send buffer, what is on the way, the block being gathered and the one
 * being written, with room to spare so the sender never waits for an ack.
 */
export const WINDOW = 12 * 1024 * 1024;
/** The receiver acknowledges every this many chunks. */
export const ACK_EVERY = 8;
/**
 * The sender reads the file, and the receiver writes it, in blocks of this
 * size, not chunk by chunk: each read of a Blob and each write of a sync
 * access handle has a fixed cost (measured: 64 KiB writes cost three times
 * as much per byte as 1 MiB ones, 4 MiB a little less again).
 */
export const BLOCK = 4 * 1024 * 1024;
/** A receiver gives up after this many chunks that failed their hash. */
export const MAX_CORRUPT = 8;

/**
 * @typedef {'offered' | 'asking' | 'sending' | 'receiving' | 'paused' | 'verifying' | 'done' | 'declined' | 'cancelled' | 'failed'} TransferState
 * @typedef {{
 *   id: string, dir: 'out' | 'in', tab: string, group: string,
 *   name: string, size: number, mime: string, chunk: number, chunks: number,
 *   state: TransferState, reason: string, by: 'me' | 'peer' | '',
 *   have: number, next: number, maxSent: number,
 *   sentBytes: number, resentBytes: number, corrupt: number,
 *   startedAt: number, endedAt: number, rate: number,
 *   samples: Array<[number, number]>,
 *   hashes: Array<Uint8Array | undefined>, root: Uint8Array | null, endSent: boolean,
 *   file: Blob | null, sink: Sink | null, chain: Promise<void>, pumping: boolean,
 *   result: File | Blob | null,
 *   block: {from: number, bytes: Uint8Array} | null, held: Uint8Array[], heldFrom: number,
 *   hashing: Set<Promise<unknown>>, written: Promise<void>,
 * }} Transfer
 *   have: chunks the receiver has written (and, on the sender, acknowledged);
 *   next: the next chunk to send or to expect; maxSent: one past the
 *   highest chunk ever sent (what is sent again below it is resent).
 */

/**
 * @typedef {{
 *   offer: {transfer: Transfer},
 *   update: {transfer: Transfer},
 *   corrupt: {transfer: Transfer, index: number},
 * }} FileEvents
 *
 * What the sending and receiving halves (sender.js, receiver.js) use of
 * FileTransfers: its channels, store, settings, test switches, and the
 * ending of a transfer.
 * @typedef {{
 *   link: FileLink, store: Store, window: number, block: number,
 *   rateLimit: number, corruptNext: number, paced: {from: number, bytes: number},
 *   counters: {chunksSent: number, chunksReceived: number, refused: number},
 *   transfers: Map<string, Transfer>,
 *   setState: (t: Transfer, state: TransferState) => void,
 *   end: (t: Transfer, state: TransferState, reason: string, by: 'me' | 'peer' | '') => void,
 *   emit: <K extends keyof FileEvents>(type: K, ev: FileEvents[K]) => void,
 * }} Hub
 */

/**
 * A new transfer in state `offered`.
 * @param {'out' | 'in'} dir @param {string} tab @param {string} id @param {string} group
 * @param {string} name @param {number} size @param {string} mime @param {number} chunk
 * @returns {Transfer}
 */
export function makeTransfer(dir, tab, id, group, name, size, mime, chunk) {
  return {
    id, dir, tab, group, name, size, mime, chunk, chunks: chunkCount(size, chunk),
    state: 'offered', reason: '', by: '',
    have: 0, next: 0, maxSent: 0, sentBytes: 0, resentBytes: 0, corrupt: 0,
    startedAt: 0, endedAt: 0, rate: 0, samples: [],
    hashes: [], root: null, endSent: false,
    file: null, sink: null, chain: Promise.resolve(), pumping: false, result: null,
    block: null, held: [], heldFrom: 0, hashing: new Set(), written: Promise.resolve(),
  };
}

/** A transfer's key in FileTransfers' map. @param {'out' | 'in'} dir @param {string} tab @param {string} id */
export function transferKey(dir, tab, id) {
  return `${dir}:${tab}:${id}`;
}

/** Whether a transfer is over (nothing more happens to it). @param {Transfer} t */
export function isEnded(t) {
  return t.state === 'done' || t.state === 'declined' || t.state === 'cancelled' || t.state === 'failed';
}

/**
 * Which of our transfers a control message from the other side is about:
 * an answer (`accept`, `ack`, …) is about one we send, anything else about
 * one we receive; a `cancel` may be about either (`in` is tried first).
 * @param {string} type
 * @returns {'out' | 'in'}
 */
export function directionOf(type) {
  return ['file-accept', 'file-decline', 'file-ack', 'file-nack', 'file-resume', 'file-done'].includes(type) ? 'out' : 'in';
}

/**
 * Whether the sender starts (or goes on) sending on `accept` or
 * `resume`: an accept only for an offer still waiting; a resume also for
 * one sending or paused.
 * @param {Transfer} t @param {string} type
 */
export function startsSending(t, type) {
  if (t.state === 'offered') return true;
  return type === 'file-resume' && (t.state === 'sending' || t.state === 'paused');
}

/**
 * The sender goes back to chunk `i`: the receiver has written exactly the
 * chunks before it.
 * @param {Transfer} t @param {number} i
 */
export function rewind(t, i) {
  t.have = i;
  t.next = i;
  t.endSent = false;
}

/**
 * Whether an ack for `have` chunks counts: it moves forward, and never past
 * what was sent.
 * @param {Transfer} t @param {number} have
 */
export function takesAck(t, have) {
  return have > t.have && have <= t.maxSent;
}

/**
 * Whether a nack for chunk `i` counts: a chunk sent and not yet written.
 * @param {Transfer} t @param {number} i
 */
export function takesNack(t, i) {
  return i < t.next && i >= t.have;
}

/**
 * Whether the sender must wait for acks: `window` bytes are sent and not
 * yet acknowledged as written.
 * @param {Transfer} t @param {number} window
 */
export function windowFull(t, window) {
  return (t.next - t.have) * t.chunk >= window;
}

/**
 * Whether the receiver acknowledges after writing up to `have` (from
 * `before`): every ACK_EVERY chunks, and at the end.
 * @param {number} before @param {number} have @param {number} chunks
 */
export function ackDue(before, have, chunks) {
  return Math.floor(have / ACK_EVERY) > Math.floor(before / ACK_EVERY) || have === chunks;
}

/**
 * Bytes chunk `i` must have; -1 for an index past the end.
 * @param {Transfer} t @param {number} i
 */
export function chunkLength(t, i) {
  if (i >= t.chunks) return -1;
  return i === t.chunks - 1 ? t.size - i * t.chunk : t.chunk;
}

/**
 * The rate over the last few seconds, bytes per second.
 * @param {Transfer} t @param {number} now @param {number} done
 */
export function sample(t, now, done) {
  t.samples.push([now, done]);
  while (t.samples.length > 2 && now - t.samples[0][0] > 3000) t.samples.shift();
  const [t0, b0] = t.samples[0];
  if (now - t0 > 250) t.rate = ((done - b0) * 1000) / (now - t0);
}

/**
 * Bytes done: written and acknowledged.
 * @param {Transfer} t
 */
export function doneBytes(t) {
  if (t.state === 'done') return t.size;
  return Math.min(t.size, t.have * t.chunk);
}

/**
 * Percent, rate and time left of a transfer, for the view.
 * @param {Transfer} t
 */
export function progressOf(t) {
  const done = doneBytes(t);
  const percent = t.size === 0 ? (t.state === 'done' ? 100 : 0) : Math.floor((done * 100) / t.size);
  const left = t.rate > 0 ? (t.size - done) / t.rate : Infinity;
  return { done, percent, rate: t.rate, secondsLeft: left };
}
