// @ts-check
// disk-worker.js (files/): writes received files to the Origin Private File System
// through synchronous access handles, in a module worker (they exist only
// in workers). A write goes straight from this worker to the file: no copy
// into a Blob, no trip through the browser process per write, which is what
// FileSystemWritableFileStream costs on the main thread.
//
// Requests (from store.js, `diskStore`), answered in order with
// {seq, ok: true, value} or {seq, ok: false, error: name, message}:
//   {op: 'probe', name}                    sync access handles work here?
//   {op: 'open', file, name, size}         create `name`, `size` bytes long
//   {op: 'write', file, at, parts}         parts [{buf, off, len}] (buffers transferred)
//                                          one after another from byte `at`
//   {op: 'digests', file, chunk}           {size, hashes}: SHA-256 of each chunk as stored
//   {op: 'close', file}                    flush and close (the file stays)
//   {op: 'discard', file}                  close and remove
// `file` is the page's number for an open file. Requests run one after
// another: a write never overtakes the open before it or the check after it.

const DIR = 'xroom-incoming';
/** The check reads the file in blocks of this size. */
const READ_BLOCK = 4 * 1024 * 1024;

/** @type {Map<number, {name: string, handle: any}>} */
const files = new Map();
/** @type {FileSystemDirectoryHandle | null} */
let dir = null;
let queue = Promise.resolve();
/** Where the parts of a write are put together. */
let staging = new Uint8Array(0);

async function folder() {
  if (!dir) dir = await (await navigator.storage.getDirectory()).getDirectoryHandle(DIR, { create: true });
  return dir;
}

/** @param {number} file */
function handleOf(file) {
  const f = files.get(file);
  if (!f) throw new Error(`file ${file} is not open`);
  return f.handle;
}

/** @param {Record<string, any>} m */
async function run(m) {
  switch (m.op) {
    case 'probe': {
      const d = await folder();
      const fh = await d.getFileHandle(m.name, { create: true });
      // @ts-ignore: not in every DOM lib yet
      const h = await fh.createSyncAccessHandle();
      h.close();
      await d.removeEntry(m.name).catch(() => {});
      return true;
    }
    case 'open': {
      const fh = await (await folder()).getFileHandle(m.name, { create: true });
      // @ts-ignore: not in every DOM lib yet
      const handle = await fh.createSyncAccessHandle();
      // The whole size at once: the space is taken now (a full disk fails
      // here, not halfway), and the browser is asked for room once instead
      // of every time the file grows.
      try {
        handle.truncate(0);
        handle.truncate(m.size);
        // Chromium does not throw when the quota refuses the size: the
        // file just stays shorter.
        if (handle.getSize() !== m.size) throw new DOMException('no room for the file', 'QuotaExceededError');
      } catch (e) {
        handle.close();
        await (await folder()).removeEntry(m.name).catch(() => {});
        throw e; // QuotaExceededError: the page says "Not enough space"
      }
      files.set(m.file, { name: m.name, handle });
      return null;
    }
    case 'write': {
      // One write for the whole block: each write of a sync access handle
      // has a fixed cost (measured: 64 KiB writes took three times as long
      // per byte as 1 MiB ones), a copy here costs less.
      const h = handleOf(m.file);
      const size = m.parts.reduce((/** @type {number} */ n, /** @type {{len: number}} */ p) => n + p.len, 0);
      if (staging.length < size) staging = new Uint8Array(size);
      let at = 0;
      for (const p of m.parts) {
        staging.set(new Uint8Array(p.buf, p.off, p.len), at);
        at += p.len;
      }
      for (let done = 0; done < size;) {
        const n = h.write(staging.subarray(done, size), { at: m.at + done });
        // A refused write may come back as a huge count (an error code
        // read as unsigned) rather than an exception.
        if (!(n > 0 && n <= size - done)) throw new DOMException(`write returned ${n}`, n > 0 ? 'QuotaExceededError' : 'InvalidStateError');
        done += n;
      }
      return null;
    }
    case 'digests': {
      const h = handleOf(m.file);
      h.flush();
      const size = h.getSize();
      const per = Math.max(1, Math.floor(READ_BLOCK / m.chunk)) * m.chunk;
      const buf = new Uint8Array(Math.min(per, Math.max(size, 1)));
      /** @type {Promise<ArrayBuffer[]>[]} one per block */
      const blocks = [];
      let done = 0; // blocks already waited for
      for (let at = 0; at < size; at += per) {
        const want = Math.min(per, size - at);
        let got = 0;
        while (got < want) {
          const n = h.read(buf.subarray(got, want), { at: at + got });
          if (!(n > 0 && n <= want - got)) throw new DOMException(`read returned ${n}`, 'NotReadableError');
          got += n;
        }
        // digest copies its input when called: the buffer is free again,
        // and the next block is read while this one is hashed. At most two
        // blocks' copies wait to be hashed.
        const block = [];
        for (let i = 0; i < want; i += m.chunk) {
          block.push(crypto.subtle.digest('SHA-256', buf.subarray(i, Math.min(want, i + m.chunk))));
        }
        blocks.push(Promise.all(block));
        if (blocks.length - done > 2) await blocks[done++];
      }
      const hashes = (await Promise.all(blocks)).flat().map((b) => new Uint8Array(b));
      return { size, hashes };
    }
    case 'close': {
      const f = files.get(m.file);
      files.delete(m.file);
      if (f) {
        f.handle.flush();
        f.handle.close();
      }
      return null;
    }
    case 'discard': {
      const f = files.get(m.file);
      files.delete(m.file);
      if (f) {
        try { f.handle.close(); } catch { /* already closed */ }
        await (await folder()).removeEntry(f.name).catch(() => {});
      }
      return null;
    }
    default:
      throw new Error(`unknown request ${String(m.op)}`);
  }
}

self.onmessage = (/** @type {MessageEvent} */ ev) => {
  const m = ev.data ?? {};
  queue = queue.then(() => run(m)).then(
    (value) => self.postMessage({ seq: m.seq, ok: true, value }),
    (e) => self.postMessage({ seq: m.seq, ok: false, error: e?.name ?? 'Error', message: String(e?.message ?? e) }),
  );
};
