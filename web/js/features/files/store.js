// @ts-check
// store.js (files/): where received files are written. On disk: the
// Origin Private File System, through the page's disk worker
// (disk-worker.js), which writes each block with one call of a sync
// access handle and re-reads and hashes a finished file. Without OPFS or
// sync access handles (or if the worker does not start): in memory, up to
// MEMORY_LIMIT. Files are named after the page's tab id, and a Web Lock
// held under that name tells a live page's files from the leftovers of a
// page that is gone. No DOM.

import { sha256 } from './wire.js';

/**
 * @typedef {{write: (position: number, parts: Uint8Array[]) => Promise<void>,
 *   digests: (chunk: number) => Promise<{size: number, hashes: Uint8Array[]}>,
 *   close: () => Promise<void>, read: () => Promise<Blob>, discard: () => Promise<void>}} Sink
 *   A received file being written. `write` puts `parts` one after another
 *   from `position` and may take their buffers over (the caller must not
 *   use them again); `digests` re-reads what was written and hashes it
 *   chunk by chunk.
 * @typedef {{create: (id: string, size: number) => Promise<Sink>, room: (size: number) => Promise<{ok: boolean, free: number}>,
 *   clear: () => Promise<void>, kind: 'disk' | 'memory'}} Store
 */

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
