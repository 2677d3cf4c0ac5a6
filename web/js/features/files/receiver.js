// @ts-check
// receiver.js (files/): the receiving half of a transfer. An offer is
// shown (`asking`) and nothing more happens before the person accepts:
// then the store is asked for room and the file is created at its whole
// size, and chunks are taken in order. Each is checked against its hash
// (a damaged one is not written: `nack`, and what follows is ignored
// until it comes again), gathered into blocks of `block` bytes and handed
// to the store, which writes in the background; a block is acknowledged
// once written. When all is written and the sender's root is known, the
// file is read back from the store, every chunk hashed again and the root
// compared; only then is it offered (`done`). No DOM.

import { MAX_CORRUPT, ackDue, chunkLength, doneBytes, isEnded, makeTransfer, sample, transferKey } from './transfer.js';
import { decodeChunk, rootOf, same, sha256 } from './wire.js';

/** @typedef {import('./transfer.js').Transfer} Transfer */
/** @typedef {import('./transfer.js').Hub} Hub */

/** Offers waiting for an answer, per peer. */
const MAX_PENDING_OFFERS = 32;

/**
 * An offer: a transfer in state `asking`, shown to the person. Offers
 * beyond MAX_PENDING_OFFERS from one peer are declined at once.
 * @param {Hub} hub @param {string} tab @param {Record<string, any>} m
 */
export function onOffer(hub, tab, m) {
  if (hub.transfers.has(transferKey('in', tab, m.id))) return; // sent again after a reconnect
  const asking = [...hub.transfers.values()].filter((x) => x.dir === 'in' && x.tab === tab && x.state === 'asking').length;
  if (asking >= MAX_PENDING_OFFERS) {
    hub.link.control(tab, { t: 'file-decline', id: m.id });
    return;
  }
  const t = makeTransfer('in', tab, m.id, m.id, m.name, m.size, m.mime, m.chunk);
  t.state = 'asking';
  hub.transfers.set(transferKey('in', tab, m.id), t);
  hub.emit('offer', { transfer: t });
}

/**
 * Accepts an offer: checks the space, opens the file on disk, asks for
 * the first chunk.
 * @param {Hub} hub @param {Transfer} t
 */
export async function accept(hub, t) {
  if (t.dir !== 'in' || t.state !== 'asking') return;
  hub.setState(t, 'receiving');
  try {
    const room = await hub.store.room(t.size);
    if (!room.ok) {
      hub.link.control(t.tab, { t: 'file-cancel', id: t.id, reason: 'no-space' });
      hub.end(t, 'failed', 'no-space', 'me');
      return;
    }
    t.sink = await hub.store.create(`${t.tab}-${t.id}`, t.size);
  } catch (e) {
    console.warn('xroom: cannot store an incoming file', e);
    // The file is given its whole size when created: a full disk shows here.
    const reason = /** @type {Error} */ (e)?.name === 'QuotaExceededError' ? 'no-space' : 'write-error';
    hub.link.control(t.tab, { t: 'file-cancel', id: t.id, reason });
    hub.end(t, 'failed', reason, 'me');
    return;
  }
  if (isEnded(t)) { // cancelled while we opened the file
    await t.sink.discard().catch(() => {});
    return;
  }
  t.startedAt = performance.now();
  if (!hub.link.open(t.tab)) hub.setState(t, 'paused'); // asks when the channel is back
  else hub.link.control(t.tab, { t: 'file-accept', id: t.id });
}

/** @param {Hub} hub @param {Transfer} t */
export function decline(hub, t) {
  if (t.dir !== 'in' || t.state !== 'asking') return;
  hub.link.control(t.tab, { t: 'file-decline', id: t.id });
  hub.end(t, 'declined', '', 'me');
}

/**
 * A channel to the sender opened again: what arrived and was checked is
 * kept once written, and the sender is asked to go on from there.
 * @param {Hub} hub @param {Transfer} t
 */
export function resume(hub, t) {
  hub.setState(t, 'receiving');
  t.chain = t.chain.then(async () => {
    await flush(hub, t);
    t.next = t.have; // anything after the last written chunk comes again
    hub.link.control(t.tab, { t: 'file-resume', id: t.id, have: t.have });
  });
}

/**
 * A chunk message from `tab` (opened): hashed now, in parallel with the
 * chunks before it; checked and written in order.
 * @param {Hub} hub @param {string} tab @param {Uint8Array} plain
 */
export function receiveChunk(hub, tab, plain) {
  const c = decodeChunk(plain);
  const t = c && hub.transfers.get(transferKey('in', tab, c.id));
  if (!c || !t) {
    hub.counters.refused += 1;
    return;
  }
  hub.counters.chunksReceived += 1;
  const digest = sha256(c.data);
  t.chain = t.chain.then(() => onChunk(hub, t, c.index, c.hash, c.data, digest)).catch((e) => {
    console.warn('xroom: cannot write an incoming file', e);
    hub.link.control(t.tab, { t: 'file-cancel', id: t.id, reason: 'write-error' });
    hub.end(t, 'failed', 'write-error', 'me');
  });
}

/**
 * One chunk, in order. Not the one we wait for: ignored (it comes again).
 * A bad hash: not written, and asked again.
 * @param {Hub} hub @param {Transfer} t @param {number} i @param {Uint8Array} hash @param {Uint8Array} data
 * @param {Promise<Uint8Array>} digest  SHA-256 of data
 */
async function onChunk(hub, t, i, hash, data, digest) {
  // Paused: the channel closed after this chunk arrived intact; keep it.
  const live = () => (t.state === 'receiving' || t.state === 'paused') && !!t.sink;
  if (!live() || i !== t.next) return;
  if (data.length !== chunkLength(t, i) || !same(await digest, hash)) {
    t.corrupt += 1;
    hub.emit('corrupt', { transfer: t, index: i });
    if (t.corrupt > MAX_CORRUPT) {
      hub.link.control(t.tab, { t: 'file-cancel', id: t.id, reason: 'too-many-corrupt' });
      hub.end(t, 'failed', 'too-many-corrupt', 'me');
      return;
    }
    // t.next stays i: what follows is ignored until chunk i comes again.
    hub.link.control(t.tab, { t: 'file-nack', id: t.id, i });
    return;
  }
  if (!live()) return; // ended while hashing
  // Held in memory until a block is full, then written at once.
  if (!t.held.length) t.heldFrom = i;
  t.held.push(data); // a view of this message's own buffer
  t.hashes[i] = hash.slice();
  t.next = i + 1;
  if (t.held.length * t.chunk >= hub.block || t.next === t.chunks) flush(hub, t); // finishes when written
}

/**
 * Hands the verified chunks held in memory to the store. The store writes
 * in order and in the background: chunks that arrive meanwhile are
 * checked and held as usual. When a block is written it is counted and
 * acknowledged. Returns when every block handed over so far is written.
 * @param {Hub} hub @param {Transfer} t
 * @returns {Promise<void>}
 */
export function flush(hub, t) {
  if (!t.held.length || !t.sink) return t.written;
  const parts = t.held;
  const first = t.heldFrom;
  t.held = [];
  const write = t.sink.write(first * t.chunk, parts);
  write.catch(() => {}); // handled below, once the writes before it are done
  t.written = t.written.then(() => write).then(() => {
    if (isEnded(t)) return;
    const before = t.have;
    t.have = first + parts.length;
    sample(t, performance.now(), doneBytes(t));
    if (ackDue(before, t.have, t.chunks)) hub.link.control(t.tab, { t: 'file-ack', id: t.id, have: t.have });
    hub.emit('update', { transfer: t });
    if (t.have === t.chunks) t.chain = t.chain.then(() => maybeFinish(hub, t));
  }).catch((e) => {
    if (isEnded(t)) return;
    console.warn('xroom: cannot write an incoming file', e);
    const reason = e?.name === 'QuotaExceededError' ? 'no-space' : 'write-error';
    hub.link.control(t.tab, { t: 'file-cancel', id: t.id, reason });
    hub.end(t, 'failed', reason, 'me');
  });
  return t.written;
}

/**
 * The sender's root: a different one than we already hold fails the
 * transfer; otherwise it is kept, and the file checked once all is written.
 * @param {Hub} hub @param {Transfer} t @param {Uint8Array} root
 */
export function onEnd(hub, t, root) {
  if (t.root && !same(t.root, root)) {
    hub.link.control(t.tab, { t: 'file-cancel', id: t.id, reason: 'integrity' });
    hub.end(t, 'failed', 'integrity', 'me');
    return;
  }
  t.root = root;
  t.chain = t.chain.then(() => maybeFinish(hub, t));
}

/**
 * All chunks written and the sender's root known: re-read the file from
 * disk, hash every chunk again, compare the root, and only then offer it.
 * @param {Hub} hub @param {Transfer} t
 */
async function maybeFinish(hub, t) {
  if (t.state !== 'receiving' || !t.root || t.have !== t.chunks || !t.sink) return;
  hub.setState(t, 'verifying');
  const sink = t.sink;
  let ok = false;
  try {
    // What is on disk, hashed again chunk by chunk by the disk worker.
    const { size, hashes: again } = await sink.digests(t.chunk);
    ok = size === t.size && again.length === t.chunks && again.every((h, i) => {
      const want = t.hashes[i];
      return !!want && same(h, want);
    });
    if (ok) ok = same(await rootOf(again), t.root);
    await sink.close();
    if (ok) t.result = await sink.read();
  } catch (e) {
    console.warn('xroom: cannot verify a received file', e);
    ok = false;
  }
  if (isEnded(t)) return;
  if (!ok) {
    hub.link.control(t.tab, { t: 'file-cancel', id: t.id, reason: 'integrity' });
    hub.end(t, 'failed', 'integrity', 'me');
    return;
  }
  hub.link.control(t.tab, { t: 'file-done', id: t.id });
  hub.end(t, 'done', '', '');
}
