import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hkdfSync, randomBytes } from 'node:crypto';
import { AUTH_INFO, deriveAuth, hkdf } from '../../web/js/crypto.js';

test('the join auth is HKDF-SHA-256(secret, salt "", info "xroom/v1/auth"), 16 bytes, base64url', async () => {
  assert.equal(AUTH_INFO, 'xroom/v1/auth');
  for (let i = 0; i < 20; i++) {
    const secret = randomBytes(32);
    const expected = Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), 'xroom/v1/auth', 16)).toString('base64url');
    const auth = await deriveAuth(secret.toString('base64url'));
    assert.equal(auth, expected);
    assert.match(auth, /^[A-Za-z0-9_-]{22}$/);
    assert.ok(!auth.includes(secret.toString('base64url').slice(0, 8)));
  }
});

test('RFC 5869 test case 3 (zero-length salt and info)', async () => {
  const ikm = new Uint8Array(22).fill(0x0b);
  const okm = await hkdf(ikm, '', 42);
  assert.equal(Buffer.from(okm).toString('hex'),
    '8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8');
});

test('different labels give unrelated keys', async () => {
  const s = new Uint8Array(randomBytes(32));
  const a = Buffer.from(await hkdf(s, 'xroom/v1/auth', 16)).toString('hex');
  const b = Buffer.from(await hkdf(s, 'xroom/v1/signal', 16)).toString('hex');
  assert.notEqual(a, b);
});

test('a malformed secret is refused', async () => {
  await assert.rejects(deriveAuth('not base64!'), RangeError);
});
