// @ts-check
// channel.js (files/): the file channel of each peer connection
// (FILE_CHANNEL), as the transfers use it. Every message is sealed and
// opened by the box it is given under the name FILE_SEAL, sent and handed
// on in order per peer (sealing and opening run in parallel, acting does
// not). Flow control on the sending side: what is queued for a peer (the
// channel's own buffer and what is still being sealed) stays under
// HIGH_WATER, and a sender waiting for room is woken when it falls to
// LOW_WATER, when an ack comes, or when anything else changes. No DOM.

import { FILE_SEAL } from '../../transport/channels.js';
import { Chains } from '../../util/chains.js';
import { encodeControl } from './wire.js';

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
 * @typedef {{seal: (tab: string, channel: string, plain: Uint8Array) => Promise<Uint8Array>,
 *   open: (tab: string, channel: string, bytes: Uint8Array) => Promise<Uint8Array | null>}} ByteBox
 * @typedef {{up: (tab: string) => void, down: (tab: string) => void,
 *   message: (tab: string, plain: Uint8Array) => void, refused: () => void}} LinkEvents
 *   up: a channel to `tab` opened; down: it closed (or another took its
 *   place); message: an opened message, in order; refused: a message that
 *   was not binary or did not open.
 */

/** The file channels, one per peer. */
export class FileLink {
  /** @param {ByteBox} box @param {LinkEvents} on */
  constructor(box, on) {
    this.box = box;
    this.on = on;
    /** @type {Map<string, RTCDataChannel>} */
    this.channels = new Map();
    /** per peer: sends in order */
    this.sent = new Chains('file message not sent');
    /** per peer: receipts in order */
    this.received = new Chains('file message dropped');
    /** @type {Map<string, number>} per peer: bytes being sealed, not yet in the channel */
    this.pending = new Map();
    /** @type {Map<string, Set<() => void>>} per peer: pumps waiting for room */
    this.waiting = new Map();
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
    if (old && old !== ch) this.down(tab);
    ch.addEventListener('bufferedamountlow', () => this.wake(tab));
    ch.addEventListener('open', () => {
      if (this.channels.get(tab) === ch) this.on.up(tab);
    });
    ch.addEventListener('close', () => {
      if (this.channels.get(tab) === ch) this.down(tab);
    });
    ch.addEventListener('message', (ev) => {
      if (!(ev.data instanceof ArrayBuffer)) {
        this.on.refused();
        return;
      }
      // Open now (in parallel with the messages before it), act in order.
      const opened = this.box.open(tab, FILE_SEAL, new Uint8Array(ev.data));
      this.received.run(tab, async () => {
        const plain = await opened;
        if (!plain || this.channels.get(tab) !== ch) {
          if (!plain) this.on.refused();
          return;
        }
        this.on.message(tab, plain);
      });
    });
    if (ch.readyState === 'open') this.on.up(tab);
  }

  /** The channel to `tab` closed: nothing is queued for it any more. @param {string} tab */
  down(tab) {
    this.pending.delete(tab);
    this.on.down(tab);
  }

  /** The peer is gone for good. @param {string} tab */
  forget(tab) {
    this.channels.delete(tab);
    this.sent.delete(tab);
    this.received.delete(tab);
    this.pending.delete(tab);
  }

  /** @param {string} tab */
  open(tab) {
    return this.channels.get(tab)?.readyState === 'open';
  }

  /** Wakes the pumps of `tab`. @param {string} tab */
  wake(tab) {
    const w = this.waiting.get(tab);
    if (!w) return;
    this.waiting.delete(tab);
    for (const fn of w) fn();
  }

  /** Wakes every pump. */
  wakeAll() {
    for (const tab of [...this.waiting.keys()]) this.wake(tab);
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

  /** Whether a sender to `tab` must wait for room. @param {string} tab */
  full(tab) {
    return this.queued(tab) >= HIGH_WATER;
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
    this.sent.run(tab, async () => {
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
    });
    return true;
  }

  /** Sends a control message. @param {string} tab @param {Record<string, unknown>} msg */
  control(tab, msg) {
    return this.post(tab, encodeControl(msg));
  }
}
