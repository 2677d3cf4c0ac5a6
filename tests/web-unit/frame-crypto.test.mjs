// Frame encryption (web/js/frame-crypto.js, what the worker runs on every
// frame): the codec rules for clear bytes, the sealed frame's layout, and
// refusal of anything tampered with.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createDecipheriv, randomBytes } from 'node:crypto';
import { aesKey } from '../../web/js/crypto.js';
import {
  CLEAR_BYTES, IvSource, OVERHEAD, SUPPORTED_CODECS, TRAILER_BYTES, clearBytes, codecOf, keyIdOf, openFrame,
  payloadTypes, plainLength, sealFrame,
} from '../../web/js/frame-crypto.js';

const raw = new Uint8Array(randomBytes(32));
const key = await aesKey(raw);

test('clear bytes: VP8 key frames 10, delta frames 3, Opus 1, never more than the frame', () => {
  assert.equal(clearBytes('video/vp8', 'key', 5000), 10);
  assert.equal(clearBytes('video/vp8', 'delta', 5000), 3);
  assert.equal(clearBytes('audio/opus', undefined, 80), 1);
  assert.equal(clearBytes('video/vp8', 'key', 6), 6, 'a frame shorter than its header');
  assert.equal(clearBytes('video/vp8', 'empty', 0), 0);
  assert.equal(clearBytes('audio/opus', undefined, 0), 0);
  // A codec without a rule is sealed whole: never sent clear.
  assert.equal(clearBytes('video/h264', 'key', 5000), 0);
  assert.equal(clearBytes('video/vp9', 'delta', 5000), 0);
  assert.deepEqual([...SUPPORTED_CODECS].sort(), ['audio/opus', 'video/vp8']);
  assert.ok(Object.isFrozen(CLEAR_BYTES));
});

test('the codec comes from the metadata, else the payload type map, else the kind', () => {
  const pts = new Map([[96, 'video/vp8'], [98, 'video/vp9'], [111, 'audio/opus']]);
  assert.equal(codecOf({ mimeType: 'video/VP8', payloadType: 98 }, 'video', pts), 'video/vp8', 'metadata wins');
  assert.equal(codecOf({ payloadType: 98 }, 'video', pts), 'video/vp9');
  assert.equal(codecOf({ payloadType: 111 }, 'audio', pts), 'audio/opus');
  assert.equal(codecOf({ payloadType: 50 }, 'video', pts), 'video/vp8', 'unknown payload type: the default');
  assert.equal(codecOf({}, 'audio'), 'audio/opus');
  assert.equal(codecOf({ mimeType: '' }, 'video'), 'video/vp8');
});

test('payload types are read from an SDP, per media section', () => {
  const sdp = ['v=0', 'm=audio 9 UDP/TLS/RTP/SAVPF 111 63', 'a=rtpmap:111 opus/48000/2', 'a=rtpmap:63 red/48000/2',
    'm=video 9 UDP/TLS/RTP/SAVPF 96 97', 'a=rtpmap:96 VP8/90000', 'a=rtpmap:97 rtx/90000', ''].join('\r\n');
  assert.deepEqual([...payloadTypes(sdp)], [[111, 'audio/opus'], [63, 'audio/red'], [96, 'video/vp8'], [97, 'video/rtx']]);
});

test('a sealed VP8 key frame: header clear, the rest AES-GCM, IV and key id at the end; Node opens it', async () => {
  const frame = new Uint8Array(randomBytes(3000));
  const ivs = new IvSource();
  const iv = ivs.next();
  const sealed = await sealFrame(key, 42, iv, frame, 10, 'video');
  assert.equal(sealed.length, frame.length + OVERHEAD);
  assert.deepEqual(sealed.subarray(0, 10), frame.subarray(0, 10), 'the payload header stays clear');
  assert.notDeepEqual(sealed.subarray(10, 50), frame.subarray(10, 50));
  assert.equal(keyIdOf(sealed), 42);
  assert.deepEqual(sealed.subarray(sealed.length - TRAILER_BYTES, sealed.length - 1), iv);
  // Node: AES-256-GCM, AD = clear bytes | key id | 'v'.
  const body = sealed.subarray(10, sealed.length - TRAILER_BYTES);
  const d = createDecipheriv('aes-256-gcm', Buffer.from(raw), Buffer.from(iv));
  d.setAAD(Buffer.concat([Buffer.from(frame.subarray(0, 10)), Buffer.from([42, 0x76])]));
  d.setAuthTag(Buffer.from(body.subarray(body.length - 16)));
  const plain = Buffer.concat([d.update(body.subarray(0, body.length - 16)), d.final()]);
  assert.deepEqual(new Uint8Array(plain), frame.subarray(10));
  // And our own open, with the clear count the receiver computes.
  const clear = clearBytes('video/vp8', 'key', plainLength(sealed.length));
  assert.deepEqual(await openFrame(key, sealed, clear, 'video'), frame);
});

test('Opus and VP8 delta frames round trip with their own clear bytes', async () => {
  const ivs = new IvSource();
  for (const [codec, type, kind, n] of [['audio/opus', undefined, 'audio', 120], ['video/vp8', 'delta', 'video', 800], ['video/vp8', 'key', 'video', 4]]) {
    const frame = new Uint8Array(randomBytes(n));
    const c = clearBytes(codec, type, frame.length);
    const sealed = await sealFrame(key, 0, ivs.next(), frame, c, kind);
    assert.deepEqual(sealed.subarray(0, c), frame.subarray(0, c));
    assert.deepEqual(await openFrame(key, sealed, clearBytes(codec, type, plainLength(sealed.length)), kind), frame);
  }
});

test('tampered frames do not open: any byte, the clear header, the key id, the kind, the key', async () => {
  const frame = new Uint8Array(randomBytes(200));
  const sealed = await sealFrame(key, 3, new IvSource().next(), frame, 3, 'video');
  for (let i = 0; i < sealed.length; i++) {
    const t = sealed.slice();
    t[i] ^= 0x01;
    assert.equal(await openFrame(key, t, 3, 'video'), null, `flipped byte ${i}`);
  }
  assert.equal(await openFrame(key, sealed, 3, 'audio'), null, 'moved from video to audio');
  assert.equal(await openFrame(key, sealed, 10, 'video'), null, 'read as a key frame');
  assert.equal(await openFrame(key, sealed, 1, 'video'), null, 'fewer clear bytes');
  assert.equal(await openFrame(await aesKey(new Uint8Array(randomBytes(32))), sealed, 3, 'video'), null, 'another key (a former member\'s)');
  assert.equal(await openFrame(key, sealed.subarray(0, OVERHEAD - 1), 0, 'video'), null, 'too short');
  assert.equal(keyIdOf(new Uint8Array(5)), -1);
  // A clear (never sealed) frame does not open either.
  assert.equal(await openFrame(key, frame, 3, 'video'), null);
});

test('IVs never repeat under a key: a random salt and a counter', () => {
  const a = new IvSource();
  const b = new IvSource();
  const seen = new Set();
  for (let i = 0; i < 10000; i++) seen.add(Buffer.from(a.next()).toString('hex'));
  assert.equal(seen.size, 10000);
  const x = a.next();
  assert.equal(x.length, 12);
  assert.deepEqual(x.subarray(0, 4), a.salt);
  assert.notDeepEqual(a.salt, b.salt);
});
