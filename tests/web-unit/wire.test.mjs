import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_NAME, WIRE_VERSION, cleanName, open, seal } from '../../web/js/wire.js';

const tab = 'AbCdEfGhIjKlMnOp';
const st = { name: 'Ada', mic: true, cam: false, screen: false };

test('every kind survives seal, JSON and open unchanged', async () => {
  const msgs = [
    { tab, gen: 0, kind: 'hello', ack: false, ...st },
    { tab, gen: 3, kind: 'state', ...st },
    { tab, gen: 1, kind: 'sdp', description: { type: 'offer', sdp: 'v=0\r\n' } },
    { tab, gen: 1, kind: 'sdp', description: { type: 'answer', sdp: 'v=0\r\n' } },
    { tab, gen: 1, kind: 'ice', candidate: { candidate: 'candidate:1 1 udp 1 127.0.0.1 5000 typ host', sdpMid: '0', sdpMLineIndex: 0, usernameFragment: 'abcd' } },
    { tab, gen: 2, kind: 'bye' },
  ];
  for (const m of msgs) {
    const data = JSON.parse(JSON.stringify(await seal(m)));
    assert.equal(data.v, WIRE_VERSION);
    assert.deepEqual(await open(data), m);
  }
});

test('malformed payloads are dropped, not thrown', async () => {
  const bad = [
    null, 1, 'x', [], {},
    { v: 2, tab, gen: 0, kind: 'bye' },
    { v: 1, tab: 'short', gen: 0, kind: 'bye' },
    { v: 1, tab, gen: -1, kind: 'bye' },
    { v: 1, tab, gen: 1.5, kind: 'bye' },
    { v: 1, tab, gen: 0, kind: 'nope' },
    { v: 1, tab, gen: 0, kind: 'hello', ...st },
    { v: 1, tab, gen: 0, kind: 'state', name: 'x', mic: 'yes', cam: true, screen: false },
    { v: 1, tab, gen: 0, kind: 'sdp', description: { type: 'rollback', sdp: '' } },
    { v: 1, tab, gen: 0, kind: 'sdp', description: { type: 'offer', sdp: 'x'.repeat(70000) } },
    { v: 1, tab, gen: 0, kind: 'ice', candidate: null },
    { v: 1, tab, gen: 0, kind: 'ice', candidate: { candidate: 7 } },
  ];
  for (const d of bad) assert.equal(await open(d), null, JSON.stringify(d).slice(0, 80));
});

test('ICE candidate members are normalised', async () => {
  const m = await open({ v: 1, tab, gen: 0, kind: 'ice', candidate: { candidate: 'c', sdpMLineIndex: 99, sdpMid: 4 } });
  assert.deepEqual(m?.kind === 'ice' && m.candidate, { candidate: 'c', sdpMid: null, sdpMLineIndex: null, usernameFragment: null });
});

test('names are cleaned: control characters, length', async () => {
  assert.equal(cleanName('  Ada\u0000 Lovelace\n'), 'Ada  Lovelace');
  assert.equal(cleanName('x'.repeat(100)).length, MAX_NAME);
  assert.equal([...cleanName('😀'.repeat(100))].length, MAX_NAME, 'counts characters, not UTF-16 units');
  assert.equal(cleanName(42), '');
  const m = await open({ v: 1, tab, gen: 0, kind: 'state', name: '\u202eevil\u0007', mic: true, cam: true, screen: false });
  assert.equal(m?.kind === 'state' && m.name, '\u202eevil');
});
