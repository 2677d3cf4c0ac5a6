// Signal messages (web/js/transport/wire.js): validation of every kind, and
// display names. Their sealing and signing: signal-codec.test.mjs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_NAME, cleanName, readMessage } from '../../web/js/transport/wire.js';

const tab = 'AbCdEfGhIjKlMnOp';
const st = { name: 'Ada', mic: true, cam: false, screen: false };

test('message validation: malformed plaintexts are dropped', () => {
  const bad = [
    null, 1, 'x', [], {},
    { tab: 'short', gen: 0, kind: 'bye' },
    { tab, gen: -1, kind: 'bye' },
    { tab, gen: 1.5, kind: 'bye' },
    { tab, gen: 0, kind: 'nope' },
    { tab, gen: 0, kind: 'hello', ...st },
    { tab, gen: 0, kind: 'state', name: 'x', mic: 'yes', cam: true, screen: false },
    { tab, gen: 0, kind: 'sdp', description: { type: 'rollback', sdp: '' } },
    { tab, gen: 0, kind: 'sdp', description: { type: 'offer', sdp: 'x'.repeat(70000) } },
    { tab, gen: 0, kind: 'ice', candidate: null },
    { tab, gen: 0, kind: 'ice', candidate: { candidate: 7 } },
    { tab, gen: 0, kind: 'key', id: 256, key: 'A'.repeat(80), want: false },
    { tab, gen: 0, kind: 'key', id: 1, key: 'A'.repeat(43), want: false },
    { tab, gen: 0, kind: 'key', id: 1 },
    { tab, gen: 0, kind: 'key', id: 1, key: 'A'.repeat(80) },
    { tab, gen: 0, kind: 'key-ack', id: -1 },
  ];
  for (const d of bad) assert.equal(readMessage(d), null, JSON.stringify(d).slice(0, 80));
});

test('ICE candidate members are normalised', () => {
  const m = readMessage({ tab, gen: 0, kind: 'ice', candidate: { candidate: 'c', sdpMLineIndex: 99, sdpMid: 4 } });
  assert.deepEqual(m?.kind === 'ice' && m.candidate, { candidate: 'c', sdpMid: null, sdpMLineIndex: null, usernameFragment: null });
});

test('names are cleaned: control characters, length', () => {
  assert.equal(cleanName('  Ada\u0000 Lovelace\n'), 'Ada  Lovelace');
  assert.equal(cleanName('x'.repeat(100)).length, MAX_NAME);
  assert.equal([...cleanName('😀'.repeat(100))].length, MAX_NAME, 'counts characters, not UTF-16 units');
  assert.equal(cleanName(42), '');
  const m = readMessage({ tab, gen: 0, kind: 'state', name: '\u202eevil\u0007', mic: true, cam: true, screen: false });
  assert.equal(m?.kind === 'state' && m.name, 'evil', 'bidi controls go, controls become blanks');
});
