// The key schedule and the sealing helpers of web/js/crypto.js, checked
// against Node's own HKDF, HMAC and AES-GCM so that the labels and layouts
// are what docs/security.md says, not just self-consistent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import {
  AUTH_INFO, DataSealer, LABELS, REPLAY_WINDOW, ReplayWindow, Sealer, aesKey, associatedData, deriveAuth,
  deriveRoomKeys, fingerprintOf, gcmOpen, gcmSeal, hkdf, safetyCode,
} from '../../web/js/crypto.js';

const nodeKey = (secret, label, n = 32) => Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), label, n));

/** AES-256-GCM decryption in Node: ciphertext || tag. */
function nodeOpen(key, iv, sealed, ad) {
  const d = createDecipheriv('aes-256-gcm', key, iv);
  d.setAAD(ad);
  d.setAuthTag(sealed.subarray(sealed.length - 16));
  return Buffer.concat([d.update(sealed.subarray(0, sealed.length - 16)), d.final()]);
}

test('the join auth is HKDF-SHA-256(secret, salt "", info "xroom/v1/auth"), 16 bytes, base64url', async () => {
  assert.equal(AUTH_INFO, 'xroom/v1/auth');
  for (let i = 0; i < 20; i++) {
    const secret = randomBytes(32);
    const expected = nodeKey(secret, 'xroom/v1/auth', 16).toString('base64url');
    const auth = await deriveAuth(secret.toString('base64url'));
    assert.equal(auth, expected);
    assert.match(auth, /^[A-Za-z0-9_-]{22}$/);
    const keys = await deriveRoomKeys(secret.toString('base64url'));
    assert.equal(keys.auth, expected, 'deriveRoomKeys keeps the same auth');
  }
});

test('RFC 5869 test case 3 (zero-length salt and info)', async () => {
  const ikm = new Uint8Array(22).fill(0x0b);
  const okm = await hkdf(ikm, '', 42);
  assert.equal(Buffer.from(okm).toString('hex'),
    '8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8');
});

test('the labels are distinct and give unrelated keys', async () => {
  assert.deepEqual(LABELS, { auth: 'xroom/v1/auth', signal: 'xroom/v1/signal', data: 'xroom/v1/data', safety: 'xroom/v1/safety' });
  const s = new Uint8Array(randomBytes(32));
  const keys = await Promise.all(Object.values(LABELS).map(async (l) => Buffer.from(await hkdf(s, l, 32)).toString('hex')));
  assert.equal(new Set(keys).size, keys.length);
});

test('room keys are not extractable; the signal and data keys are the HKDF outputs of their labels', async () => {
  const secret = randomBytes(32);
  const keys = await deriveRoomKeys(secret.toString('base64url'));
  for (const k of [keys.signal, keys.data, keys.safety]) assert.equal(k.extractable, false);
  // Seal with the derived key; Node opens it with hkdfSync's key: same key.
  for (const [k, label] of [[keys.signal, 'xroom/v1/signal'], [keys.data, 'xroom/v1/data']]) {
    const iv = new Uint8Array(randomBytes(12));
    const ad = new Uint8Array([1, 2, 3]);
    const sealed = await gcmSeal(k, iv, new TextEncoder().encode('hello'), ad);
    assert.equal(nodeOpen(nodeKey(secret, label), iv, sealed, ad).toString(), 'hello');
  }
});

test('a malformed secret is refused', async () => {
  await assert.rejects(deriveAuth('not base64!'), RangeError);
  await assert.rejects(deriveRoomKeys('not base64!'), RangeError);
});

test('associated data: label, NUL-separated parts, 8-byte big-endian counter', () => {
  const ad = associatedData('xroom/v1/signal', ['from', 'to'], 258);
  assert.deepEqual(Buffer.from(ad), Buffer.concat([Buffer.from('xroom/v1/signal\0from\0to\0'), Buffer.from([0, 0, 0, 0, 0, 0, 1, 2])]));
  // Moving a boundary changes the bytes.
  assert.notDeepEqual(associatedData('l', ['ab', 'c'], 1), associatedData('l', ['a', 'bc'], 1));
});

test('AES-GCM: tampered ciphertext, tag, IV, associated data or key fail to open', async () => {
  const key = await aesKey(new Uint8Array(randomBytes(32)));
  const other = await aesKey(new Uint8Array(randomBytes(32)));
  const iv = new Uint8Array(randomBytes(12));
  const ad = new Uint8Array([9, 9]);
  const plain = new TextEncoder().encode('a secret');
  const sealed = await gcmSeal(key, iv, plain, ad);
  assert.deepEqual(await gcmOpen(key, iv, sealed, ad), plain);
  for (let i = 0; i < sealed.length; i++) {
    const t = sealed.slice();
    t[i] ^= 1;
    assert.equal(await gcmOpen(key, iv, t, ad), null, `flipped byte ${i}`);
  }
  const iv2 = iv.slice();
  iv2[0] ^= 1;
  assert.equal(await gcmOpen(key, iv2, sealed, ad), null);
  assert.equal(await gcmOpen(key, iv, sealed, new Uint8Array([9, 8])), null);
  assert.equal(await gcmOpen(other, iv, sealed, ad), null);
  assert.equal(await gcmOpen(key, iv, sealed.subarray(0, 10), ad), null, 'shorter than a tag');
  assert.equal(await gcmOpen(key, iv.subarray(0, 8), sealed, ad), null, 'short IV');
});

test('replay window: each counter once, any order within the window, nothing older', () => {
  const w = new ReplayWindow(64);
  for (const c of [1, 2, 5, 3]) {
    assert.ok(w.check(c), `fresh ${c}`);
    w.accept(c);
  }
  for (const c of [1, 2, 3, 5]) assert.equal(w.check(c), false, `repeat ${c}`);
  assert.ok(w.check(4));
  w.accept(100);
  assert.equal(w.check(36), false, 'older than the window');
  assert.ok(w.check(37), 'inside the window');
  assert.ok(w.check(99));
  w.accept(99);
  assert.equal(w.check(99), false);
  // A jump larger than the window clears it.
  w.accept(1000);
  assert.ok(w.check(999));
  assert.equal(w.check(936), false);
  assert.equal(w.check(0), false, 'counters start at 1');
  assert.equal(w.check(-1), false);
  assert.equal(w.check(1.5), false);
  assert.equal(REPLAY_WINDOW % 32, 0);
});

test('Sealer: the counter only grows; the parts are bound', async () => {
  const key = await aesKey(new Uint8Array(randomBytes(32)));
  const s = new Sealer(key, 'xroom/v1/test');
  const a = await s.seal(['x', 'y'], new Uint8Array([1]));
  const b = await s.seal(['x', 'z'], new Uint8Array([2]));
  assert.equal(a.counter, 1);
  assert.equal(b.counter, 2);
  assert.deepEqual(await s.open(['x', 'y'], 1, a.iv, a.sealed), new Uint8Array([1]));
  assert.equal(await s.open(['x', 'z'], 1, a.iv, a.sealed), null, 'other parts');
  assert.equal(await s.open(['x', 'y'], 2, a.iv, a.sealed), null, 'other counter');
  assert.equal(await s.open(['x', 'y'], 0, a.iv, a.sealed), null);
});

test('data-channel sealing: round trip, JSON, and its layout opened by Node', async () => {
  const secret = randomBytes(32);
  const keys = await deriveRoomKeys(secret.toString('base64url'));
  const alice = new DataSealer(keys.data, 'tabAliceAAAAAAAA');
  const bob = new DataSealer(keys.data, 'tabBobBBBBBBBBBB');
  const msg = await alice.sealJSON('tabBobBBBBBBBBBB', 'chat', { text: 'meet at noon' });
  assert.equal(msg[0], 1, 'version byte');
  assert.ok(!Buffer.from(msg).toString('latin1').includes('noon'));
  // version(1) | counter(8) | IV(12) | ciphertext+tag; AD binds both tabs, the channel, the counter.
  const counter = Buffer.from(msg.subarray(1, 9)).readBigUInt64BE();
  assert.equal(counter, 1n);
  const ad = associatedData('xroom/v1/data', ['tabAliceAAAAAAAA', 'tabBobBBBBBBBBBB', 'chat'], 1);
  const plain = nodeOpen(nodeKey(secret, 'xroom/v1/data'), msg.subarray(9, 21), msg.subarray(21), ad);
  assert.deepEqual(JSON.parse(plain.toString()), { text: 'meet at noon' });
  assert.deepEqual(await bob.openJSON('tabAliceAAAAAAAA', 'chat', msg), { text: 'meet at noon' });
  assert.equal(bob.rejected, 0);
});

test('data-channel sealing refuses tampering, the wrong channel or peer, replays, old counters', async () => {
  const keys = await deriveRoomKeys(randomBytes(32).toString('base64url'));
  const A = 'tabAliceAAAAAAAA';
  const B = 'tabBobBBBBBBBBBB';
  const C = 'tabCarolCCCCCCCC';
  const alice = new DataSealer(keys.data, A);
  const bob = new DataSealer(keys.data, B);
  const carol = new DataSealer(keys.data, C);
  const bytes = new TextEncoder().encode('file chunk');
  const m1 = await alice.seal(B, 'files', bytes);
  let rejected = 0;
  const refused = async (who, from, channel, m, why) => {
    assert.equal(await who.open(from, channel, m), null, why);
    rejected += 1;
  };
  for (let i = 0; i < m1.length; i++) {
    const t = m1.slice();
    t[i] ^= 0x40;
    await refused(bob, A, 'files', t, `tampered byte ${i}`);
  }
  await refused(bob, A, 'chat', m1, 'another channel');
  await refused(bob, C, 'files', m1, 'another sender');
  await refused(carol, A, 'files', m1, 'another recipient');
  await refused(bob, A, 'files', m1.subarray(0, 20), 'truncated');
  assert.equal(bob.rejected + carol.rejected, rejected);
  assert.deepEqual(await bob.open(A, 'files', m1), bytes);
  assert.equal(await bob.open(A, 'files', m1), null, 'replayed');
  // Unordered delivery within the window is fine; older than it is not.
  const later = [];
  for (let i = 0; i < 1100; i++) later.push(await alice.seal(B, 'files', bytes));
  assert.deepEqual(await bob.open(A, 'files', later[1099]), bytes);
  assert.deepEqual(await bob.open(A, 'files', later[1000]), bytes, 'out of order, inside the window');
  assert.equal(await bob.open(A, 'files', later[5]), null, 'older than the window');
  const other = new DataSealer((await deriveRoomKeys(randomBytes(32).toString('base64url'))).data, B);
  assert.equal(await other.open(A, 'files', later[1050]), null, 'another room key');
});

test('fingerprints are read from SDP and normalised', () => {
  const sdp = 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\na=group:BUNDLE 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n' +
    'a=fingerprint:SHA-256 ab:cd:EF:01\r\na=setup:actpass\r\n';
  assert.equal(fingerprintOf(sdp), 'sha-256 AB:CD:EF:01');
  assert.equal(fingerprintOf('v=0\r\n'), '');
});

test('safety code: 12 digits, the same from both sides, from both fingerprints and the room key', async () => {
  const secret = randomBytes(32);
  const keys = await deriveRoomKeys(secret.toString('base64url'));
  const fa = `sha-256 ${randomBytes(32).toString('hex').toUpperCase().match(/../g).join(':')}`;
  const fb = `sha-256 ${randomBytes(32).toString('hex').toUpperCase().match(/../g).join(':')}`;
  const ab = await safetyCode(keys.safety, fa, fb);
  assert.match(ab, /^\d{4} \d{4} \d{4}$/);
  assert.equal(await safetyCode(keys.safety, fb, fa), ab, 'symmetric');
  // Node: HMAC-SHA-256(HKDF(secret, "xroom/v1/safety"), "xroom/v1/safety-code" NUL min NUL max), first 8 bytes mod 10^12.
  const [x, y] = [fa, fb].sort();
  const mac = createHmac('sha256', nodeKey(secret, 'xroom/v1/safety')).update(`xroom/v1/safety-code\0${x}\0${y}`).digest();
  const n = (mac.readBigUInt64BE(0) % 10n ** 12n).toString().padStart(12, '0');
  assert.equal(ab.replace(/ /g, ''), n);
  const fc = fa.replace(/.$/, fa.endsWith('0') ? '1' : '0');
  assert.notEqual(await safetyCode(keys.safety, fc, fb), ab, 'another certificate, another code');
  const other = await deriveRoomKeys(randomBytes(32).toString('base64url'));
  assert.notEqual(await safetyCode(other.safety, fa, fb), ab, 'another room, another code');
});
