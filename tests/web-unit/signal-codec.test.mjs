// Signal payloads (web/js/e2ee/signal-codec.js, identity.js): what the
// daemon relays is opaque, padded, bound to both peer ids and a per-tab
// counter; every message is signed by its tab, whose id is the hash of its
// key; and each attack of a member who holds the link (so can seal and
// open every payload) or of the daemon (which picks the peer ids) is
// refused: claiming another tab, a huge counter, a goodbye or a key for
// another tab, a payload for one tab delivered to another, replays after a
// reload, a tab that swaps its agreement key.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { deriveRoomKeys } from '../../web/js/e2ee/crypto.js';
import { SIGNATURE_BYTES, TabIdentity, tabIdOf } from '../../web/js/e2ee/identity.js';
import { openSignal, signalKey } from './insider.mjs';
import { PAD_TO, SignalCodec, WIRE_VERSION } from '../../web/js/e2ee/signal-codec.js';

const ROOM = 'roomRoomRoomRoom';
const st = { name: 'Ada', mic: true, cam: false, screen: false };
const A1 = 'peerAAAAAAAAAAA1';
const B1 = 'peerBBBBBBBBBBB1';
const C1 = 'peerCCCCCCCCCCC1';

/** A tab of the room: its identity and codec. */
async function member(keys, roomId = ROOM) {
  const id = await TabIdentity.create();
  return { id, tab: id.tab, codec: new SignalCodec(keys.signal, id, roomId) };
}

/** Alice (peer A1) and Bob (B1), who have greeted each other. */
async function pair() {
  const secret = randomBytes(32);
  const keys = await deriveRoomKeys(secret.toString('base64url'), ROOM);
  const alice = await member(keys);
  const bob = await member(keys);
  await greet(alice, A1, bob, B1);
  return { secret, keys, alice, bob };
}

/** `x` (at peer id px) greets `y` (at py) and is greeted back: each knows the other's tab. */
async function greet(x, px, y, py) {
  const hx = await x.codec.seal(px, py, { tab: x.tab, gen: 0, kind: 'hello', ack: false, ...st });
  assert.ok(await y.codec.open(px, py, hx), 'a first greeting opens');
  const hy = await y.codec.seal(py, px, { tab: y.tab, gen: 1, kind: 'hello', ack: true, ...st });
  assert.ok(await x.codec.open(py, px, hy), 'the answer opens');
}

const msgsOf = (tab) => [
  { tab, gen: 0, kind: 'hello', ack: false, ...st },
  { tab, gen: 3, kind: 'state', ...st },
  { tab, gen: 1, kind: 'sdp', description: { type: 'offer', sdp: 'v=0\r\na=fingerprint:sha-256 AB:CD\r\n' } },
  { tab, gen: 1, kind: 'sdp', description: { type: 'answer', sdp: 'v=0\r\n' } },
  { tab, gen: 1, kind: 'ice', candidate: { candidate: 'candidate:1 1 udp 1 127.0.0.1 5000 typ host', sdpMid: '0', sdpMLineIndex: 0, usernameFragment: 'abcd' } },
  { tab, gen: 0, kind: 'key', id: 7, key: randomBytes(60).toString('base64url'), want: true },
  { tab, gen: 0, kind: 'key-ack', id: 255 },
  { tab, gen: 2, kind: 'bye' },
];

/** The plaintext of a payload, opened as the daemon's operator with the link would. */
const openAsInsider = (secret, from, to, data) => openSignal(signalKey(secret, ROOM), from, to, data);

test('a tab id is the hash of its signing key', async () => {
  const id = await TabIdentity.create();
  assert.equal(id.tab, await tabIdOf(Buffer.from(id.pub, 'base64url')));
  assert.match(id.tab, /^[A-Za-z0-9_-]{22}$/);
  assert.equal(id.signKey.extractable, false);
  assert.equal(id.agreeKey.extractable, false);
  assert.notEqual((await TabIdentity.create()).tab, id.tab);
});

test('every kind survives seal, JSON and open unchanged', async () => {
  const { alice, bob } = await pair();
  const before = bob.codec.opened;
  for (const m of msgsOf(alice.tab)) {
    const data = JSON.parse(JSON.stringify(await alice.codec.seal(A1, B1, m)));
    assert.equal(data.v, WIRE_VERSION);
    assert.deepEqual(await bob.codec.open(A1, B1, data), m);
  }
  assert.equal(bob.codec.rejected, 0);
  assert.equal(bob.codec.opened - before, 8);
});

test('what the daemon relays is opaque: no SDP, candidate, name, tab id, key or kind; padded lengths', async () => {
  const { alice } = await pair();
  for (const m of msgsOf(alice.tab)) {
    const data = await alice.codec.seal(A1, B1, m);
    assert.deepEqual(Object.keys(data).sort(), ['c', 'ct', 'iv', 'v']);
    const clear = JSON.stringify({ ...data, ct: undefined });
    for (const s of ['v=0', 'fingerprint', 'candidate', 'Ada', alice.tab, 'hello', 'sdp', 'ice', 'bye', 'key-ack']) {
      assert.ok(!clear.includes(s), `${s} visible in ${clear}`);
    }
    const plain = Buffer.from(JSON.stringify(m));
    const ct = Buffer.from(data.ct, 'base64url');
    for (let i = 0; i + 16 <= plain.length; i += 8) {
      assert.ok(!ct.includes(plain.subarray(i, i + 16)), `message bytes ${i}.. in the ciphertext`);
    }
    assert.equal((ct.length - 16) % PAD_TO, 0, 'padded');
  }
  const short = await alice.codec.seal(A1, B1, { tab: alice.tab, gen: 0, kind: 'state', ...st, name: 'Al' });
  const long = await alice.codec.seal(A1, B1, { tab: alice.tab, gen: 0, kind: 'state', ...st, name: 'Alexandra Kollontai-Smith' });
  assert.equal(short.ct.length, long.ct.length);
});

test('the layout: AES-GCM under HKDF(secret, "xroom/v2/signal" NUL room); signature | statement | spaces', async () => {
  const { secret, alice, bob } = await pair();
  const m = { tab: alice.tab, gen: 0, kind: 'bye' };
  const data = await alice.codec.seal(A1, B1, m);
  const plain = openAsInsider(secret, A1, B1, data);
  const text = plain.subarray(SIGNATURE_BYTES).toString();
  assert.match(text, / +$/, 'space padding');
  const statement = JSON.parse(text);
  assert.deepEqual(statement, { m, pub: alice.id.pub, dh: alice.id.dh, to: bob.tab });
});

test('tampered payloads are refused and counted', async () => {
  const { alice, bob } = await pair();
  const data = await alice.codec.seal(A1, B1, msgsOf(alice.tab)[1]);
  const ct = Buffer.from(data.ct, 'base64url');
  for (const i of [0, 5, ct.length - 17, ct.length - 1]) {
    const t = Buffer.from(ct);
    t[i] ^= 1;
    assert.equal(await bob.codec.open(A1, B1, { ...data, ct: t.toString('base64url') }), null, `byte ${i}`);
  }
  const iv = Buffer.from(data.iv, 'base64url');
  iv[0] ^= 1;
  assert.equal(await bob.codec.open(A1, B1, { ...data, iv: iv.toString('base64url') }), null, 'IV');
  assert.equal(await bob.codec.open(A1, B1, { ...data, c: data.c + 1 }), null, 'counter in the AD');
  assert.equal(bob.codec.rejected, 6);
  assert.deepEqual(await bob.codec.open(A1, B1, data), msgsOf(alice.tab)[1], 'the original still opens');
});

test('redirected or reflected payloads are refused: the AD binds both peer ids, the signature the tab', async () => {
  const { keys, alice, bob } = await pair();
  const data = await alice.codec.seal(A1, B1, msgsOf(alice.tab)[2]);
  assert.equal(await bob.codec.open(C1, B1, data), null, 'relabelled as from another peer');
  assert.equal(await bob.codec.open(A1, C1, data), null, 'delivered to another peer');
  assert.equal(await alice.codec.open(B1, A1, data), null, 'reflected to its sender');
  const otherRoom = await member(await deriveRoomKeys(randomBytes(32).toString('base64url'), ROOM));
  assert.equal(await otherRoom.codec.open(A1, B1, data), null, 'another room key');
  // Carol, another tab of the room, is given Bob's peer id by the daemon:
  // what Alice sealed for Bob's tab does not open for her.
  const carol = await member(keys);
  assert.equal(await carol.codec.open(A1, B1, data), null, 'for another tab');
  // The same secret and peer ids in another room: refused.
  const sameSecretOtherRoom = { ...carol, codec: new SignalCodec(keys.signal, bob.id, 'anotherRoom') };
  assert.equal(await sameSecretOtherRoom.codec.open(A1, B1, data), null, 'the room id is signed');
  assert.deepEqual(await bob.codec.open(A1, B1, data), msgsOf(alice.tab)[2]);
});

test('replays are refused; counters are per sending tab; a rejoin (new peer ids) still works', async () => {
  const { alice, bob } = await pair();
  const [m0, m1, , , , , , bye] = msgsOf(alice.tab);
  const first = await alice.codec.seal(A1, B1, m1);
  const second = await alice.codec.seal(A1, B1, m0);
  assert.deepEqual(await bob.codec.open(A1, B1, first), m1);
  assert.deepEqual(await bob.codec.open(A1, B1, second), m0);
  assert.equal(await bob.codec.open(A1, B1, first), null, 'replayed');
  assert.equal(await bob.codec.open(A1, B1, second), null, 'replayed');
  // The daemon restarts: both get new peer ids; both greet again.
  const A2 = 'peerAAAAAAAAAAA2';
  const B2 = 'peerBBBBBBBBBBB2';
  await greet(alice, A2, bob, B2);
  const after = await alice.codec.seal(A2, B2, bye);
  assert.ok(after.c > second.c);
  assert.deepEqual(await bob.codec.open(A2, B2, after), bye);
  assert.equal(await bob.codec.open(A1, B1, first), null, 'old payloads stay refused after the rejoin');
  const stale = await alice.codec.seal(A1, B1, m1);
  assert.equal(await bob.codec.open(A2, B2, stale), null, 'sealed for the old ids');
  assert.equal(bob.codec.rejected, 4);
});

test('a member with the link cannot speak for another tab', async () => {
  const { secret, keys, alice, bob } = await pair();
  const mallory = await member(keys);
  await greet(mallory, C1, bob, B1);
  const rejected = bob.codec.rejected;
  const claims = [
    { tab: alice.tab, gen: 0, kind: 'bye' },
    { tab: alice.tab, gen: 99, kind: 'hello', ack: true, ...st, name: 'Alice' },
    { tab: alice.tab, gen: 99, kind: 'sdp', description: { type: 'offer', sdp: 'v=0\r\n' } },
    { tab: alice.tab, gen: 0, kind: 'key', id: 9, key: randomBytes(60).toString('base64url'), want: false },
    { tab: alice.tab, gen: 0, kind: 'key-ack', id: 0 },
  ];
  // Her own key, Alice's tab id: the hash does not match.
  for (const m of claims) assert.equal(await bob.codec.open(C1, B1, await mallory.codec.seal(C1, B1, m)), null, m.kind);
  // Alice's public key copied from a payload she opened (she has the
  // link), her own signature: refused; and through Alice's peer id too.
  const seen = JSON.parse(openAsInsider(secret, A1, B1, await alice.codec.seal(A1, B1, msgsOf(alice.tab)[1])).subarray(SIGNATURE_BYTES).toString());
  const forger = new SignalCodec(keys.signal, Object.assign(Object.create(Object.getPrototypeOf(mallory.id)), mallory.id, { pub: seen.pub, dh: seen.dh, tab: alice.tab }), ROOM);
  forger.tabOf.set(B1, bob.tab);
  for (const m of claims) {
    assert.equal(await bob.codec.open(C1, B1, await forger.seal(C1, B1, m)), null, `${m.kind}, Alice's key`);
    assert.equal(await bob.codec.open(A1, B1, await forger.seal(A1, B1, m)), null, `${m.kind}, Alice's key and peer id`);
  }
  assert.equal(bob.codec.rejected - rejected, claims.length * 3);
  // A counter near 2^53 under Mallory's own tab moves only her window:
  // Alice's next signal still opens.
  forger.identity = mallory.id;
  forger.tab = mallory.tab;
  forger.sealer.counter = Number.MAX_SAFE_INTEGER - 2;
  assert.ok(await bob.codec.open(C1, B1, await forger.seal(C1, B1, { tab: mallory.tab, gen: 0, kind: 'bye' })), 'her own tab');
  assert.deepEqual(await bob.codec.open(A1, B1, await alice.codec.seal(A1, B1, msgsOf(alice.tab)[1])), msgsOf(alice.tab)[1]);
});

test('a tab cannot swap the agreement key it first signed', async () => {
  const { keys, alice, bob } = await pair();
  const other = await TabIdentity.create();
  const swapped = new SignalCodec(keys.signal, Object.assign(Object.create(Object.getPrototypeOf(alice.id)), alice.id, { dh: other.dh }), ROOM);
  swapped.tabOf.set(B1, bob.tab);
  swapped.sealer.counter = 1000;
  assert.equal(await bob.codec.open(A1, B1, await swapped.seal(A1, B1, msgsOf(alice.tab)[1])), null);
  assert.equal(bob.codec.keysOf.get(alice.tab).dh, alice.id.dh);
});

test('after a reload, what was recorded before does not open, but for a first greeting', async () => {
  const { keys, alice, bob } = await pair();
  const recorded = [];
  for (const m of msgsOf(alice.tab)) recorded.push({ m, data: await alice.codec.seal(A1, B1, m) });
  const blind = await new SignalCodec(keys.signal, alice.id, ROOM).seal(A1, B1, msgsOf(alice.tab)[0]);
  // Bob reloads: a new tab, and the daemon gives it the same peer id.
  const bob2 = await member(keys);
  for (const { m, data } of recorded) assert.equal(await bob2.codec.open(A1, B1, data), null, m.kind);
  // A first greeting is not bound to a tab; it opens, and makes no
  // connection by itself (negotiation.js routeSignal: 'greet').
  assert.deepEqual(await bob2.codec.open(A1, B1, blind), msgsOf(alice.tab)[0]);
  assert.equal(bob2.codec.rejected, recorded.length);
  // Anything else addressed to nobody ('' for the recipient) is refused.
  const ackBlind = await new SignalCodec(keys.signal, alice.id, ROOM).seal(A1, B1, { tab: alice.tab, gen: 0, kind: 'hello', ack: true, ...st });
  assert.equal(await bob2.codec.open(A1, B1, ackBlind), null);
});

test('malformed envelopes are refused, never thrown', async () => {
  const { alice, bob } = await pair();
  const good = await alice.codec.seal(A1, B1, msgsOf(alice.tab)[1]);
  const bad = [
    null, 1, 'x', [], {},
    { ...good, v: 2 },
    { ...good, c: 0 }, { ...good, c: -1 }, { ...good, c: 1.5 }, { ...good, c: '1' },
    { ...good, iv: 'not base64!' }, { ...good, iv: 'AAAA' }, { ...good, ct: '' }, { ...good, ct: 'x'.repeat(200_000) },
    // The clear payloads of version 1: refused.
    { v: 1, tab: alice.tab, gen: 0, kind: 'hello', ack: false, ...st },
  ];
  const before = bob.codec.rejected;
  for (const d of bad) assert.equal(await bob.codec.open(A1, B1, d), null, JSON.stringify(d)?.slice(0, 80));
  assert.equal(bob.codec.rejected - before, bad.length);
});

test('media keys travel under the pair key: only the two tabs open them, for that direction and key id', async () => {
  const { openMediaKey, sealMediaKey } = await import('../../web/js/e2ee/identity.js');
  const salt = new Uint8Array(randomBytes(32));
  const [a, b, c] = await Promise.all([TabIdentity.create(), TabIdentity.create(), TabIdentity.create()]);
  const ab = await a.pairKey(b.dh, b.tab, salt, ROOM);
  const ba = await b.pairKey(a.dh, a.tab, salt, ROOM);
  const cb = await c.pairKey(b.dh, b.tab, salt, ROOM);
  const ca = await c.pairKey(a.dh, a.tab, salt, ROOM);
  const raw = new Uint8Array(randomBytes(32));
  const sealed = await sealMediaKey(ab, a.tab, b.tab, 7, raw);
  assert.match(sealed, /^[A-Za-z0-9_-]{80}$/);
  assert.deepEqual(await openMediaKey(ba, a.tab, b.tab, 7, sealed), raw);
  assert.equal(await openMediaKey(cb, a.tab, b.tab, 7, sealed), null, 'a third tab, with its own key with B');
  assert.equal(await openMediaKey(ca, a.tab, b.tab, 7, sealed), null, 'a third tab, with its own key with A');
  assert.equal(await openMediaKey(ba, a.tab, b.tab, 8, sealed), null, 'another key id');
  assert.equal(await openMediaKey(ba, b.tab, a.tab, 7, sealed), null, 'the other direction');
  const otherRoom = await b.pairKey(a.dh, a.tab, salt, 'anotherRoom');
  assert.equal(await openMediaKey(otherRoom, a.tab, b.tab, 7, sealed), null, 'the same tabs in another room');
  assert.equal(await openMediaKey(ba, a.tab, b.tab, 7, 'not base64!'), null);
});
