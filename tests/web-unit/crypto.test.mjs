// The key schedule and the sealing helpers of web/js/e2ee/crypto.js, checked
// against Node's own HKDF, HMAC and AES-GCM so that the labels and layouts
// are what docs/security.md says, not just self-consistent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import {
  AUTH_INFO, DataSealer, LABELS, REPLAY_WINDOW, ReplayWindow, Sealer, aesKey, associatedData, deriveAuth,
  deriveRoomKeys, fingerprintOf, gcmOpen, gcmSeal, hkdf, safetyCode,
} from '../../web/js/e2ee/crypto.js';
import { sealedTabs } from './sealed-tabs.mjs';

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
    const keys = await deriveRoomKeys(secret.toString('base64url'), 'room');
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
  assert.deepEqual(LABELS, {
    auth: 'xroom/v1/auth', signal: 'xroom/v2/signal', pairSalt: 'xroom/v2/pair-salt', safety: 'xroom/v2/safety',
    signalSignature: 'xroom/v2/signal-signature', data: 'xroom/v2/data', mediaKey: 'xroom/v2/media-key',
  });
  const s = new Uint8Array(randomBytes(32));
  const keys = await Promise.all(Object.values(LABELS).map(async (l) => Buffer.from(await hkdf(s, l, 32)).toString('hex')));
  assert.equal(new Set(keys).size, keys.length);
});

test('room keys are not extractable; each is HKDF(secret, label NUL room id): another room, other keys', async () => {
  const secret = randomBytes(32);
  const keys = await deriveRoomKeys(secret.toString('base64url'), 'roomOne');
  for (const k of [keys.signal, keys.safety]) assert.equal(k.extractable, false);
  // Seal with the derived key; Node opens it with hkdfSync's key: same key.
  const iv = new Uint8Array(randomBytes(12));
  const ad = new Uint8Array([1, 2, 3]);
  const sealed = await gcmSeal(keys.signal, iv, new TextEncoder().encode('hello'), ad);
  assert.equal(nodeOpen(nodeKey(secret, 'xroom/v2/signal\0roomOne'), iv, sealed, ad).toString(), 'hello');
  assert.deepEqual(Buffer.from(keys.pairSalt), nodeKey(secret, 'xroom/v2/pair-salt\0roomOne'));
  const other = await deriveRoomKeys(secret.toString('base64url'), 'roomTwo');
  assert.equal(await gcmOpen(other.signal, iv, sealed, ad), null, 'the same secret in another room');
  assert.notDeepEqual(Buffer.from(other.pairSalt), Buffer.from(keys.pairSalt));
  assert.equal(other.auth, keys.auth, 'the join auth is the room verifier: the daemon checks it per room anyway');
});

test('a malformed secret is refused', async () => {
  await assert.rejects(deriveAuth('not base64!'), RangeError);
  await assert.rejects(deriveRoomKeys('not base64!', 'room'), RangeError);
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

test('data-channel sealing: round trip, JSON, and its layout opened with the pair key', async () => {
  const [alice, bob] = await sealedTabs(2);
  const msg = await alice.sealer.sealJSON(bob.tab, 'chat', { text: 'meet at noon' });
  assert.equal(msg[0], 2, 'version byte');
  assert.ok(!Buffer.from(msg).toString('latin1').includes('noon'));
  // version(1) | counter(8) | IV(12) | ciphertext+tag; AD binds both tabs, the channel, the counter.
  const counter = Buffer.from(msg.subarray(1, 9)).readBigUInt64BE();
  assert.equal(counter, 1n);
  const ad = associatedData('xroom/v2/data', [alice.tab, bob.tab, 'chat'], 1);
  const plain = await gcmOpen(await bob.sealer.keyFor(alice.tab), msg.subarray(9, 21), msg.subarray(21), ad);
  assert.deepEqual(JSON.parse(new TextDecoder().decode(plain)), { text: 'meet at noon' });
  assert.deepEqual(await bob.sealer.openJSON(alice.tab, 'chat', msg), { text: 'meet at noon' });
  assert.equal(bob.sealer.rejected, 0);
  await assert.rejects(alice.sealer.seal('someoneElseAAAAAAAAAAA', 'chat', new Uint8Array(1)), /no key/, 'no pair key, nothing sent');
});

test('data-channel sealing refuses tampering, the wrong channel or peer, replays, old counters', async () => {
  const tabs = await sealedTabs(3);
  const [A, B, C] = tabs.map((t) => t.tab);
  const [alice, bob, carol] = tabs.map((t) => t.sealer);
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
  const other = (await sealedTabs(2, { identities: [tabs[1].identity, tabs[0].identity] }))[0].sealer;
  assert.equal(await other.open(A, 'files', later[1050]), null, 'the same two tabs in another room (another pair salt)');
});

test('fingerprints are read from SDP and normalised', () => {
  const sdp = 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\na=group:BUNDLE 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n' +
    'a=fingerprint:SHA-256 ab:cd:EF:01\r\na=setup:actpass\r\n';
  assert.equal(fingerprintOf(sdp), 'sha-256 AB:CD:EF:01');
  assert.equal(fingerprintOf('v=0\r\n'), '');
});

test('safety code: 25 digits (83 bits), the same from both sides, from both certificates, both tab keys and the room key', async () => {
  const secret = randomBytes(32);
  const keys = await deriveRoomKeys(secret.toString('base64url'), 'room');
  const fp = () => `sha-256 ${randomBytes(32).toString('hex').toUpperCase().match(/../g).join(':')}`;
  const a = { fp: fp(), pub: randomBytes(65).toString('base64url') };
  const b = { fp: fp(), pub: randomBytes(65).toString('base64url') };
  const ab = await safetyCode(keys.safety, a, b);
  assert.match(ab, /^\d{5} \d{5} \d{5} \d{5} \d{5}$/);
  assert.equal(await safetyCode(keys.safety, b, a), ab, 'symmetric');
  // Node: HMAC-SHA-256(HKDF(secret, "xroom/v2/safety" NUL room), "xroom/v2/safety-code" NUL min NUL max), first 16 bytes mod 10^25.
  const [x, y] = [`${a.fp} ${a.pub}`, `${b.fp} ${b.pub}`].sort();
  const mac = createHmac('sha256', nodeKey(secret, 'xroom/v2/safety\0room')).update(`xroom/v2/safety-code\0${x}\0${y}`).digest();
  const n = (((mac.readBigUInt64BE(0) << 64n) | mac.readBigUInt64BE(8)) % 10n ** 25n).toString().padStart(25, '0');
  assert.equal(ab.replace(/ /g, ''), n);
  const c = { ...a, fp: a.fp.replace(/.$/, a.fp.endsWith('0') ? '1' : '0') };
  assert.notEqual(await safetyCode(keys.safety, c, b), ab, 'another certificate, another code');
  assert.notEqual(await safetyCode(keys.safety, { ...a, pub: b.pub }, b), ab, 'another tab key, another code');
  const other = await deriveRoomKeys(randomBytes(32).toString('base64url'), 'room');
  assert.notEqual(await safetyCode(other.safety, a, b), ab, 'another room, another code');
});

test('an SDP with more than one distinct DTLS fingerprint has none that counts', async () => {
  const { fingerprintOf, fingerprintsOf } = await import('../../web/js/e2ee/crypto.js');
  const one = 'v=0\r\na=fingerprint:sha-256 AB:CD\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=fingerprint:SHA-256 ab:cd\r\n';
  assert.deepEqual([...fingerprintsOf(one)], ['sha-256 AB:CD'], 'the same one twice, in two spellings');
  assert.equal(fingerprintOf(one), 'sha-256 AB:CD');
  const two = `${one}m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=fingerprint:sha-256 EF:01\r\n`;
  assert.equal(fingerprintsOf(two).size, 2);
  assert.equal(fingerprintOf(two), '', 'ambiguous: none');
  assert.equal(fingerprintOf('v=0\r\n'), '');
});
