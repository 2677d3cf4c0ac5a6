// Signal payloads (web/js/wire.js): validation of every kind, and the
// sealing the daemon sees: opaque, bound to both peer ids and a per-tab
// counter, refused when tampered with, redirected or replayed, and still
// accepted after a rejoin changes the peer ids.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { associatedData, deriveRoomKeys } from '../../web/js/crypto.js';
import { MAX_NAME, PAD_TO, SignalCodec, WIRE_VERSION, cleanName, readMessage } from '../../web/js/wire.js';

const tab = 'AbCdEfGhIjKlMnOp';
const tabB = 'QrStUvWxYz012345';
const st = { name: 'Ada', mic: true, cam: false, screen: false };
const A1 = 'peerAAAAAAAAAAA1';
const B1 = 'peerBBBBBBBBBBB1';
const C1 = 'peerCCCCCCCCCCC1';

async function pair() {
  const secret = randomBytes(32);
  const keys = await deriveRoomKeys(secret.toString('base64url'));
  return { secret, alice: new SignalCodec(keys.signal, tab), bob: new SignalCodec(keys.signal, tabB) };
}

const msgs = [
  { tab, gen: 0, kind: 'hello', ack: false, ...st },
  { tab, gen: 3, kind: 'state', ...st },
  { tab, gen: 1, kind: 'sdp', description: { type: 'offer', sdp: 'v=0\r\na=fingerprint:sha-256 AB:CD\r\n' } },
  { tab, gen: 1, kind: 'sdp', description: { type: 'answer', sdp: 'v=0\r\n' } },
  { tab, gen: 1, kind: 'ice', candidate: { candidate: 'candidate:1 1 udp 1 127.0.0.1 5000 typ host', sdpMid: '0', sdpMLineIndex: 0, usernameFragment: 'abcd' } },
  { tab, gen: 0, kind: 'key', id: 7, key: randomBytes(32).toString('base64url'), want: true },
  { tab, gen: 0, kind: 'key-ack', id: 255 },
  { tab, gen: 2, kind: 'bye' },
];

test('every kind survives seal, JSON and open unchanged', async () => {
  const { alice, bob } = await pair();
  for (const m of msgs) {
    const data = JSON.parse(JSON.stringify(await alice.seal(A1, B1, m)));
    assert.equal(data.v, WIRE_VERSION);
    assert.deepEqual(await bob.open(A1, B1, data), m);
  }
  assert.equal(bob.rejected, 0);
  assert.equal(bob.opened, msgs.length);
});

test('what the daemon relays is opaque: no SDP, candidate, name, tab id, key or kind; padded lengths', async () => {
  const { alice } = await pair();
  const sizes = new Set();
  for (const m of msgs) {
    const data = await alice.seal(A1, B1, m);
    assert.deepEqual(Object.keys(data).sort(), ['c', 'ct', 'iv', 'v']);
    // The clear fields say nothing (the ciphertext is random text, in
    // which any short word turns up now and then: it is checked below).
    const clear = JSON.stringify({ ...data, ct: undefined });
    for (const s of ['v=0', 'fingerprint', 'candidate', 'Ada', tab, 'hello', 'sdp', 'ice', 'bye', 'key-ack']) {
      assert.ok(!clear.includes(s), `${s} visible in ${clear}`);
    }
    // The ciphertext is not the message, nor the message merely encoded:
    // no 16 bytes of it in the raw bytes, no 16 characters of its base64url.
    const plain = Buffer.from(JSON.stringify(m));
    const ct = Buffer.from(data.ct, 'base64url');
    for (let i = 0; i + 16 <= plain.length; i += 8) {
      assert.ok(!ct.includes(plain.subarray(i, i + 16)), `message bytes ${i}.. in the ciphertext`);
    }
    assert.ok(!data.ct.includes(plain.toString('base64url').slice(0, 16)), 'the message base64url-encoded');
    const bytes = Buffer.from(data.ct, 'base64url').length - 16;
    assert.equal(bytes % PAD_TO, 0, 'padded');
    sizes.add(bytes);
  }
  // A short and a long name give the same length.
  const short = await alice.seal(A1, B1, { tab, gen: 0, kind: 'state', ...st, name: 'Al' });
  const long = await alice.seal(A1, B1, { tab, gen: 0, kind: 'state', ...st, name: 'Alexandra Kollontai-Smith' });
  assert.equal(short.ct.length, long.ct.length);
});

test('the envelope is AES-GCM under HKDF(secret, "xroom/v1/signal"), AD = label, from, to, counter', async () => {
  const { secret, alice } = await pair();
  const m = { tab, gen: 0, kind: 'bye' };
  await alice.seal(A1, B1, m); // counter 1
  const data = await alice.seal(A1, B1, m); // counter 2
  assert.equal(data.c, 2);
  const key = Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), 'xroom/v1/signal', 32));
  const ct = Buffer.from(data.ct, 'base64url');
  const d = createDecipheriv('aes-256-gcm', key, Buffer.from(data.iv, 'base64url'));
  d.setAAD(associatedData('xroom/v1/signal', [A1, B1], 2));
  d.setAuthTag(ct.subarray(ct.length - 16));
  const plain = Buffer.concat([d.update(ct.subarray(0, ct.length - 16)), d.final()]).toString();
  assert.deepEqual(JSON.parse(plain), m);
  assert.match(plain, / +$/, 'space padding');
});

test('tampered payloads are refused and counted', async () => {
  const { alice, bob } = await pair();
  const data = await alice.seal(A1, B1, msgs[0]);
  const ct = Buffer.from(data.ct, 'base64url');
  for (const i of [0, 5, ct.length - 17, ct.length - 1]) {
    const t = Buffer.from(ct);
    t[i] ^= 1;
    assert.equal(await bob.open(A1, B1, { ...data, ct: t.toString('base64url') }), null, `byte ${i}`);
  }
  const iv = Buffer.from(data.iv, 'base64url');
  iv[0] ^= 1;
  assert.equal(await bob.open(A1, B1, { ...data, iv: iv.toString('base64url') }), null, 'IV');
  assert.equal(await bob.open(A1, B1, { ...data, c: data.c + 1 }), null, 'counter in the AD');
  assert.equal(bob.rejected, 6);
  assert.deepEqual(await bob.open(A1, B1, data), msgs[0], 'the original still opens');
});

test('redirected or reflected payloads are refused: the AD binds both peer ids', async () => {
  const { alice, bob } = await pair();
  const keys = await deriveRoomKeys(randomBytes(32).toString('base64url'));
  const data = await alice.seal(A1, B1, msgs[2]);
  assert.equal(await bob.open(C1, B1, data), null, 'relabelled as from another peer');
  assert.equal(await bob.open(A1, C1, data), null, 'delivered to another peer');
  assert.equal(await alice.open(B1, A1, data), null, 'reflected to its sender');
  assert.equal(await new SignalCodec(keys.signal, tabB).open(A1, B1, data), null, 'another room key');
  // A message from our own tab is never accepted, even if it authenticates.
  const own = await new SignalCodec((await deriveRoomKeys(randomBytes(32).toString('base64url'))).signal, tab);
  const loop = await own.seal(B1, A1, { ...msgs[7] });
  assert.equal(await own.open(B1, A1, loop), null);
  assert.deepEqual(await bob.open(A1, B1, data), msgs[2]);
});

test('replays are refused; counters are per sending tab; a rejoin (new peer ids) still works', async () => {
  const { alice, bob } = await pair();
  const first = await alice.seal(A1, B1, msgs[0]);
  const second = await alice.seal(A1, B1, msgs[1]);
  assert.deepEqual(await bob.open(A1, B1, first), msgs[0]);
  assert.deepEqual(await bob.open(A1, B1, second), msgs[1]);
  assert.equal(await bob.open(A1, B1, first), null, 'replayed');
  assert.equal(await bob.open(A1, B1, second), null, 'replayed');
  // The daemon restarts: both get new peer ids. Alice's counter goes on.
  const A2 = 'peerAAAAAAAAAAA2';
  const B2 = 'peerBBBBBBBBBBB2';
  const after = await alice.seal(A2, B2, msgs[7]);
  assert.ok(after.c > second.c);
  assert.deepEqual(await bob.open(A2, B2, after), msgs[7]);
  assert.equal(await bob.open(A1, B1, first), null, 'old payloads stay refused after the rejoin');
  // A payload sealed for the old ids but delivered after the rejoin: refused.
  const stale = await alice.seal(A1, B1, msgs[1]);
  assert.equal(await bob.open(A2, B2, stale), null);
  assert.equal(bob.rejected, 4);
});

test('malformed envelopes are refused, never thrown', async () => {
  const { alice, bob } = await pair();
  const good = await alice.seal(A1, B1, msgs[0]);
  const bad = [
    null, 1, 'x', [], {},
    { ...good, v: 1 },
    { ...good, c: 0 }, { ...good, c: -1 }, { ...good, c: 1.5 }, { ...good, c: '1' },
    { ...good, iv: 'not base64!' }, { ...good, iv: 'AAAA' }, { ...good, ct: '' }, { ...good, ct: 'x'.repeat(200_000) },
    // The clear payloads of version 1: refused now.
    { v: 1, tab, gen: 0, kind: 'hello', ack: false, ...st },
  ];
  for (const d of bad) assert.equal(await bob.open(A1, B1, d), null, JSON.stringify(d)?.slice(0, 80));
  assert.equal(bob.rejected, bad.length);
});

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
    { tab, gen: 0, kind: 'key', id: 256, key: 'A'.repeat(43), want: false },
    { tab, gen: 0, kind: 'key', id: 1, key: 'A'.repeat(42), want: false },
    { tab, gen: 0, kind: 'key', id: 1 },
    { tab, gen: 0, kind: 'key', id: 1, key: 'A'.repeat(43) },
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
  assert.equal(m?.kind === 'state' && m.name, '\u202eevil');
});
