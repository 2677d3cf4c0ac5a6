// @ts-check
// sender.js (files/): the sending half of a transfer. Offers the file,
// then, once accepted, reads it a block at a time and sends its chunks in
// order, each with its SHA-256, while the window (WINDOW bytes beyond what
// the receiver has written) and the channel's queue (HIGH_WATER) have
// room; acks move the window, a nack goes back to the damaged chunk, a
// resume to the first chunk not yet written; after the last chunk, `end`
// with the root. The receiver's `done` ends it (transfers.js). No DOM.

import { doneBytes, rewind, sample, startsSending, takesAck, takesNack, windowFull } from './transfer.js';
import { HASH, encodeChunk, hex, rootOf, sha256 } from './wire.js';

/** @typedef {import('./transfer.js').Transfer} Transfer */
/** @typedef {import('./transfer.js').Hub} Hub */

const NO_HASH = new Uint8Array(HASH);

/** @param {Hub} hub @param {Transfer} t */
export function sendOffer(hub, t) {
  hub.link.control(t.tab, { t: 'file-offer', id: t.id, name: t.name, size: t.size, chunk: t.chunk, mime: t.mime });
}

/**
 * The receiver's answer to a transfer we send: `file-accept`,
 * `file-resume`, `file-decline`, `file-ack`, `file-nack`, `file-done`.
 * @param {Hub} hub @param {Transfer} t @param {Record<string, any>} m
 */
export function onAnswer(hub, t, m) {
  switch (m.t) {
    case 'file-accept':
    case 'file-resume':
      if (!startsSending(t, m.t)) return;
      if (t.state === 'offered') t.startedAt = performance.now();
      rewind(t, Math.min(m.have ?? 0, t.chunks));
      hub.setState(t, 'sending');
      pump(hub, t);
      break;
    case 'file-decline':
      hub.end(t, 'declined', '', 'peer');
      break;
    case 'file-ack':
      if (takesAck(t, m.have)) {
        t.have = m.have;
        sample(t, performance.now(), doneBytes(t));
        hub.emit('update', { transfer: t });
        hub.link.wake(t.tab);
      }
      break;
    case 'file-nack':
      if (takesNack(t, m.i)) {
        rewind(t, m.i);
        hub.emit('update', { transfer: t });
        hub.link.wake(t.tab);
        pump(hub, t);
      }
      break;
    case 'file-done':
      t.have = t.chunks;
      hub.end(t, 'done', '', 'peer');
      break;
    default:
      break;
  }
}

/**
 * Sends chunks while there is room; returns when done, paused or out of
 * room for good.
 * @param {Hub} hub @param {Transfer} t
 */
export async function pump(hub, t) {
  if (t.pumping) return;
  t.pumping = true;
  const link = hub.link;
  try {
    while (t.state === 'sending') {
      if (!link.open(t.tab)) {
        hub.setState(t, 'paused');
        return;
      }
      if (t.next >= t.chunks) {
        if (!t.endSent) {
          t.endSent = true;
          await Promise.all(t.hashing);
          t.root = await rootOf(t.hashes);
          link.control(t.tab, { t: 'file-end', id: t.id, root: hex(t.root) });
        }
        return; // the receiver's `done` ends it
      }
      if (windowFull(t, hub.window) || link.full(t.tab)) {
        await link.wait(t.tab);
        continue;
      }
      if (hub.rateLimit > 0) {
        const now = performance.now();
        if (now - hub.paced.from > 2000) hub.paced = { from: now, bytes: 0 };
        const ahead = hub.paced.from + (hub.paced.bytes * 1000) / hub.rateLimit - now;
        if (ahead > 0) {
          await new Promise((r) => setTimeout(r, Math.min(ahead, 500)));
          continue;
        }
        hub.paced.bytes += t.chunk;
      }
      const i = t.next;
      t.next += 1;
      const from = i * t.chunk;
      let data;
      try {
        data = await readChunk(hub, t, from);
      } catch (e) {
        console.warn('xroom: cannot read the file to send', e);
        link.control(t.tab, { t: 'file-cancel', id: t.id, reason: 'read-error' });
        hub.end(t, 'failed', 'read-error', 'me');
        return;
      }
      if (t.state !== 'sending' || t.next !== i + 1) continue; // rewound or stopped meanwhile
      // Hashed, framed and sealed off the loop: the next chunk is read
      // while this one is hashed (the send chain keeps the order).
      const damage = hub.corruptNext > 0 && data.length > 0;
      if (damage) hub.corruptNext -= 1;
      // The chunk is copied once, into its frame; the hash goes in when
      // it is known (digest copies what it hashes when called).
      const known = t.hashes[i];
      const frame = encodeChunk(t.id, i, known ?? NO_HASH, data);
      const body = frame.subarray(frame.length - data.length);
      const plain = (known ? Promise.resolve(known) : sha256(body)).then((hash) => {
        t.hashes[i] = hash;
        frame.set(hash, frame.length - data.length - HASH);
        if (damage) body[body.length >> 1] ^= 0x5a; // test hook: damaged after hashing
        return frame;
      });
      t.hashing.add(plain);
      plain.finally(() => t.hashing.delete(plain)).catch(() => {});
      if (i < t.maxSent) t.resentBytes += data.length;
      else t.maxSent = i + 1;
      t.sentBytes += data.length;
      hub.counters.chunksSent += 1;
      link.post(t.tab, plain, data.length);
    }
  } finally {
    t.pumping = false;
  }
}

/**
 * The chunk at byte `from` of the file being sent, read a block at a time.
 * @param {Hub} hub @param {Transfer} t @param {number} from
 */
async function readChunk(hub, t, from) {
  const end = Math.min(t.size, from + t.chunk);
  let b = t.block;
  if (!b || from < b.from || end > b.from + b.bytes.length) {
    const size = Math.max(t.chunk, Math.floor(hub.block / t.chunk) * t.chunk);
    const bytes = new Uint8Array(await /** @type {Blob} */ (t.file).slice(from, Math.min(t.size, from + size)).arrayBuffer());
    t.block = b = { from, bytes };
  }
  return b.bytes.subarray(from - b.from, end - b.from); // a view: the frame is the copy
}
