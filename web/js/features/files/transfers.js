// @ts-check
// transfers.js (files/): every file transfer of this page, in and out, over
// the file channel of each peer connection (FILE_CHANNEL, made by the mesh
// next to the data channel, so a chat message never queues behind
// megabytes of chunks). FileTransfers keeps the transfers, ends them, and
// hands each message to the half it is for: sender.js sends, receiver.js
// receives and checks; channel.js seals, orders and paces what goes on the
// channels; wire.js is the format, transfer.js the rules, store.js where
// received files go. No DOM here (views/files-view.js shows it).
//
// When a channel closes (ICE failure, a rebuilt connection) both sides keep
// their transfers (`paused`); when a channel to the same peer opens again
// the receiver sends `resume {have}` and the sender goes on from the first
// chunk not yet written, so only what was in flight is sent twice. A peer
// that leaves the call fails its transfers.

import { Emitter } from '../../util/emitter.js';
import { randomId } from '../../util/ids.js';
import { FileLink } from './channel.js';
import { accept, decline, onEnd, onOffer, receiveChunk, resume } from './receiver.js';
import { onAnswer, sendOffer } from './sender.js';
import { BLOCK, WINDOW, directionOf, isEnded, makeTransfer, transferKey } from './transfer.js';
import { CHUNK, cleanFileName, decodeControl, isChunk } from './wire.js';

/** @typedef {import('./transfer.js').Transfer} Transfer */
/** @typedef {import('./transfer.js').TransferState} TransferState */
/** @typedef {import('./transfer.js').FileEvents} FileEvents */
/** @typedef {import('./store.js').Store} Store */
/** @typedef {import('./channel.js').ByteBox} ByteBox */

/**
 * Every transfer of this page, in and out, over the file channels.
 * Events: `offer` (someone asks us), `update` (state or progress),
 * `corrupt` (a chunk failed its hash).
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
    this.store = store;
    this.chunk = opts.chunk ?? CHUNK;
    this.window = opts.window ?? WINDOW;
    this.block = opts.block ?? BLOCK;
    /** @type {Map<string, Transfer>} by transferKey(dir, tab, id) */
    this.transfers = new Map();
    /** for tests: corrupt the next n chunks we send (after hashing them) */
    this.corruptNext = 0;
    /** for tests: send at most this many bytes per second (0: no limit) */
    this.rateLimit = 0;
    this.paced = { from: 0, bytes: 0 };
    this.counters = { chunksSent: 0, chunksReceived: 0, refused: 0 };
    this.link = new FileLink(box, {
      up: (tab) => this.channelUp(tab),
      down: (tab) => this.channelDown(tab),
      message: (tab, plain) => this.receive(tab, plain),
      refused: () => { this.counters.refused += 1; },
    });
  }

  /** @param {'out' | 'in'} dir @param {string} tab @param {string} id */
  get(dir, tab, id) {
    return this.transfers.get(transferKey(dir, tab, id));
  }

  /**
   * The file channel of a (new) connection to `tab`.
   * @param {string} tab
   * @param {RTCDataChannel} ch
   */
  attach(tab, ch) {
    this.link.attach(tab, ch);
  }

  /** The peer is gone for good: its transfers end. @param {string} tab */
  detach(tab) {
    this.link.forget(tab);
    for (const t of this.transfers.values()) {
      if (t.tab === tab && !isEnded(t)) this.end(t, 'failed', 'peer-left', 'peer');
    }
    this.link.wake(tab);
  }

  /** @param {Transfer} t */
  ended(t) {
    return isEnded(t);
  }

  /** Whether the file channel to `tab` is open. @param {string} tab */
  open(tab) {
    return this.link.open(tab);
  }

  /** A channel to `tab` opened: pick up where each transfer stopped. @param {string} tab */
  channelUp(tab) {
    for (const t of this.transfers.values()) {
      if (t.tab !== tab || isEnded(t)) continue;
      if (t.dir === 'out' && t.state === 'offered') sendOffer(this, t);
      if (t.dir === 'in' && (t.state === 'receiving' || t.state === 'paused')) resume(this, t);
    }
  }

  /** The channel to `tab` closed: transfers wait for another. @param {string} tab */
  channelDown(tab) {
    for (const t of this.transfers.values()) {
      if (t.tab === tab && (t.state === 'sending' || t.state === 'receiving')) this.setState(t, 'paused');
    }
    this.link.wake(tab);
  }

  /**
   * Offers `file` to each of `tabs` (one transfer per peer, one group).
   * @param {Blob & {name?: string}} file
   * @param {string[]} tabs
   * @returns {Transfer[]}
   */
  send(file, tabs) {
    const group = randomId(12);
    const name = cleanFileName(file.name ?? 'file');
    const out = [];
    for (const tab of tabs) {
      const t = makeTransfer('out', tab, randomId(12), group, name, file.size, file.type.slice(0, 128), this.chunk);
      t.file = file;
      this.transfers.set(transferKey('out', tab, t.id), t);
      if (this.open(tab)) sendOffer(this, t);
      this.emit('update', { transfer: t });
      out.push(t);
    }
    return out;
  }

  /** Accepts an offer (receiver.js). @param {Transfer} t */
  accept(t) {
    return accept(this, t);
  }

  /** Declines an offer. @param {Transfer} t */
  decline(t) {
    decline(this, t);
  }

  /** Cancels from this side. @param {Transfer} t */
  cancel(t) {
    if (isEnded(t)) return;
    this.link.control(t.tab, { t: 'file-cancel', id: t.id, reason: '' });
    this.end(t, 'cancelled', '', 'me');
  }

  /** Forgets a finished transfer (and its stored file). @param {Transfer} t */
  dismiss(t) {
    if (!isEnded(t)) this.cancel(t);
    this.transfers.delete(transferKey(t.dir, t.tab, t.id));
    if (t.sink) t.sink.discard().catch(() => {});
    t.sink = null;
    t.result = null;
  }

  /**
   * @param {Transfer} t @param {TransferState} state @param {string} reason @param {'me' | 'peer' | ''} by
   */
  end(t, state, reason, by) {
    if (isEnded(t)) return;
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
    this.link.wake(t.tab);
  }

  /** @param {Transfer} t @param {TransferState} state */
  setState(t, state) {
    if (t.state === state) return;
    t.state = state;
    this.emit('update', { transfer: t });
  }

  /** An opened message from `tab`: a chunk, or a control message. @param {string} tab @param {Uint8Array} plain */
  receive(tab, plain) {
    if (isChunk(plain)) {
      receiveChunk(this, tab, plain);
      return;
    }
    const msg = decodeControl(plain);
    if (!msg) {
      this.counters.refused += 1;
      return;
    }
    this.onControl(tab, msg);
  }

  /** @param {string} tab @param {Record<string, any>} m */
  onControl(tab, m) {
    if (m.t === 'file-offer') {
      onOffer(this, tab, m);
      return;
    }
    // Everything else is about a transfer we know.
    const t = this.get(directionOf(m.t), tab, m.id) ?? (m.t === 'file-cancel' ? this.get('out', tab, m.id) : undefined);
    if (!t) {
      if (m.t === 'file-resume' || m.t === 'file-end') this.link.control(tab, { t: 'file-cancel', id: m.id, reason: 'unknown' });
      return;
    }
    if (isEnded(t)) return;
    if (m.t === 'file-cancel') this.end(t, m.reason === '' ? 'cancelled' : 'failed', m.reason, 'peer');
    else if (t.dir === 'out') onAnswer(this, t, m);
    else if (m.t === 'file-end') onEnd(this, t, m.root);
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
      if (!isEnded(t)) this.end(t, 'failed', 'closed', 'me');
    }
    for (const t of [...this.transfers.values()]) this.dismiss(t);
    this.link.wakeAll();
  }
}
