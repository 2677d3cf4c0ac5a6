// @ts-check
// files.js: file transfer over the peer connections' second data channel.
// No DOM here (files-view.js shows it).
//
// Every peer connection has a negotiated, ordered, reliable channel for
// files (FILE_CHANNEL, made in mesh.js next to the chat channel), so a chat
// message never queues behind megabytes of chunks. Every message on it is
// sealed with the room's data key (DataSealer, channel name FILE_SEAL):
// control messages are JSON, chunks are binary.
//
// A transfer, seen from the sender:
//   offer ──▶ (the receiver is asked; nothing else is sent before it says yes)
//   ◀── accept | decline
//   chunk 0, chunk 1, … ──▶   each with the SHA-256 of its bytes
//   ◀── ack {have}            every ACK_EVERY chunks written to disk
//   end {root} ──▶            root = SHA-256 over the chunk hashes in order
//   ◀── done                  the receiver re-read the file and it matched
// Either side may send `cancel` at any time. A chunk whose hash does not
// match is not written: the receiver sends `nack {i}` and the sender goes
// back to chunk i. When the channel closes (ICE failure, a rebuilt
// connection), both sides keep the transfer; when a channel to the same
// peer opens again the receiver sends `resume {have}` and the sender goes on
// from the first chunk not yet written, so only what was in flight is sent
// twice.
//
// Flow control is end to end: the sender keeps at most WINDOW bytes beyond
// what the receiver has acknowledged as written, and at most HIGH_WATER in
// the channel's own buffer (bufferedAmountLowThreshold wakes it). The first
// bounds the receiver's memory and what a broken connection costs; the
// second keeps the browser's send buffer small.
//
// The receiver gathers checked chunks into blocks of BLOCK bytes and hands
// each to its store: on disk, a worker (disk-worker.js) that writes them in
// order while the next chunks are checked. A block is acknowledged once it
// is written, never before.

import { Emitter } from './emitter.js';

/** The file channel every peer connection has (negotiated, fixed id). */
export const FILE_CHANNEL = Object.freeze({ label: 'xroom-files', id: 1 });
/** The channel name bound into the associated data of sealed messages. */
export const FILE_SEAL = 'dc-files';
/**
 * Bytes per chunk. 64 KiB: every browser sends it as one SCTP message
 * (Chromium's limit is 256 KiB), the per-chunk cost (seal, hash, one disk
 * write) is spread over enough bytes, and a chunk delays a message on
 * another channel by well under a millisecond on a fast link. Measured in
 * tests/bench/file-transfer.mjs (docs/performance.md).
 */
export const CHUNK = 64 * 1024;
/** Chunk sizes a receiver accepts from a sender. */
export const CHUNK_MIN = 4 * 1024;
export const CHUNK_MAX = 256 * 1024;
/**
 * At most this much in the channel's send buffer (with what is being
 * sealed)… Less left the channel idle while chunks were being sealed; with
 * more, the pause SCTP's retransmission timer sometimes causes at the
 * start of a first transfer grew to seconds (docs/performance.md).
 */
export const HIGH_WATER = 2 * 1024 * 1024;
/** …and the sender wakes when it falls to this. */
export const LOW_WATER = 512 * 1024;
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
/** Offers waiting for an answer, per peer. */
const MAX_PENDING_OFFERS = 32;
/** Largest file: what a double counts exactly. */
export const MAX_SIZE = Number.MAX_SAFE_INTEGER;
const HASH = 32;
const NO_HASH = new Uint8Array(HASH);
const MAX_NAME = 255;
const MAX_ID = 32;
const KIND_CHUNK = 1;

const enc = new TextEncoder();
const dec = new TextDecoder('utf-8', { fatal: true });

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
 * @typedef {{write: (position: number, parts: Uint8Array[]) => Promise<void>,
 *   digests: (chunk: number) => Promise<{size: number, hashes: Uint8Array[]}>,
 *   close: () => Promise<void>, read: () => Promise<Blob>, discard: () => Promise<void>}} Sink
 *   A received file being written. `write` puts `parts` one after another
 *   from `position` and may take their buffers over (the caller must not
 *   use them again); `digests` re-reads what was written and hashes it
 *   chunk by chunk.
 * @typedef {{create: (id: string, size: number) => Promise<Sink>, room: (size: number) => Promise<{ok: boolean, free: number}>,
 *   clear: () => Promise<void>, kind: 'disk' | 'memory'}} Store
 * @typedef {{seal: (tab: string, channel: string, plain: Uint8Array) => Promise<Uint8Array>,
 *   open: (tab: string, channel: string, bytes: Uint8Array) => Promise<Uint8Array | null>}} ByteBox
 */

/** A random transfer id. */
export function newId() {
  const b = crypto.getRandomValues(new Uint8Array(12));
  return btoa(String.fromCharCode(...b)).replace(/\+/g, '-').replace(/\//g, '_');
}

/** @param {unknown} v */
function goodId(v) {
  return typeof v === 'string' && v.length > 0 && v.length <= MAX_ID && /^[A-Za-z0-9_-]+$/.test(v);
}

/** @param {unknown} v @param {number} max */
function count(v, max) {
  return Number.isSafeInteger(v) && /** @type {number} */ (v) >= 0 && /** @type {number} */ (v) <= max;
}

/**
 * A file name as the receiver will see and save it: no path, no control
 * characters, no leading dots, at most MAX_NAME characters.
 * @param {string} name
 */
export function cleanName(name) {
  let n = String(name).split(/[\\/]/).pop() ?? '';
  // eslint-disable-next-line no-control-regex
  n = n.replace(/[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, '').trim();
  n = n.replace(/^\.+/, '');
  if (n.length > MAX_NAME) {
    const dot = n.lastIndexOf('.');
    const ext = dot > 0 && n.length - dot <= 16 ? n.slice(dot) : '';
    n = n.slice(0, MAX_NAME - ext.length) + ext;
  }
  return n || 'file';
}

/** Chunks of a file of `size` bytes. @param {number} size @param {number} chunk */
export function chunkCount(size, chunk) {
  return Math.ceil(size / chunk);
}

/** SHA-256. @param {Uint8Array} data */
async function sha256(data) {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', /** @type {Uint8Array<ArrayBuffer>} */ (data)));
}

/**
 * The whole-file hash: SHA-256 over the chunk hashes in order (a one-level
 * hash tree: WebCrypto has no incremental SHA-256, and this lets both sides
 * compute it chunk by chunk).
 * @param {Array<Uint8Array | undefined>} hashes
 */
export async function rootOf(hashes) {
  const all = new Uint8Array(hashes.length * HASH);
  hashes.forEach((h, i) => {
    if (!h) throw new Error(`chunk ${i} has no hash`);
    all.set(h, i * HASH);
  });
  return sha256(all);
}

/** @param {Uint8Array} a @param {Uint8Array} b */
function same(a, b) {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i += 1) d |= a[i] ^ b[i];
  return d === 0;
}

/** @param {Uint8Array} b */
export function hex(b) {
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
}

/** @param {string} s */
function unhex(s) {
  if (typeof s !== 'string' || !/^[0-9a-f]{64}$/.test(s)) return null;
  const out = new Uint8Array(HASH);
  for (let i = 0; i < HASH; i += 1) out[i] = parseInt(s.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/**
 * A chunk on the wire (before sealing):
 * [1][id length][id][u32 index][32-byte SHA-256][bytes].
 * @param {string} id @param {number} index @param {Uint8Array} hash @param {Uint8Array} data
 */
export function encodeChunk(id, index, hash, data) {
  const idb = enc.encode(id);
  const out = new Uint8Array(2 + idb.length + 4 + HASH + data.length);
  out[0] = KIND_CHUNK;
  out[1] = idb.length;
  out.set(idb, 2);
  let at = 2 + idb.length;
  new DataView(out.buffer).setUint32(at, index);
  at += 4;
  out.set(hash, at);
  out.set(data, at + HASH);
  return out;
}

/**
 * @param {Uint8Array} b
 * @returns {{id: string, index: number, hash: Uint8Array, data: Uint8Array} | null}
 */
export function decodeChunk(b) {
  if (b.length < 2 || b[0] !== KIND_CHUNK) return null;
  const n = b[1];
  if (n === 0 || n > MAX_ID || b.length < 2 + n + 4 + HASH) return null;
  let id;
  try {
    id = dec.decode(b.subarray(2, 2 + n));
  } catch {
    return null;
  }
  if (!goodId(id)) return null;
  const at = 2 + n;
  const index = new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(at);
  return { id, index, hash: b.subarray(at + 4, at + 4 + HASH), data: b.subarray(at + 4 + HASH) };
}

/**
 * Checks a control message; anything malformed is null.
 * @param {unknown} v
 * @returns {Record<string, any> | null}
 */
export function parseControl(v) {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return null;
  const o = /** @type {Record<string, unknown>} */ (v);
  if (!goodId(o.id)) return null;
  switch (o.t) {
    case 'file-offer':
      if (typeof o.name !== 'string' || o.name.length > MAX_NAME * 2) return null;
      if (!count(o.size, MAX_SIZE) || !count(o.chunk, CHUNK_MAX) || /** @type {number} */ (o.chunk) < CHUNK_MIN) return null;
      if (typeof o.mime !== 'string' || o.mime.length > 128) return null;
      return { t: o.t, id: o.id, name: cleanName(o.name), size: o.size, chunk: o.chunk, mime: o.mime };
    case 'file-ack': case 'file-resume':
      return count(o.have, 2 ** 32) ? { t: o.t, id: o.id, have: o.have } : null;
    case 'file-nack':
      return count(o.i, 2 ** 32) ? { t: o.t, id: o.id, i: o.i } : null;
    case 'file-end': {
      const root = unhex(/** @type {string} */ (o.root));
      return root ? { t: o.t, id: o.id, root } : null;
    }
    case 'file-accept': case 'file-decline': case 'file-done':
      return { t: o.t, id: o.id };
    case 'file-cancel':
      return { t: o.t, id: o.id, reason: typeof o.reason === 'string' ? o.reason.slice(0, 64) : '' };
    default:
      return null;
  }
}

/** What the UI says when a transfer ends badly or stops. */
export const REASONS = Object.freeze({
  'peer-left': 'They left the call.',
  integrity: 'The file arrived damaged (hash mismatch). Nothing was saved.',
  'too-many-corrupt': 'Too many damaged pieces arrived. Nothing was saved.',
  'read-error': 'The file could not be read on the sender’s side.',
  'write-error': 'The file could not be written to this browser’s storage.',
  'no-space': 'Not enough space in this browser’s storage.',
  unknown: 'The other side does not know this transfer any more.',
  closed: 'The call ended.',
});

/**
 * The rate over the last few seconds, bytes per second.
 * @param {Transfer} t @param {number} now @param {number} done
 */
function sample(t, now, done) {
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
 * Percent, rate and time left of a transfer, for the UI.
 * @param {Transfer} t
 */
export function progressOf(t) {
  const done = doneBytes(t);
  const percent = t.size === 0 ? (t.state === 'done' ? 100 : 0) : Math.floor((done * 100) / t.size);
  const left = t.rate > 0 ? (t.size - done) / t.rate : Infinity;
  return { done, percent, rate: t.rate, secondsLeft: left };
}

/**
 * @typedef {{
 *   offer: {transfer: Transfer},
 *   update: {transfer: Transfer},
 *   corrupt: {transfer: Transfer, index: number},
 * }} FileEvents
 */

/**
 * Every transfer of this page, in and out, over the file channels.
 * Events: `offer` (someone asks us), `update` (state or progress).
 * @extends {Emitter<FileEvents>}
 */
export class FileTransfers extends Emitter {
  /**
   * @param {ByteBox} box
   * @param {Store} store  where received files are written
   * @param {{chunk?: number, window?: number, block?: number}} [opts]  defaults: CHUNK, WINDOW, BLOCK
   */
  constructor(box, store, opts = {}) {
    super();
    this.box = box;
    this.store = store;
    this.chunk = opts.chunk ?? CHUNK;
    this.window = opts.window ?? WINDOW;
    this.block = opts.block ?? BLOCK;
    /** @type {Map<string, RTCDataChannel>} */
    this.channels = new Map();
    /** @type {Map<string, Transfer>} by `${dir}:${tab}:${id}` */
    this.transfers = new Map();
    /** @type {Map<string, Promise<void>>} per peer: sends in order */
    this.sendChain = new Map();
    /** @type {Map<string, Promise<void>>} per peer: receipts in order */
    this.recvChain = new Map();
    /** @type {Map<string, number>} per peer: bytes being sealed, not yet in the channel */
    this.pending = new Map();
    /** @type {Map<string, Set<() => void>>} per peer: pumps waiting for room */
    this.waiting = new Map();
    /** for tests: corrupt the next n chunks we send (after hashing them) */
    this.corruptNext = 0;
    /** for tests: send at most this many bytes per second (0: no limit) */
    this.rateLimit = 0;
    this.paced = { from: 0, bytes: 0 };
    this.counters = { chunksSent: 0, chunksReceived: 0, refused: 0 };
  }

  /** @param {'out' | 'in'} dir @param {string} tab @param {string} id */
  key(dir, tab, id) {
    return `${dir}:${tab}:${id}`;
  }

  /** @param {'out' | 'in'} dir @param {string} tab @param {string} id */
  get(dir, tab, id) {
    return this.transfers.get(this.key(dir, tab, id));
  }

  /**
   * The file channel of a (new) connection to `tab`.
   * @param {string} tab
   * @param {RTCDataChannel} ch
   */
  attach(tab, ch) {
    ch.binaryType = 'arraybuffer';
    ch.bufferedAmountLowThreshold = LOW_WATER;
    const old = this.channels.get(tab);
    this.channels.set(tab, ch);
    if (old && old !== ch) this.channelDown(tab);
    ch.addEventListener('bufferedamountlow', () => this.wake(tab));
    ch.addEventListener('open', () => {
      if (this.channels.get(tab) === ch) this.channelUp(tab);
    });
    ch.addEventListener('close', () => {
      if (this.channels.get(tab) === ch) this.channelDown(tab);
    });
    ch.addEventListener('message', (ev) => {
      if (!(ev.data instanceof ArrayBuffer)) {
        this.counters.refused += 1;
        return;
      }
      // Open now (in parallel with the messages before it), act in order.
      const opened = this.box.open(tab, FILE_SEAL, new Uint8Array(ev.data));
      const prev = this.recvChain.get(tab) ?? Promise.resolve();
      const next = prev.then(async () => {
        const plain = await opened;
        if (!plain || this.channels.get(tab) !== ch) {
          if (!plain) this.counters.refused += 1;
          return;
        }
        this.receive(tab, plain);
      }).catch((e) => console.warn('xroom: file message dropped', e));
      this.recvChain.set(tab, next);
    });
    if (ch.readyState === 'open') this.channelUp(tab);
  }

  /** The peer is gone for good: its transfers end. @param {string} tab */
  detach(tab) {
    this.channels.delete(tab);
    this.sendChain.delete(tab);
    this.recvChain.delete(tab);
    this.pending.delete(tab);
    for (const t of this.transfers.values()) {
      if (t.tab === tab && !this.ended(t)) this.end(t, 'failed', 'peer-left', 'peer');
    }
    this.wake(tab);
  }

  /** @param {Transfer} t */
  ended(t) {
    return t.state === 'done' || t.state === 'declined' || t.state === 'cancelled' || t.state === 'failed';
  }

  /** @param {string} tab */
  open(tab) {
    return this.channels.get(tab)?.readyState === 'open';
  }

  /** A channel to `tab` opened: pick up where each transfer stopped. @param {string} tab */
  channelUp(tab) {
    for (const t of this.transfers.values()) {
      if (t.tab !== tab || this.ended(t)) continue;
      if (t.dir === 'out' && t.state === 'offered') this.sendOffer(t);
      if (t.dir === 'in' && (t.state === 'receiving' || t.state === 'paused')) {
        this.setState(t, 'receiving');
        t.chain = t.chain.then(async () => {
          await this.flush(t); // what arrived and was checked is kept, once written
          t.next = t.have; // anything after the last written chunk comes again
          this.control(tab, { t: 'file-resume', id: t.id, have: t.have });
        });
      }
    }
  }

  /** The channel to `tab` closed: transfers wait for another. @param {string} tab */
  channelDown(tab) {
    this.pending.delete(tab);
    for (const t of this.transfers.values()) {
      if (t.tab === tab && (t.state === 'sending' || t.state === 'receiving')) this.setState(t, 'paused');
    }
    this.wake(tab);
  }

  /**
   * Offers `file` to each of `tabs` (one transfer per peer, one group).
   * @param {Blob & {name?: string}} file
   * @param {string[]} tabs
   * @returns {Transfer[]}
   */
  send(file, tabs) {
    const group = newId();
    const name = cleanName(file.name ?? 'file');
    const out = [];
    for (const tab of tabs) {
      /** @type {Transfer} */
      const t = this.make('out', tab, newId(), group, name, file.size, file.type.slice(0, 128), this.chunk);
      t.file = file;
      t.state = 'offered';
      this.transfers.set(this.key('out', tab, t.id), t);
      if (this.open(tab)) this.sendOffer(t);
      this.emit('update', { transfer: t });
      out.push(t);
    }
    return out;
  }

  /**
   * @param {'out' | 'in'} dir @param {string} tab @param {string} id @param {string} group
   * @param {string} name @param {number} size @param {string} mime @param {number} chunk
   * @returns {Transfer}
   */
  make(dir, tab, id, group, name, size, mime, chunk) {
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

  /** @param {Transfer} t */
  sendOffer(t) {
    this.control(t.tab, { t: 'file-offer', id: t.id, name: t.name, size: t.size, chunk: t.chunk, mime: t.mime });
  }

  /**
   * Accepts an offer: checks the space, opens the file on disk, asks for
   * the first chunk.
   * @param {Transfer} t
   */
  async accept(t) {
    if (t.dir !== 'in' || t.state !== 'asking') return;
    this.setState(t, 'receiving');
    try {
      const room = await this.store.room(t.size);
      if (!room.ok) {
        this.control(t.tab, { t: 'file-cancel', id: t.id, reason: 'no-space' });
        this.end(t, 'failed', 'no-space', 'me');
        return;
      }
      t.sink = await this.store.create(`${t.tab}-${t.id}`, t.size);
    } catch (e) {
      console.warn('xroom: cannot store an incoming file', e);
      // The file is given its whole size when created: a full disk shows here.
      const reason = /** @type {Error} */ (e)?.name === 'QuotaExceededError' ? 'no-space' : 'write-error';
      this.control(t.tab, { t: 'file-cancel', id: t.id, reason });
      this.end(t, 'failed', reason, 'me');
      return;
    }
    if (this.ended(t)) { // cancelled while we opened the file
      await t.sink.discard().catch(() => {});
      return;
    }
    t.startedAt = performance.now();
    if (!this.open(t.tab)) this.setState(t, 'paused'); // asks when the channel is back
    else this.control(t.tab, { t: 'file-accept', id: t.id });
  }

  /** @param {Transfer} t */
  decline(t) {
    if (t.dir !== 'in' || t.state !== 'asking') return;
    this.control(t.tab, { t: 'file-decline', id: t.id });
    this.end(t, 'declined', '', 'me');
  }

  /** Cancels from this side. @param {Transfer} t */
  cancel(t) {
    if (this.ended(t)) return;
    this.control(t.tab, { t: 'file-cancel', id: t.id, reason: '' });
    this.end(t, 'cancelled', '', 'me');
  }

  /** Forgets a finished transfer (and its stored file). @param {Transfer} t */
  dismiss(t) {
    if (!this.ended(t)) this.cancel(t);
    this.transfers.delete(this.key(t.dir, t.tab, t.id));
    if (t.sink) t.sink.discard().catch(() => {});
    t.sink = null;
    t.result = null;
  }

  /**
   * @param {Transfer} t @param {TransferState} state @param {string} reason @param {'me' | 'peer' | ''} by
   */
  end(t, state, reason, by) {
    if (this.ended(t)) return;
    t.reason = reason;
    t.by = by;
    t.endedAt = performance.now();
    t.file = null;
    t.block = null;
    t.held = [];
    if (state !== 'done' && t.sink) {
      const sink = t.sink;
      t.sink = null;
      t.chain = t.chain.then(() => sink.discard()).catch(() => {});
    }
    this.setState(t, state);
    this.wake(t.tab);
  }

  /** @param {Transfer} t @param {TransferState} state */
  setState(t, state) {
    if (t.state === state) return;
    t.state = state;
    this.emit('update', { transfer: t });
  }

  /** Wakes the pumps of `tab`. @param {string} tab */
  wake(tab) {
    const w = this.waiting.get(tab);
    if (!w) return;
    this.waiting.delete(tab);
    for (const fn of w) fn();
  }

  /**
   * Resolves when something changed for `tab` (room in the buffer, an ack,
   * a state change), or after a while anyway.
   * @param {string} tab
   */
  wait(tab) {
    return new Promise((resolve) => {
      let w = this.waiting.get(tab);
      if (!w) this.waiting.set(tab, (w = new Set()));
      const timer = setTimeout(() => { w?.delete(done); resolve(undefined); }, 1000);
      const done = () => { clearTimeout(timer); resolve(undefined); };
      w.add(done);
    });
  }

  /** Bytes queued for `tab`: the channel's buffer and what is being sealed. @param {string} tab */
  queued(tab) {
    return (this.channels.get(tab)?.bufferedAmount ?? 0) + (this.pending.get(tab) ?? 0);
  }

  /**
   * Seals and queues `plain` for `tab`, in order. False if the channel is
   * not open.
   * @param {string} tab @param {Uint8Array | Promise<Uint8Array>} plain @param {number} [size]  bytes, for the queue
   */
  post(tab, plain, size = plain instanceof Uint8Array ? plain.length : 0) {
    const ch = this.channels.get(tab);
    if (!ch || ch.readyState !== 'open') return false;
    this.pending.set(tab, (this.pending.get(tab) ?? 0) + size);
    const sealed = Promise.resolve(plain).then((p) => this.box.seal(tab, FILE_SEAL, p));
    const prev = this.sendChain.get(tab) ?? Promise.resolve();
    const next = prev.then(async () => {
      let bytes;
      try {
        bytes = await sealed;
      } finally {
        if (this.pending.has(tab)) this.pending.set(tab, Math.max(0, (this.pending.get(tab) ?? 0) - size));
      }
      if (ch.readyState !== 'open' || this.channels.get(tab) !== ch) return;
      ch.send(/** @type {Uint8Array<ArrayBuffer>} */ (bytes));
      // A pump that stopped while most of its queue was still being sealed
      // gets no bufferedamountlow if the channel's own buffer never rose
      // above the threshold: wake it here.
      if (this.queued(tab) <= LOW_WATER) this.wake(tab);
    }).catch((e) => console.warn('xroom: file message not sent', e));
    this.sendChain.set(tab, next);
    return true;
  }

  /** @param {string} tab @param {Record<string, unknown>} msg */
  control(tab, msg) {
    return this.post(tab, enc.encode(JSON.stringify(msg)));
  }

  /**
   * Sends chunks while there is room; returns when done, paused or out of
   * room for good.
   * @param {Transfer} t
   */
  async pump(t) {
    if (t.pumping) return;
    t.pumping = true;
    try {
      while (t.state === 'sending') {
        if (!this.open(t.tab)) {
          this.setState(t, 'paused');
          return;
        }
        if (t.next >= t.chunks) {
          if (!t.endSent) {
            t.endSent = true;
            await Promise.all(t.hashing);
            t.root = await rootOf(t.hashes);
            this.control(t.tab, { t: 'file-end', id: t.id, root: hex(t.root) });
          }
          return; // the receiver's `done` ends it
        }
        if ((t.next - t.have) * t.chunk >= this.window || this.queued(t.tab) >= HIGH_WATER) {
          await this.wait(t.tab);
          continue;
        }
        if (this.rateLimit > 0) {
          const now = performance.now();
          if (now - this.paced.from > 2000) this.paced = { from: now, bytes: 0 };
          const ahead = this.paced.from + (this.paced.bytes * 1000) / this.rateLimit - now;
          if (ahead > 0) {
            await new Promise((r) => setTimeout(r, Math.min(ahead, 500)));
            continue;
          }
          this.paced.bytes += t.chunk;
        }
        const i = t.next;
        t.next += 1;
        const from = i * t.chunk;
        let data;
        try {
          data = await this.read(t, from);
        } catch (e) {
          console.warn('xroom: cannot read the file to send', e);
          this.control(t.tab, { t: 'file-cancel', id: t.id, reason: 'read-error' });
          this.end(t, 'failed', 'read-error', 'me');
          return;
        }
        if (t.state !== 'sending' || t.next !== i + 1) continue; // rewound or stopped meanwhile
        // Hashed, framed and sealed off the loop: the next chunk is read
        // while this one is hashed (the send chain keeps the order).
        const damage = this.corruptNext > 0 && data.length > 0;
        if (damage) this.corruptNext -= 1;
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
        this.counters.chunksSent += 1;
        this.post(t.tab, plain, data.length);
      }
    } finally {
      t.pumping = false;
    }
  }

  /**
   * The chunk at byte `from` of the file being sent, read a block at a time.
   * @param {Transfer} t @param {number} from
   */
  async read(t, from) {
    const end = Math.min(t.size, from + t.chunk);
    let b = t.block;
    if (!b || from < b.from || end > b.from + b.bytes.length) {
      const size = Math.max(t.chunk, Math.floor(this.block / t.chunk) * t.chunk);
      const bytes = new Uint8Array(await /** @type {Blob} */ (t.file).slice(from, Math.min(t.size, from + size)).arrayBuffer());
      t.block = b = { from, bytes };
    }
    return b.bytes.subarray(from - b.from, end - b.from); // a view: the frame is the copy
  }

  /**
   * Hands the verified chunks held in memory to the store. The store writes
   * in order and in the background: chunks that arrive meanwhile are
   * checked and held as usual. When a block is written it is counted and
   * acknowledged. Returns when every block handed over so far is written.
   * @param {Transfer} t
   * @returns {Promise<void>}
   */
  flush(t) {
    if (!t.held.length || !t.sink) return t.written;
    const parts = t.held;
    const first = t.heldFrom;
    t.held = [];
    const write = t.sink.write(first * t.chunk, parts);
    write.catch(() => {}); // handled below, once the writes before it are done
    t.written = t.written.then(() => write).then(() => {
      if (this.ended(t)) return;
      const before = t.have;
      t.have = first + parts.length;
      sample(t, performance.now(), doneBytes(t));
      if (Math.floor(t.have / ACK_EVERY) > Math.floor(before / ACK_EVERY) || t.have === t.chunks) {
        this.control(t.tab, { t: 'file-ack', id: t.id, have: t.have });
      }
      this.emit('update', { transfer: t });
      if (t.have === t.chunks) t.chain = t.chain.then(() => this.maybeFinish(t));
    }).catch((e) => {
      if (this.ended(t)) return;
      console.warn('xroom: cannot write an incoming file', e);
      const reason = e?.name === 'QuotaExceededError' ? 'no-space' : 'write-error';
      this.control(t.tab, { t: 'file-cancel', id: t.id, reason });
      this.end(t, 'failed', reason, 'me');
    });
    return t.written;
  }

  /** @param {string} tab @param {Uint8Array} plain */
  receive(tab, plain) {
    if (plain[0] === KIND_CHUNK) {
      const c = decodeChunk(plain);
      const t = c && this.get('in', tab, c.id);
      if (!c || !t) {
        this.counters.refused += 1;
        return;
      }
      this.counters.chunksReceived += 1;
      // Hashed now, in parallel with the chunks before it; checked in order.
      const digest = sha256(c.data);
      t.chain = t.chain.then(() => this.onChunk(t, c.index, c.hash, c.data, digest)).catch((e) => {
        console.warn('xroom: cannot write an incoming file', e);
        this.control(t.tab, { t: 'file-cancel', id: t.id, reason: 'write-error' });
        this.end(t, 'failed', 'write-error', 'me');
      });
      return;
    }
    let msg;
    try {
      msg = parseControl(JSON.parse(dec.decode(plain)));
    } catch {
      msg = null;
    }
    if (!msg) {
      this.counters.refused += 1;
      return;
    }
    this.onControl(tab, msg);
  }

  /** @param {string} tab @param {Record<string, any>} m */
  onControl(tab, m) {
    if (m.t === 'file-offer') {
      if (this.get('in', tab, m.id)) return; // sent again after a reconnect
      const asking = [...this.transfers.values()].filter((x) => x.dir === 'in' && x.tab === tab && x.state === 'asking').length;
      if (asking >= MAX_PENDING_OFFERS) {
        this.control(tab, { t: 'file-decline', id: m.id });
        return;
      }
      const t = this.make('in', tab, m.id, m.id, m.name, m.size, m.mime, m.chunk);
      t.state = 'asking';
      this.transfers.set(this.key('in', tab, m.id), t);
      this.emit('offer', { transfer: t });
      return;
    }
    // Everything else is about a transfer we know: ours if it is an answer.
    const answer = ['file-accept', 'file-decline', 'file-ack', 'file-nack', 'file-resume', 'file-done'].includes(m.t);
    const t = this.get(answer ? 'out' : 'in', tab, m.id) ?? (m.t === 'file-cancel' ? this.get('out', tab, m.id) : undefined);
    if (!t) {
      if (m.t === 'file-resume' || m.t === 'file-end') this.control(tab, { t: 'file-cancel', id: m.id, reason: 'unknown' });
      return;
    }
    if (this.ended(t)) return;
    switch (m.t) {
      case 'file-accept':
      case 'file-resume':
        if (t.state !== 'offered' && (m.t === 'file-accept' || (t.state !== 'sending' && t.state !== 'paused'))) return;
        if (t.state === 'offered') t.startedAt = performance.now();
        this.rewind(t, Math.min(m.have ?? 0, t.chunks));
        this.setState(t, 'sending');
        this.pump(t);
        break;
      case 'file-decline':
        this.end(t, 'declined', '', 'peer');
        break;
      case 'file-ack':
        if (m.have > t.have && m.have <= t.maxSent) {
          t.have = m.have;
          sample(t, performance.now(), doneBytes(t));
          this.emit('update', { transfer: t });
          this.wake(tab);
        }
        break;
      case 'file-nack':
        if (m.i < t.next && m.i >= t.have) {
          this.rewind(t, m.i);
          this.emit('update', { transfer: t });
          this.wake(tab);
          this.pump(t);
        }
        break;
      case 'file-done':
        t.have = t.chunks;
        this.end(t, 'done', '', 'peer');
        break;
      case 'file-end':
        if (t.root && !same(t.root, m.root)) {
          this.control(tab, { t: 'file-cancel', id: t.id, reason: 'integrity' });
          this.end(t, 'failed', 'integrity', 'me');
          return;
        }
        t.root = m.root;
        t.chain = t.chain.then(() => this.maybeFinish(t));
        break;
      case 'file-cancel':
        this.end(t, m.reason === '' ? 'cancelled' : 'failed', m.reason, 'peer');
        break;
      default:
        break;
    }
  }

  /** The sender goes back to chunk `i`. @param {Transfer} t @param {number} i */
  rewind(t, i) {
    t.have = i; // the receiver has written exactly the chunks before i
    t.next = i;
    t.endSent = false;
  }

  /**
   * One chunk, in order. Not the one we wait for: ignored (it comes again).
   * A bad hash: not written, and asked again.
   * @param {Transfer} t @param {number} i @param {Uint8Array} hash @param {Uint8Array} data
   * @param {Promise<Uint8Array>} digest  SHA-256 of data
   */
  async onChunk(t, i, hash, data, digest) {
    // Paused: the channel closed after this chunk arrived intact; keep it.
    const live = () => (t.state === 'receiving' || t.state === 'paused') && !!t.sink;
    if (!live() || i !== t.next) return;
    const want = i === t.chunks - 1 ? t.size - i * t.chunk : t.chunk;
    if (i >= t.chunks || data.length !== want || !same(await digest, hash)) {
      t.corrupt += 1;
      this.emit('corrupt', { transfer: t, index: i });
      if (t.corrupt > MAX_CORRUPT) {
        this.control(t.tab, { t: 'file-cancel', id: t.id, reason: 'too-many-corrupt' });
        this.end(t, 'failed', 'too-many-corrupt', 'me');
        return;
      }
      // t.next stays i: what follows is ignored until chunk i comes again.
      this.control(t.tab, { t: 'file-nack', id: t.id, i });
      return;
    }
    if (!live()) return; // ended while hashing
    // Held in memory until a block is full, then written at once.
    if (!t.held.length) t.heldFrom = i;
    t.held.push(data); // a view of this message's own buffer
    t.hashes[i] = hash.slice();
    t.next = i + 1;
    if (t.held.length * t.chunk >= this.block || t.next === t.chunks) this.flush(t); // finishes when written
  }

  /**
   * All chunks written and the sender's root known: re-read the file from
   * disk, hash every chunk again, compare the root, and only then offer it.
   * @param {Transfer} t
   */
  async maybeFinish(t) {
    if (t.state !== 'receiving' || !t.root || t.have !== t.chunks || !t.sink) return;
    this.setState(t, 'verifying');
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
    if (this.ended(t)) return;
    if (!ok) {
      this.control(t.tab, { t: 'file-cancel', id: t.id, reason: 'integrity' });
      this.end(t, 'failed', 'integrity', 'me');
      return;
    }
    this.control(t.tab, { t: 'file-done', id: t.id });
    this.end(t, 'done', '', '');
  }

  /** For tests: numbers only, never names or bytes. */
  snapshot() {
    return {
      counters: { ...this.counters },
      store: this.store.kind,
      transfers: [...this.transfers.values()].map((t) => ({
        id: t.id, dir: t.dir, tab: t.tab, group: t.group, state: t.state, reason: t.reason, by: t.by,
        size: t.size, chunks: t.chunks, have: t.have, sentBytes: t.sentBytes, resentBytes: t.resentBytes,
        corrupt: t.corrupt, ms: t.endedAt && t.startedAt ? Math.round(t.endedAt - t.startedAt) : 0,
      })),
    };
  }

  /** Ends everything (leaving the call). */
  close() {
    for (const t of this.transfers.values()) {
      if (!this.ended(t)) this.end(t, 'failed', 'closed', 'me');
    }
    for (const t of [...this.transfers.values()]) this.dismiss(t);
    for (const tab of [...this.waiting.keys()]) this.wake(tab);
  }
}

/**
 * Received files are streamed to the Origin Private File System, so a file
 * of gigabytes never sits in the tab's memory; without it (an old browser,
 * some private modes) they are kept in memory up to MEMORY_LIMIT.
 */
export const MEMORY_LIMIT = 512 * 1024 * 1024;
const DIR = 'xroom-incoming';
const LOCK = 'xroom-files-';

/**
 * The store of this page. Its files are named after `owner` (the page's
 * tab id), and the page holds a Web Lock named after it while it lives, so
 * another page of the same site (another room in another tab) can tell its
 * files from the leftovers of a page that is gone (a crash, a closed tab),
 * which `clear` removes.
 * @param {string} owner
 * @returns {Promise<Store>}
 */
export async function openStore(owner) {
  try {
    if (!navigator.storage?.getDirectory) throw new Error('no OPFS');
    const root = await navigator.storage.getDirectory();
    const dir = await root.getDirectoryHandle(DIR, { create: true });
    const disk = new DiskWorker();
    try {
      await disk.call({ op: 'probe', name: `${owner}.probe` });
    } catch (e) {
      disk.stop();
      throw e;
    }
    if (navigator.locks) navigator.locks.request(`${LOCK}${owner}`, () => new Promise(() => {})).catch(() => {});
    return diskStore(dir, owner, disk);
  } catch (e) {
    console.info('xroom: received files are kept in memory', e);
    return memoryStore();
  }
}

/** The page's disk worker (disk-worker.js): requests in, answers back in order. */
class DiskWorker {
  constructor() {
    this.worker = new Worker(new URL('./disk-worker.js', import.meta.url), { type: 'module', name: 'xroom-disk' });
    this.seq = 0;
    /** @type {Map<number, {resolve: (v: any) => void, reject: (e: Error) => void}>} */
    this.waiting = new Map();
    /** @type {Error | null} why the worker is gone, if it is */
    this.dead = null;
    this.worker.onmessage = (ev) => {
      const r = ev.data ?? {};
      const w = this.waiting.get(r.seq);
      if (!w) return;
      this.waiting.delete(r.seq);
      if (r.ok) w.resolve(r.value);
      else w.reject(Object.assign(new Error(r.message), { name: r.error }));
    };
    // The worker failed to load or crashed: nothing pending will be
    // answered, and nothing more is asked of it.
    this.worker.onerror = (ev) => {
      ev.preventDefault?.();
      this.stop(new Error(`the disk worker failed: ${ev.message ?? 'unknown error'}`));
    };
  }

  /**
   * @param {Record<string, unknown>} msg
   * @param {Transferable[]} [transfer]
   * @returns {Promise<any>}
   */
  call(msg, transfer = []) {
    if (this.dead) return Promise.reject(this.dead);
    return new Promise((resolve, reject) => {
      this.seq += 1;
      this.waiting.set(this.seq, { resolve, reject });
      this.worker.postMessage({ ...msg, seq: this.seq }, transfer);
    });
  }

  /** @param {Error} [why] */
  stop(why = new Error('the disk worker stopped')) {
    this.worker.terminate();
    this.dead = why;
    for (const w of this.waiting.values()) w.reject(why);
    this.waiting.clear();
  }
}

/**
 * Files in the Origin Private File System, written by the disk worker.
 * @param {FileSystemDirectoryHandle} dir @param {string} owner @param {DiskWorker} disk
 * @returns {Store}
 */
function diskStore(dir, owner, disk) {
  let files = 0;
  return {
    kind: 'disk',
    async room(size) {
      const est = await navigator.storage.estimate?.().catch(() => null);
      if (!est || typeof est.quota !== 'number') return { ok: true, free: Infinity };
      const free = est.quota - (est.usage ?? 0);
      return { ok: size <= free, free };
    },
    async create(id, size) {
      const name = `${owner}.${id}`;
      files += 1;
      const file = files;
      await disk.call({ op: 'open', file, name, size });
      let open = true;
      return {
        write(position, parts) {
          // Handed over to the worker, not copied: each part is a view of
          // the buffer of the message it came in.
          const buffers = [...new Set(parts.map((p) => /** @type {ArrayBuffer} */ (p.buffer)))];
          const list = parts.map((p) => ({ buf: p.buffer, off: p.byteOffset, len: p.byteLength }));
          return disk.call({ op: 'write', file, at: position, parts: list }, buffers);
        },
        digests: (chunk) => disk.call({ op: 'digests', file, chunk }),
        async close() {
          if (open) { open = false; await disk.call({ op: 'close', file }); }
        },
        read: async () => (await dir.getFileHandle(name)).getFile(),
        async discard() {
          open = false;
          await disk.call({ op: 'discard', file }).catch(() => {}); // a dead worker holds no handle
          await dir.removeEntry(name).catch(() => {});
        },
      };
    },
    // Leftovers of pages that are gone: removed at start. Without Web
    // Locks nothing is removed (a live page's file could be among them).
    async clear() {
      if (!navigator.locks) return;
      const q = await navigator.locks.query();
      const live = new Set((q.held ?? []).map((l) => l.name ?? ''));
      // @ts-ignore: async iteration of a directory handle
      for await (const name of dir.keys()) {
        const who = String(name).split('.')[0];
        if (who !== owner && !live.has(`${LOCK}${who}`)) await dir.removeEntry(name).catch(() => {});
      }
    },
  };
}

/** @returns {Store} */
export function memoryStore() {
  let used = 0;
  return {
    kind: 'memory',
    async room(size) {
      const free = MEMORY_LIMIT - used;
      return { ok: size <= free, free };
    },
    async create(_name, size) {
      const buf = new Uint8Array(size);
      used += size;
      let alive = true;
      const release = () => { if (alive) { alive = false; used -= size; } };
      return {
        async write(position, parts) {
          let at = position;
          for (const p of parts) {
            buf.set(p, at);
            at += p.length;
          }
        },
        async digests(chunk) {
          const hashes = [];
          for (let at = 0; at < size; at += chunk) hashes.push(sha256(buf.subarray(at, Math.min(size, at + chunk))));
          return { size, hashes: await Promise.all(hashes) };
        },
        async close() {},
        async read() { return new Blob([buf]); },
        async discard() { release(); },
      };
    },
    async clear() {},
  };
}
