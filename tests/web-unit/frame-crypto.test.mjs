// Frame encryption (web/js/e2ee/frame-crypto.js, what the worker runs on every
// frame): the codec rules for clear bytes, the sealed frame's layout, and
// refusal of anything tampered with.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createDecipheriv, randomBytes } from 'node:crypto';
import { aesKey } from '../../web/js/e2ee/crypto.js';
import {
  CLEAR_BYTES, IvSource, OVERHEAD, STRUCTURED_CODECS, SUPPORTED_CODECS, TRAILER_BYTES, av1Obus, clearBytes, codecOf,
  escapeStartCodes, h264ClearBytes, keyIdOf, nalUnits, openFrame, parseSealed, payloadTypes, plainLength, sealFor,
  sealFrame, unescapeStartCodes,
} from '../../web/js/e2ee/frame-crypto.js';

const raw = new Uint8Array(randomBytes(32));
const key = await aesKey(raw);

test('clear bytes: VP8 key frames 10, delta frames 3, VP9 none, Opus 1, never more than the frame', () => {
  assert.equal(clearBytes('video/vp8', 'key', 5000), 10);
  assert.equal(clearBytes('video/vp8', 'delta', 5000), 3);
  assert.equal(clearBytes('video/vp9', 'key', 5000), 0);
  assert.equal(clearBytes('video/vp9', 'delta', 5000), 0);
  assert.equal(clearBytes('audio/opus', undefined, 80), 1);
  assert.equal(clearBytes('video/vp8', 'key', 6), 6, 'a frame shorter than its header');
  assert.equal(clearBytes('video/vp8', 'empty', 0), 0);
  assert.equal(clearBytes('audio/opus', undefined, 0), 0);
  // A codec without a rule is sealed whole: never sent clear.
  assert.equal(clearBytes('video/h264', 'key', 5000), 0);
  assert.equal(clearBytes('video/av1', 'key', 5000), 0);
  assert.ok(Object.isFrozen(CLEAR_BYTES));
});

test('the rule table: what is negotiated, in order of preference', () => {
  // VP8 first (every browser with an encoded transform has it, and it is
  // the cheapest to encode in software); each codec has its rule.
  assert.deepEqual([...SUPPORTED_CODECS], ['video/vp8', 'video/vp9', 'video/h264', 'video/av1', 'audio/opus']);
  assert.deepEqual(Object.fromEntries(Object.entries(CLEAR_BYTES).map(([c, r]) => [c, [r.key, r.delta]])), {
    'video/vp8': [10, 3],
    'video/vp9': [0, 0],
    'audio/opus': [1, 1],
  });
  // H.264 and AV1 follow the frame's structure (below), not a prefix.
  assert.deepEqual([...STRUCTURED_CODECS], ['video/h264', 'video/av1']);
  for (const c of SUPPORTED_CODECS) assert.ok(CLEAR_BYTES[c] || STRUCTURED_CODECS.includes(c), `${c} has a rule`);
  assert.ok(Object.isFrozen(SUPPORTED_CODECS));
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

// --- H.264 -----------------------------------------------------------------

const SC4 = [0, 0, 0, 1];
const SC3 = [0, 0, 1];
/** An H.264 key frame as Chromium's encoder gives it: SPS, PPS, IDR slice. */
function h264Key(sliceBytes = 3000, sc = SC4) {
  const sps = [0x67, 0x42, 0xc0, 0x1f, 0xda, 0x01, 0x40, 0x16, 0xec, 0x04, 0x40];
  const pps = [0xce, 0x0f, 0x88].map((b, i) => (i === 0 ? 0x68 : b));
  // IDR (type 5), header 0x65; first_mb_in_slice=0 '1', slice_type=7 '0001000',
  // pps_id=0 '1', then anything: 0b10001000 0b1xxxxxxx -> 9 + 1 bits.
  const body = [...randomBytes(sliceBytes)];
  return new Uint8Array([...sc, ...sps, ...sc, ...pps, ...sc, 0x65, 0x88, 0x80 | (body[0] & 0x7f), ...body.slice(1)]);
}

/** True when `data` holds 00 00 00, 00 00 01 or 00 00 02 (what escaping rules out) at or after `from`. */
function hasStartCode(data, from = 0) {
  for (let i = from; i + 2 < data.length; i++) if (data[i] === 0 && data[i + 1] === 0 && data[i + 2] <= 2) return true;
  return false;
}

test('H.264: NAL units by start code (3 or 4 bytes); clear up to the slice header\'s parameter-set id', () => {
  const f = h264Key(100);
  const units = nalUnits(f);
  assert.deepEqual(units.map((u) => f[u.start] & 0x1f), [7, 8, 5]);
  assert.equal(units[0].start, 4);
  assert.equal(f[units[0].end], 0, 'a unit ends before the next start code');
  const idr = units[2].start;
  // NAL header + first_mb_in_slice, slice_type, pps_id: 10 bits -> 2 bytes.
  assert.equal(h264ClearBytes(f), idr + 1 + 2);
  const f3 = h264Key(100, SC3);
  assert.deepEqual(nalUnits(f3).map((u) => f3[u.start] & 0x1f), [7, 8, 5]);
  assert.equal(h264ClearBytes(new Uint8Array([1, 2, 3])), 0, 'no start code: nothing clear');
  assert.equal(h264ClearBytes(new Uint8Array([...SC4, 0x67, 1, 2])), 5, 'no slice: the last NAL header');
});

test('H.264: escaping leaves no start code, and undoes exactly, whatever the bytes before', () => {
  for (let i = 0; i < 200; i++) {
    const data = new Uint8Array(randomBytes(64)).map((b) => (b < 140 ? 0 : b < 200 ? b % 4 : b));
    for (const zeros of [0, 1, 2]) {
      const e = escapeStartCodes(data, zeros);
      const withHead = new Uint8Array([...new Array(zeros).fill(0), ...e]);
      assert.ok(!hasStartCode(withHead), 'no 00 00 0x (x <= 2) anywhere');
      assert.notEqual(withHead.length >= 2 && withHead[withHead.length - 1] === 0 && withHead[withHead.length - 2] === 0, true, 'no 00 00 at the end');
      assert.deepEqual(unescapeStartCodes(e, zeros), data);
    }
  }
});

test('H.264: sealed, the structure stays, nothing after the clear part looks like a start code; it opens, also with 4-byte start codes rewritten', async () => {
  const ivs = new IvSource();
  for (let i = 0; i < 20; i++) {
    const f = h264Key(2000 + i, i % 2 ? SC3 : SC4);
    const clear = h264ClearBytes(f);
    const sealed = await sealFor('video/h264', 'key', key, 7, ivs.next(), f, 'video');
    assert.deepEqual(sealed.subarray(0, clear), f.subarray(0, clear), 'parameter sets and slice header start stay');
    assert.equal(h264ClearBytes(sealed), clear, 'the receiver finds the same clear part');
    assert.ok(!hasStartCode(sealed, clear - 2), 'no start code in the sealed part');
    assert.notDeepEqual(sealed.subarray(clear, clear + 32), f.subarray(clear, clear + 32));
    const p = parseSealed('video/h264', 'key', sealed, 'video');
    assert.equal(p.keyId, 7);
    assert.deepEqual(await p.open(key), f);
    // The depacketiser writes 4-byte start codes: still opens (the start
    // codes are not in the associated data).
    const rewritten = new Uint8Array([...SC4, ...[...sealed].slice(i % 2 ? 3 : 4)]);
    const back = await parseSealed('video/h264', 'key', rewritten, 'video').open(key);
    assert.ok(back, 'opens after the start codes are rewritten');
    // A changed parameter set or slice header byte, or another key: refused.
    for (const at of [6, clear - 1]) {
      const t = Uint8Array.from(sealed);
      t[at] ^= 0x40;
      assert.equal(await parseSealed('video/h264', 'key', t, 'video').open(key), null, `byte ${at} altered`);
    }
    assert.equal(await p.open(await aesKey(new Uint8Array(randomBytes(32)))), null);
  }
});

// --- AV1 -------------------------------------------------------------------

/** An OBU: header (type, with a size field), leb128 size, payload. */
function obu(type, payload, { size = true, ext = false } = {}) {
  const head = [(type << 3) | (ext ? 0x04 : 0) | (size ? 0x02 : 0)];
  if (ext) head.push(0x28);
  const len = [];
  let n = payload.length;
  do { let b = n & 0x7f; n >>= 7; if (n) b |= 0x80; len.push(b); } while (n);
  return [...head, ...(size ? len : []), ...payload];
}
/** A key temporal unit as an encoder gives it: delimiter, sequence header, frame (last without size). */
function av1Key(frameBytes = 3000) {
  return new Uint8Array([...obu(2, []), ...obu(1, [...randomBytes(12)]), ...obu(6, [...randomBytes(frameBytes)], { size: false })]);
}
/** What the RTP packetiser and depacketiser make of it: delimiter and padding dropped, every OBU with a size field. */
function overRtp(data) {
  return new Uint8Array(av1Obus(data).filter((o) => ![2, 8, 15].includes(o.type))
    .flatMap((o) => obu(o.type, [...o.payload], { ext: !!(o.header[0] & 0x04) })));
}

test('AV1: OBUs parsed (with and without size fields, extension headers); malformed bytes are not OBUs', () => {
  const f = av1Key(300);
  assert.deepEqual(av1Obus(f).map((o) => [o.type, o.payload.length]), [[2, 0], [1, 12], [6, 300]]);
  const x = new Uint8Array(obu(6, [1, 2, 3], { ext: true }));
  assert.deepEqual(av1Obus(x).map((o) => [o.type, o.header.length, o.payload.length]), [[6, 2, 3]]);
  assert.equal(av1Obus(new Uint8Array([0x80, 0])), null, 'forbidden bit');
  assert.equal(av1Obus(new Uint8Array([0x32, 9, 1])), null, 'size past the end');
});

test('AV1: OBU headers clear, payloads sealed; opens after the packetiser and depacketiser rewrote it; alterations refused', async () => {
  const ivs = new IvSource();
  for (let i = 0; i < 10; i++) {
    const f = av1Key(1500 + i);
    const sealed = await sealFor('video/av1', 'key', key, 9, ivs.next(), f, 'video');
    const obus = av1Obus(sealed);
    assert.deepEqual(obus.map((o) => o.type), [1, 6], 'the same OBUs, the delimiter left to the packetiser');
    assert.equal(obus[0].payload.length, 12);
    assert.equal(obus[1].payload.length, 1500 + i + OVERHEAD, 'the last carries tag, IV and key id');
    assert.notDeepEqual(obus[0].payload, av1Obus(f)[1].payload, 'the sequence header is sealed too');
    const received = overRtp(sealed);
    const p = parseSealed('video/av1', 'key', received, 'video');
    assert.equal(p.keyId, 9);
    const back = await p.open(key);
    assert.deepEqual(av1Obus(back).map((o) => [o.type, [...o.payload]]),
      av1Obus(f).filter((o) => o.type !== 2).map((o) => [o.type, [...o.payload]]), 'every OBU back as it was');
    const t = Uint8Array.from(received);
    t[0] ^= 0x08; // another OBU type
    assert.equal(await parseSealed('video/av1', 'key', t, 'video').open(key), null);
    const u = Uint8Array.from(received);
    u[20] ^= 1;
    assert.equal(await parseSealed('video/av1', 'key', u, 'video').open(key), null);
  }
  assert.equal(parseSealed('video/av1', 'key', new Uint8Array([0x80]), 'video').keyId, -1, 'not OBUs: nothing to open');
});

test('sealFor and parseSealed follow the prefix rules for VP8, VP9 and Opus', async () => {
  const ivs = new IvSource();
  for (const [codec, type, kind, clear] of [['video/vp8', 'key', 'video', 10], ['video/vp8', 'delta', 'video', 3],
    ['video/vp9', 'key', 'video', 0], ['audio/opus', undefined, 'audio', 1]]) {
    const f = new Uint8Array(randomBytes(500));
    const sealed = await sealFor(codec, type, key, 3, ivs.next(), f, kind);
    assert.equal(sealed.length, f.length + OVERHEAD);
    assert.deepEqual(sealed.subarray(0, clear), f.subarray(0, clear));
    const p = parseSealed(codec, type, sealed, kind);
    assert.equal(p.keyId, 3);
    assert.deepEqual(await p.open(key), f);
  }
});
