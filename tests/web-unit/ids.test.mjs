import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  MIN_SECRET_BYTES, ROOM_ID_RE, base64url, fromBase64url, newRoom, parseRoomLink, randomId, roomHref,
} from '../../web/js/util/ids.js';

test('base64url matches Node for every length, both ways', () => {
  for (let n = 0; n < 70; n++) {
    const b = randomBytes(n);
    const s = base64url(new Uint8Array(b));
    assert.equal(s, b.toString('base64url'));
    assert.deepEqual(Buffer.from(fromBase64url(s)), b);
  }
});

test('fromBase64url refuses padding, other alphabets and non-canonical text', () => {
  for (const bad of ['AA==', 'a+b/', 'A', 'ab$c', 'AB', 'AAB']) {
    if (bad === 'AB' || bad === 'AAB') {
      // 'AB' decodes to 1 byte but is not canonical ('AQ' is); 'AAB' likewise
      assert.throws(() => fromBase64url(bad), RangeError);
    } else {
      assert.throws(() => fromBase64url(bad), RangeError, bad);
    }
  }
  assert.deepEqual([...fromBase64url('')], []);
});

test('new rooms: a 22-character id (128 bits) and a 43-character secret (256 bits), all different', () => {
  const seen = new Set();
  for (let i = 0; i < 200; i++) {
    const { id, secret } = newRoom();
    assert.match(id, /^[A-Za-z0-9_-]{22}$/);
    assert.match(secret, /^[A-Za-z0-9_-]{43}$/);
    assert.ok(ROOM_ID_RE.test(id));
    assert.equal(fromBase64url(secret).length, 32);
    assert.ok(!seen.has(id) && !seen.has(secret));
    seen.add(id).add(secret);
  }
  assert.equal(randomId(12).length, 16);
  assert.equal(roomHref('abc', 'def'), '/r/abc#def');
});

test('parseRoomLink: accepts this server\'s room links, explains everything else', () => {
  const base = 'http://127.0.0.1:8080/';
  const key = randomBytes(32).toString('base64url');
  assert.deepEqual(parseRoomLink(`http://127.0.0.1:8080/r/Zk3v9QeTz1kq0m4yHbC2_w#${key}`, base),
    { ok: true, id: 'Zk3v9QeTz1kq0m4yHbC2_w', secret: key, href: `/r/Zk3v9QeTz1kq0m4yHbC2_w#${key}` });
  assert.equal(parseRoomLink(`  /r/abc?test=1#${key}\n`, base).ok, true, 'relative, padded, with a query');
  const reason = (text) => { const r = parseRoomLink(text, base); return r.ok ? 'ok' : r.reason; };
  assert.equal(reason('hello world'), 'no-room');
  assert.equal(reason('http://['), 'not-a-link');
  assert.equal(reason('javascript:alert(1)'), 'not-a-link');
  assert.equal(reason(`https://elsewhere.example/r/abc#${key}`), 'other-server');
  assert.equal(reason(`http://127.0.0.1:8080/r/${'a'.repeat(65)}#${key}`), 'no-room');
  assert.equal(reason(`http://127.0.0.1:8080/r/a.b#${key}`), 'no-room');
  assert.equal(reason('http://127.0.0.1:8080/r/abc'), 'no-secret');
  assert.equal(reason('http://127.0.0.1:8080/r/abc#'), 'no-secret');
  assert.equal(reason('http://127.0.0.1:8080/r/abc#not*base64'), 'bad-secret');
  assert.equal(reason(`http://127.0.0.1:8080/r/abc#${randomBytes(MIN_SECRET_BYTES - 1).toString('base64url')}`), 'bad-secret');
  assert.equal(reason(`http://127.0.0.1:8080/r/abc#${randomBytes(MIN_SECRET_BYTES).toString('base64url')}`), 'ok');
});
