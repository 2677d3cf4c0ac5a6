// web/js/util without a browser: prefs in localStorage, the storage
// wrapper, the emitter, per-peer chains of work.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Emitter } from '../../web/js/util/emitter.js';
import { readJSON, readObject, removeKey, writeJSON } from '../../web/js/util/storage.js';
import { Chains } from '../../web/js/util/chains.js';

function fakeStorage() {
  const m = new Map();
  return {
    getItem: (k) => (m.has(k) ? m.get(k) : null),
    setItem: (k, v) => { m.set(k, String(v)); },
    map: m,
  };
}

test('the name lives under one key, xroom.profile; other members survive a save', async () => {
  const store = fakeStorage();
  globalThis.localStorage = store;
  const { PROFILE_KEY, loadProfile, saveProfile, loadDevices, saveDevices } = await import('../../web/js/util/prefs.js');
  assert.equal(PROFILE_KEY, 'xroom.profile');
  assert.deepEqual(loadProfile(), { name: '' });
  store.setItem('xroom.profile', JSON.stringify({ name: 'Old', avatar: 'kept' }));
  saveProfile({ name: 'Ada' });
  assert.deepEqual(JSON.parse(store.getItem('xroom.profile')), { name: 'Ada', avatar: 'kept' });
  assert.deepEqual(loadProfile(), { name: 'Ada' });
  assert.deepEqual(loadDevices(), { micId: '', camId: '', micOn: true, camOn: true, speakerId: '', noise: true });
  saveDevices({ micId: 'm', camId: 'c', micOn: false, camOn: true, speakerId: 's', noise: false });
  assert.deepEqual(loadDevices(), { micId: 'm', camId: 'c', micOn: false, camOn: true, speakerId: 's', noise: false });
  store.setItem('xroom.profile', '{not json');
  assert.deepEqual(loadProfile(), { name: '' }, 'garbage is ignored');
  store.setItem('xroom.devices', JSON.stringify({ micOn: 'yes', camId: 5 }));
  assert.deepEqual(loadDevices(), { micId: '', camId: '', micOn: true, camOn: true, speakerId: '', noise: true });
  globalThis.localStorage = { getItem() { throw new Error('denied'); }, setItem() { throw new Error('quota'); } };
  assert.deepEqual(loadProfile(), { name: '' }, 'storage refused: defaults');
  assert.doesNotThrow(() => saveProfile({ name: 'x' }));
  delete globalThis.localStorage;
});

test('the one storage wrapper: JSON in and out, refusals reported, never thrown', () => {
  const store = { ...fakeStorage(), removeItem(k) { this.map.delete(k); } };
  assert.equal(writeJSON('k', { a: 1 }, store), true);
  assert.deepEqual(readJSON('k', store), { a: 1 });
  assert.deepEqual(readObject('k', store), { a: 1 });
  for (const v of ['[1]', '"s"', '3', 'null', '{bad']) {
    store.setItem('k', v);
    assert.deepEqual(readObject('k', store), {}, v);
  }
  assert.equal(readJSON('k', store), null, 'not JSON');
  assert.equal(readJSON('none', store), null);
  removeKey('k', store);
  assert.equal(store.getItem('k'), null);
  const refusing = { getItem() { throw new Error('denied'); }, setItem() { throw new Error('quota'); }, removeItem() { throw new Error('denied'); } };
  assert.equal(writeJSON('k', 1, refusing), false);
  assert.equal(readJSON('k', refusing), null);
  assert.doesNotThrow(() => removeKey('k', refusing));
  assert.equal(globalThis.localStorage, undefined);
  assert.equal(writeJSON('k', 1), false, 'no storage at all');
  assert.equal(readJSON('k'), null);
});

test('the emitter: typed handlers, removal, one failing handler does not stop the others', () => {
  const e = new Emitter();
  const got = [];
  const off = e.on('x', (v) => got.push(['a', v]));
  e.on('x', () => { throw new Error('boom'); });
  e.on('x', (v) => got.push(['c', v]));
  const err = console.error;
  console.error = () => {};
  try {
    e.emit('x', 1);
    off();
    e.emit('x', 2);
    e.emit('nobody', 3);
  } finally {
    console.error = err;
  }
  assert.deepEqual(got, [['a', 1], ['c', 1], ['c', 2]]);
});

test('chains: jobs of one key in order, keys independent, a failure logged and passed', async () => {
  const c = new Chains('job failed');
  const log = [];
  const slow = (ms, v) => () => new Promise((r) => setTimeout(() => { log.push(v); r(); }, ms));
  c.run('a', slow(20, 'a1'));
  c.run('a', () => { throw new Error('boom'); });
  c.run('b', slow(1, 'b1'));
  const warn = console.warn;
  const warned = [];
  console.warn = (...a) => warned.push(a[0]);
  try {
    await c.run('a', slow(1, 'a2'));
  } finally {
    console.warn = warn;
  }
  assert.deepEqual(log, ['b1', 'a1', 'a2']);
  assert.deepEqual(warned, ['xroom: job failed']);
  c.delete('a');
  assert.ok(!c.tails.has('a'));
});

