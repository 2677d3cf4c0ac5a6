import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Emitter } from '../../web/js/emitter.js';

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
  const { PROFILE_KEY, loadProfile, saveProfile, loadDevices, saveDevices } = await import('../../web/js/prefs.js');
  assert.equal(PROFILE_KEY, 'xroom.profile');
  assert.deepEqual(loadProfile(), { name: '' });
  store.setItem('xroom.profile', JSON.stringify({ name: 'Old', avatar: 'kept' }));
  saveProfile({ name: 'Ada' });
  assert.deepEqual(JSON.parse(store.getItem('xroom.profile')), { name: 'Ada', avatar: 'kept' });
  assert.deepEqual(loadProfile(), { name: 'Ada' });
  assert.deepEqual(loadDevices(), { micId: '', camId: '', micOn: true, camOn: true });
  saveDevices({ micId: 'm', camId: 'c', micOn: false, camOn: true });
  assert.deepEqual(loadDevices(), { micId: 'm', camId: 'c', micOn: false, camOn: true });
  store.setItem('xroom.profile', '{not json');
  assert.deepEqual(loadProfile(), { name: '' }, 'garbage is ignored');
  store.setItem('xroom.devices', JSON.stringify({ micOn: 'yes', camId: 5 }));
  assert.deepEqual(loadDevices(), { micId: '', camId: '', micOn: true, camOn: true });
  globalThis.localStorage = { getItem() { throw new Error('denied'); }, setItem() { throw new Error('quota'); } };
  assert.deepEqual(loadProfile(), { name: '' }, 'storage refused: defaults');
  assert.doesNotThrow(() => saveProfile({ name: 'x' }));
  delete globalThis.localStorage;
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
