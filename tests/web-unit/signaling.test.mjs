import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BACKOFF_BASE_MS, BACKOFF_CAP_MS, backoffDelay, REFUSALS, TERMINAL } from '../../web/js/transport/signaling.js';

test('backoff doubles from 500 ms to a 10 s cap; half fixed, half random', () => {
  assert.equal(BACKOFF_BASE_MS, 500);
  assert.equal(BACKOFF_CAP_MS, 10000);
  const lo = (n) => backoffDelay(n, () => 0);
  const hi = (n) => backoffDelay(n, () => 0.999999);
  assert.deepEqual([0, 1, 2, 3, 4, 5, 6, 20, 1000].map(lo), [250, 500, 1000, 2000, 4000, 5000, 5000, 5000, 5000]);
  assert.deepEqual([0, 1, 2, 3, 4, 5, 6, 20, 1000].map(hi), [500, 1000, 2000, 4000, 8000, 10000, 10000, 10000, 10000]);
  assert.equal(backoffDelay(-3, () => 0), 250, 'a negative attempt counts as the first');
});

test('jitter spreads clients dropped together', () => {
  const delays = new Set();
  for (let i = 0; i < 50; i++) delays.add(backoffDelay(3));
  assert.ok(delays.size > 25, `only ${delays.size} distinct delays`);
  for (const d of delays) assert.ok(d >= 2000 && d <= 4000);
});

test('a daemon restart is survived within 15 s: the cumulative schedule retries at least every 10 s', () => {
  let t = 0;
  for (let n = 0; n < 12; n++) {
    const d = backoffDelay(n, Math.random);
    assert.ok(d <= 10000);
    t += d;
  }
  assert.ok(t > 30000, 'backs off: a dozen retries take more than 30 s');
});

test('which errors end a session', () => {
  for (const c of ['kicked', 'room-closed', 'room-expired', 'bad-room']) assert.ok(TERMINAL.has(c));
  for (const c of ['room-full', 'forbidden', 'server-busy', 'room-locked']) assert.ok(REFUSALS.has(c));
  for (const c of ['bad-json', 'bad-message', 'unknown-peer', 'rate-limited', 'not-joined']) {
    assert.ok(!TERMINAL.has(c) && !REFUSALS.has(c), c);
  }
});

test('the pacer lets a burst through, then spaces messages at the rate', async () => {
  const { Pacer, PACE_PER_SECOND, PACE_BURST } = await import('../../web/js/transport/signaling.js');
  assert.ok(PACE_PER_SECOND < 50 && PACE_BURST < 200, 'below the daemon\'s default limits');
  let t = 0;
  const p = new Pacer(40, 150, () => t);
  for (let i = 0; i < 150; i++) assert.equal(p.reserve(), 0);
  assert.equal(p.reserve(), 25, 'the 151st waits 1/40 s');
  assert.equal(p.reserve(), 50);
  t = 1000; // a second later, 40 tokens came back, 2 were owed
  for (let i = 0; i < 38; i++) assert.equal(p.reserve(), 0);
  assert.ok(p.reserve() > 0);
  t = 100000;
  for (let i = 0; i < 150; i++) assert.equal(p.reserve(), 0, 'refills to the burst, no more');
  assert.ok(p.reserve() > 0);
});

test('TURN credentials: their expiry read from the username; renewed a fifth of their life (at most 5 min) ahead, never in a loop', async () => {
  const { MIN_RENEW_MS, renewDelay, turnExpiry } = await import('../../web/js/transport/signaling.js');
  const now = 1_800_000_000_000;
  const exp = now / 1000 + 3600;
  assert.equal(turnExpiry([{ urls: 'stun:x' }]), 0);
  assert.equal(turnExpiry([{ urls: 'turn:x', username: `${exp}:xroom`, credential: 'c' }, { urls: 'turn:y', username: `${exp - 10}:xroom` }]), (exp - 10) * 1000);
  assert.equal(turnExpiry([{ urls: 'turn:x', username: 'static-user' }]), 0, 'not the REST scheme: no expiry');
  assert.equal(renewDelay(0, now), 0);
  assert.equal(renewDelay(exp * 1000, now), 3600_000 - 5 * 60_000, 'an hour: 5 min ahead');
  assert.equal(renewDelay(now + 60_000, now), 48_000, 'a minute: a fifth ahead');
  assert.equal(renewDelay(now + MIN_RENEW_MS + 1000, now), MIN_RENEW_MS, 'never sooner than MIN_RENEW_MS');
  assert.equal(renewDelay(now + 10_000, now), 0, 'about to expire (or a clock far ahead): no renewal loop');
  assert.equal(renewDelay(now - 1000, now), 0);
});
