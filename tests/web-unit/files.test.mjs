// File transfer (web/js/features/files/) without a browser: names, the chunk
// format and control messages with their validation, and two
// FileTransfers over fake channels sealed with the real DataSealer and a
// memory store: a whole transfer, decline, cancel, damaged chunks, a
// channel that breaks and a new one that resumes, an empty file,
// messages for transfers nobody offered, and a disk that is slow, fails or
// keeps something else than what it was given.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { FileTransfers } from '../../web/js/features/files/transfers.js';
import { memoryStore } from '../../web/js/features/files/store.js';
import {
  CHUNK, chunkCount, cleanFileName, decodeChunk, encodeChunk, parseControl, rootOf,
} from '../../web/js/features/files/wire.js';
import { DataSealer } from '../../web/js/e2ee/crypto.js';
import { sealedTabs } from './sealed-tabs.mjs';
import { FILE_SEAL } from '../../web/js/transport/channels.js';

const TA = 'AAAAAAAAAAAAAAAA';
const TB = 'BBBBBBBBBBBBBBBB';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const sha = (b) => createHash('sha256').update(b).digest('hex');

test('file names are cleaned: no path, no controls or bidi, no leading dots, bounded', () => {
  assert.equal(cleanFileName('../../etc/passwd'), 'passwd');
  assert.equal(cleanFileName('C:\\Users\\x\\report.pdf'), 'report.pdf');
  assert.equal(cleanFileName('.bashrc'), 'bashrc');
  assert.equal(cleanFileName('a\u0000b\u202ecod.exe'), 'a bcod.exe');
  assert.equal(cleanFileName('harmless\u202Eexe.txt'), 'harmlessexe.txt');
  assert.equal(cleanFileName(''), 'file');
  const long = cleanFileName(`${'x'.repeat(400)}.tar.gz`);
  assert.equal(long.length, 255);
  assert.ok(long.endsWith('.gz'));
});

test('chunks: encoded and decoded; malformed ones refused', () => {
  const data = randomBytes(1000);
  const hash = randomBytes(32);
  const c = decodeChunk(encodeChunk('abc_-', 7, hash, data));
  assert.equal(c.id, 'abc_-');
  assert.equal(c.index, 7);
  assert.deepEqual(Buffer.from(c.hash), hash);
  assert.deepEqual(Buffer.from(c.data), data);
  const ok = encodeChunk('abc', 1, hash, data);
  for (const bad of [new Uint8Array(0), ok.slice(0, 10), Uint8Array.of(2, ...ok.subarray(1)), Uint8Array.of(1, 0, ...ok.subarray(2)),
    Uint8Array.of(1, 40, ...ok.subarray(2))]) {
    assert.equal(decodeChunk(bad), null);
  }
  const badId = encodeChunk('a b', 1, hash, data);
  assert.equal(decodeChunk(badId), null);
  assert.equal(chunkCount(0, CHUNK), 0);
  assert.equal(chunkCount(CHUNK, CHUNK), 1);
  assert.equal(chunkCount(CHUNK + 1, CHUNK), 2);
});

test('control messages: only well-formed ones pass', () => {
  assert.deepEqual(parseControl({ t: 'file-offer', id: 'x1', name: '../a.txt', size: 5, chunk: CHUNK, mime: 'text/plain', extra: 1 }),
    { t: 'file-offer', id: 'x1', name: 'a.txt', size: 5, chunk: CHUNK, mime: 'text/plain' });
  assert.deepEqual(parseControl({ t: 'file-ack', id: 'x', have: 3 }), { t: 'file-ack', id: 'x', have: 3 });
  for (const bad of [null, [], { t: 'file-offer', id: 'x', name: 'a', size: -1, chunk: CHUNK, mime: '' },
    { t: 'file-offer', id: 'x', name: 'a', size: 1.5, chunk: CHUNK, mime: '' },
    { t: 'file-offer', id: 'x', name: 'a', size: 1, chunk: 10, mime: '' },
    { t: 'file-offer', id: 'x', name: 'a', size: 1, chunk: 1024 * 1024, mime: '' },
    { t: 'file-ack', id: 'x', have: '3' }, { t: 'file-end', id: 'x', root: 'zz' }, { t: 'file-nope', id: 'x' },
    { t: 'file-accept', id: '' }, { t: 'file-accept', id: 'x'.repeat(33) }]) {
    assert.equal(parseControl(bad), null, JSON.stringify(bad));
  }
});

/** Fake data channels wired back to back; `cut()` closes both. */
function pipe() {
  const mk = () => {
    const l = { message: [], open: [], close: [], bufferedamountlow: [] };
    return {
      readyState: 'open', binaryType: 'blob', bufferedAmount: 0, bufferedAmountLowThreshold: 0, sent: 0, peer: null, l,
      addEventListener(type, fn) { l[type].push(fn); },
      send(bytes) {
        if (this.readyState !== 'open') throw new Error('closed');
        this.sent += 1;
        const data = new Uint8Array(bytes).slice().buffer;
        setTimeout(() => { if (this.peer.readyState === 'open') for (const fn of this.peer.l.message) fn({ data }); });
      },
    };
  };
  const a = mk();
  const b = mk();
  a.peer = b;
  b.peer = a;
  const cut = () => {
    for (const c of [a, b]) {
      c.readyState = 'closed';
      for (const fn of c.l.close) fn({});
    }
  };
  return { a, b, cut };
}

async function pair(storeB = memoryStore()) {
  // The real pair key of two tabs, under the names TA and TB.
  const [x, y] = await sealedTabs(2);
  const box = (s) => ({ seal: (t, c, b) => s.seal(t, c, b), open: (t, c, b) => s.open(t, c, b) });
  const sa = new DataSealer(async (t) => (t === TB ? x.sealer.keyFor(y.tab) : null), TA);
  const sb = new DataSealer(async (t) => (t === TA ? y.sealer.keyFor(x.tab) : null), TB);
  // Blocks of 4 chunks: files of a few dozen chunks are written in many.
  const A = new FileTransfers(box(sa), memoryStore(), { block: 4 * CHUNK });
  const B = new FileTransfers(box(sb), storeB, { block: 4 * CHUNK });
  const link = () => {
    const p = pipe();
    A.attach(TB, p.a);
    B.attach(TA, p.b);
    return p;
  };
  const p = link();
  return { A, B, sa, sb, p, link };
}

/** Resolves with B's next offer. */
const nextOffer = (B) => new Promise((res) => { const off = B.on('offer', ({ transfer }) => { off(); res(transfer); }); });
/** Resolves when `t` reaches `state`. */
const reach = (X, t, state) => new Promise((res, rej) => {
  if (t.state === state) { res(t); return; }
  const timer = setTimeout(() => rej(new Error(`stuck in ${t.state} (${t.have}/${t.chunks}), wanted ${state}`)), 30000);
  const off = X.on('update', ({ transfer }) => {
    if (transfer === t && transfer.state === state) { clearTimeout(timer); off(); res(t); }
  });
});
const bytesOf = async (blob) => Buffer.from(await blob.arrayBuffer());

test('a whole transfer: offered, asked, accepted, received intact, verified; nothing before the answer', async () => {
  const { A, B, p } = await pair();
  const data = randomBytes(3 * CHUNK + 123);
  const offer = nextOffer(B);
  const [out] = A.send(new Blob([data], { type: 'application/octet-stream' }), [TB]);
  out.name = 'ignored';
  const t = await offer;
  assert.equal(t.size, data.length);
  assert.equal(t.chunks, 4);
  await sleep(30);
  assert.equal(A.counters.chunksSent, 0, 'nothing before the answer');
  assert.equal(p.a.sent, 1, 'only the offer');
  B.accept(t);
  await reach(B, t, 'done');
  await reach(A, out, 'done');
  assert.equal(sha(await bytesOf(t.result)), sha(data));
  assert.equal(out.resentBytes, 0);
  assert.equal(t.corrupt, 0);
  assert.equal(B.counters.refused, 0);
});

test('decline: the sender sends nothing and says so', async () => {
  const { A, B } = await pair();
  const offer = nextOffer(B);
  const [out] = A.send(new Blob([randomBytes(CHUNK * 2)]), [TB]);
  const t = await offer;
  B.decline(t);
  await reach(A, out, 'declined');
  assert.equal(out.by, 'peer');
  assert.equal(t.by, 'me');
  assert.equal(A.counters.chunksSent, 0);
  assert.equal(B.counters.chunksReceived, 0);
});

test('cancel by the receiver midway stops the sender', async () => {
  const { A, B } = await pair();
  A.rateLimit = 4 * CHUNK * 10; // slow enough to cancel midway
  const offer = nextOffer(B);
  const [out] = A.send(new Blob([randomBytes(CHUNK * 40)]), [TB]);
  const t = await offer;
  await B.accept(t);
  while (t.have < 2) await sleep(10);
  B.cancel(t);
  await reach(A, out, 'cancelled');
  assert.equal(out.by, 'peer');
  assert.ok(t.have < t.chunks);
  assert.equal(t.sink, null, 'the partial file is gone');
  const sent = A.counters.chunksSent;
  await sleep(100);
  assert.ok(A.counters.chunksSent - sent <= 1);
});

test('a damaged chunk is not written and comes again; persistent damage fails the transfer', async () => {
  const { A, B } = await pair();
  const data = randomBytes(CHUNK * 5);
  A.corruptNext = 1;
  let offer = nextOffer(B);
  A.send(new Blob([data]), [TB]);
  let t = await offer;
  const corrupt = [];
  B.on('corrupt', ({ index }) => corrupt.push(index));
  B.accept(t);
  await reach(B, t, 'done');
  assert.deepEqual(corrupt, [0]);
  assert.equal(sha(await bytesOf(t.result)), sha(data));

  A.corruptNext = 1000;
  offer = nextOffer(B);
  const [out] = A.send(new Blob([data]), [TB]);
  t = await offer;
  B.accept(t);
  await reach(B, t, 'failed');
  assert.equal(t.reason, 'too-many-corrupt');
  assert.equal(t.result, null);
  await reach(A, out, 'failed');
  assert.equal(out.reason, 'too-many-corrupt');
});

test('the channel breaks midway: both wait, a new channel resumes from the last written chunk', async () => {
  const { A, B, p, link } = await pair();
  A.rateLimit = CHUNK * 50; // 60 chunks in over a second: cut well before the end
  const data = randomBytes(CHUNK * 60 + 7);
  const offer = nextOffer(B);
  const [out] = A.send(new Blob([data]), [TB]);
  const t = await offer;
  await B.accept(t);
  while (t.have < 10) await sleep(5);
  p.cut();
  assert.equal(out.state, 'paused');
  assert.equal(t.state, 'paused');
  const had = t.have;
  const sentAtCut = out.maxSent; // how far the sender had gone (its window runs ahead of what is written)
  await sleep(50);
  A.rateLimit = 0;
  link();
  await reach(B, t, 'done');
  await reach(A, out, 'done');
  assert.ok(t.have === t.chunks && had >= 10 && had < t.chunks);
  assert.equal(sha(await bytesOf(t.result)), sha(data));
  // Nothing written before the cut came again: at most what was in flight.
  assert.ok(out.resentBytes <= (sentAtCut - had) * CHUNK, `resent ${out.resentBytes} bytes; ${had} of ${sentAtCut} chunks were written at the cut`);
});

test('an empty file, and messages about transfers nobody offered', async () => {
  const { A, B, sa, p } = await pair();
  const offer = nextOffer(B);
  const [out] = A.send(new Blob([]), [TB]);
  const t = await offer;
  assert.equal(t.chunks, 0);
  B.accept(t);
  await reach(B, t, 'done');
  await reach(A, out, 'done');
  assert.equal((await bytesOf(t.result)).length, 0);
  // A chunk and an end for an id B never saw: refused, nothing created.
  const before = B.counters.refused;
  const hash = new Uint8Array(32);
  for (const fn of p.b.l.message) fn({ data: (await sa.seal(TB, FILE_SEAL, encodeChunk('nobody', 0, hash, new Uint8Array(5)))).slice().buffer });
  await sleep(30);
  assert.equal(B.counters.refused, before + 1);
  assert.equal(B.transfers.size, 1);
  // The root of no chunks is the hash of nothing.
  assert.equal(Buffer.from(await rootOf([])).toString('hex'), sha(Buffer.alloc(0)));
});

/**
 * The memory store behind a disk that is slow (every write takes `ms`),
 * fails its `failAt`-th write (as full, or broken), or returns other bytes
 * than it was given.
 */
function oddDisk({ ms = 0, failAt = 0, full = false, rot = false } = {}) {
  const inner = memoryStore();
  /** watch(): a number that grows as chunks are checked (set by the test) */
  const log = { writes: 0, checkedWhileWriting: 0, watch: () => 0 };
  return {
    log,
    kind: 'memory',
    room: (n) => inner.room(n),
    clear: () => inner.clear(),
    async create(id, size) {
      const sink = await inner.create(id, size);
      return {
        ...sink,
        async write(position, parts) {
          log.writes += 1;
          if (log.writes === failAt) throw full ? new DOMException('no room', 'QuotaExceededError') : new Error('broken disk');
          const before = log.watch();
          await sleep(ms);
          if (log.watch() > before) log.checkedWhileWriting += 1;
          await sink.write(position, parts);
        },
        async digests(chunk) {
          const d = await sink.digests(chunk);
          if (rot && d.hashes.length) d.hashes[d.hashes.length - 1] = new Uint8Array(32);
          return d;
        },
      };
    },
  };
}

test('a slow disk: chunks go on arriving and are checked while a block is written; acks wait for the disk', async () => {
  const disk = oddDisk({ ms: 40 });
  const { A, B } = await pair(disk);
  const data = randomBytes(64 * CHUNK + 5);
  const offer = nextOffer(B);
  const [out] = A.send(new Blob([data]), [TB]);
  const t = await offer;
  disk.log.watch = () => t.next;
  const acked = [];
  const ackCheck = A.on('update', ({ transfer }) => { if (transfer === out) acked.push([out.have, t.have]); });
  B.accept(t);
  await reach(B, t, 'done');
  await reach(A, out, 'done');
  ackCheck();
  assert.equal(sha(await bytesOf(t.result)), sha(data));
  assert.ok(disk.log.writes >= 4, `${disk.log.writes} writes`);
  assert.ok(disk.log.checkedWhileWriting > 0, 'chunks were checked while a block was being written');
  for (const [sent, written] of acked) assert.ok(sent <= written, `A counted ${sent} chunks done, B had written ${written}`);
});

for (const [what, disk, size, reason] of [
  ['a failing disk', { failAt: 2 }, 40 * CHUNK, 'write-error'],
  ['a disk that fills up midway', { failAt: 2, full: true }, 40 * CHUNK, 'no-space'],
  ['a disk that keeps other bytes than it was given (the re-read check)', { rot: true }, 5 * CHUNK, 'integrity'],
]) {
  test(`${what}: the transfer fails on both sides with "${reason}", nothing is offered`, async () => {
    const { A, B } = await pair(oddDisk(disk));
    const offer = nextOffer(B);
    const [out] = A.send(new Blob([randomBytes(size)]), [TB]);
    const t = await offer;
    B.accept(t);
    await reach(B, t, 'failed');
    await reach(A, out, 'failed');
    assert.equal(t.reason, reason);
    assert.equal(out.reason, reason);
    assert.equal(t.result, null);
    assert.equal(t.sink, null, 'the partial file is gone');
  });
}
