// The bundled plugins' late-join sync (web/plugins/_shared/sync.js), with
// mocked timers: who is asked, what a timeout does, that a slow machine
// never leaves a newcomer empty for good, and that only asked peers' state
// is taken.
import { beforeEach, afterEach, mock, test } from 'node:test';
import assert from 'node:assert/strict';

globalThis.window ??= globalThis;
const { Sync, chunk } = await import('../../web/plugins/_shared/sync.js');

/** A newcomer whose sends are recorded and always succeed. */
function newcomer() {
  const sent = [];
  const applied = [];
  let synced = 0;
  const sync = new Sync({
    send: async (data, to) => { sent.push({ to, ...data }); return true; },
    snapshot: () => [],
    apply: (records, from) => { applied.push({ from, records }); },
    onSynced: () => { synced += 1; },
  });
  return { sync, sent, applied, synced: () => synced };
}

/** Peers `ids` answer the newcomer's hello, and the gather wait passes. */
function answered(n, ...ids) {
  for (const id of ids) n.sync.handle(id, { t: 'here', you: 'me' });
  mock.timers.tick(300);
}

const asked = (sent) => sent.filter((m) => m.t === 'sync').map((m) => m.to);

beforeEach(() => mock.timers.enable({ apis: ['setTimeout'] }));
afterEach(() => mock.timers.reset());

test('asks the smallest id among those who answered, once the gather wait is over', () => {
  const n = newcomer();
  n.sync.start();
  assert.deepEqual(n.sent, [{ to: undefined, t: 'hello' }]);
  n.sync.handle('peer-c', { t: 'here', you: 'me' });
  n.sync.handle('peer-a', { t: 'here', you: 'me' });
  assert.deepEqual(asked(n.sent), []);
  mock.timers.tick(300);
  assert.deepEqual(asked(n.sent), ['peer-a']);
  assert.equal(n.sync.self, 'me');
});

test('a snap from a peer never asked is ignored', () => {
  const n = newcomer();
  answered(n, 'peer-a');
  n.sync.handle('peer-x', { t: 'snap', r: [{ evil: 1 }], last: true });
  assert.deepEqual(n.applied, []);
  assert.equal(n.synced(), 0);
});

test('no answer in time: the next one, then every one again with a longer wait, until one answers', () => {
  const n = newcomer();
  answered(n, 'peer-a', 'peer-b');
  assert.deepEqual(asked(n.sent), ['peer-a']);
  mock.timers.tick(5000);
  assert.deepEqual(asked(n.sent), ['peer-a', 'peer-b']);
  // Both tried: a second round, each waited for 10 s.
  mock.timers.tick(5000);
  assert.deepEqual(asked(n.sent), ['peer-a', 'peer-b', 'peer-a']);
  mock.timers.tick(9999);
  assert.equal(asked(n.sent).length, 3);
  mock.timers.tick(1);
  assert.deepEqual(asked(n.sent), ['peer-a', 'peer-b', 'peer-a', 'peer-b']);
  n.sync.handle('peer-b', { t: 'snap', r: [{ id: 1 }], last: true });
  assert.equal(n.synced(), 1);
  mock.timers.tick(120000);
  assert.equal(asked(n.sent).length, 4, 'nothing asked once synced');
});

test('a late answer from a peer asked before still counts, in order, to its last chunk', () => {
  const n = newcomer();
  answered(n, 'peer-a', 'peer-b');
  mock.timers.tick(5000); // A timed out; B asked now
  n.sync.handle('peer-a', { t: 'snap', r: [{ id: 1 }], last: false });
  assert.equal(n.synced(), 0);
  n.sync.handle('peer-a', { t: 'snap', r: [{ id: 2 }], last: true });
  assert.equal(n.synced(), 1);
  assert.deepEqual(n.applied.map((x) => x.records[0].id), [1, 2]);
  // B's answer, now late, changes nothing more.
  n.sync.handle('peer-b', { t: 'snap', r: [{ id: 3 }], last: true });
  assert.equal(n.applied.length, 2);
  assert.equal(n.synced(), 1);
});

test('a peer that left is neither waited for nor asked again, nor believed', () => {
  const n = newcomer();
  answered(n, 'peer-a', 'peer-b');
  n.sync.left('peer-a'); // the one asked: go on to B at once
  assert.deepEqual(asked(n.sent), ['peer-a', 'peer-b']);
  mock.timers.tick(5000);
  assert.deepEqual(asked(n.sent), ['peer-a', 'peer-b', 'peer-b'], 'the second round has only B');
  n.sync.handle('peer-a', { t: 'snap', r: [{ id: 1 }], last: true });
  assert.deepEqual(n.applied, []);
});

test('chunks stay under the size the app allows; a record too big alone is dropped', () => {
  const records = Array.from({ length: 200 }, (_, i) => ({ i, pad: 'x'.repeat(200) }));
  const parts = chunk([...records, { huge: 'y'.repeat(20000) }]);
  assert.ok(parts.length > 1);
  for (const p of parts) assert.ok(JSON.stringify(p).length <= 12000);
  assert.deepEqual(parts.flat(), records);
});
