// The bookkeeping of media keys and locks (web/js/e2ee/keys.js): key ids,
// when a new key is used, when ours goes again, and the lock of a tile
// from what the worker counted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KEY_RESEND_MS, allAcked, answerWant, lockOf, newPeerKeys, nextKeyId, resendDue } from '../../web/js/e2ee/keys.js';

const counters = (o = {}) => ({
  tab: '', encAudio: 0, encVideo: 0, decAudio: 0, decVideo: 0, authFailed: 0, noKey: 0, dropped: 0, keyId: -1, lastOkAt: 0, codecs: [], lastRefused: null,
  failed: { audio: 0, video: 0 }, okAt: { audio: 0, video: 0 }, ...o,
});
const peer = (o = {}) => ({ ...newPeerKeys(), ...o });

test('key ids are one byte and wrap', () => {
  assert.equal(nextKeyId(0), 1);
  assert.equal(nextKeyId(254), 255);
  assert.equal(nextKeyId(255), 0);
});

test('a new key is used once every peer still in the call acknowledged it', () => {
  const a = peer({ present: true, acked: 3 });
  const b = peer({ present: true, acked: 2 });
  const gone = peer({ present: false, acked: 1 });
  assert.ok(!allAcked([a, b, gone], 3));
  b.acked = 3;
  assert.ok(allAcked([a, b, gone], 3), 'a peer that is gone does not hold it up');
  assert.ok(allAcked([], 3));
});

test('our key goes again to a peer that has not acknowledged it, not too often', () => {
  const p = peer({ present: true, acked: 1, sentAt: 1000 });
  assert.ok(!resendDue(p, 2, 1000 + KEY_RESEND_MS), 'not yet');
  assert.ok(resendDue(p, 2, 1001 + KEY_RESEND_MS));
  assert.ok(!resendDue({ ...p, acked: 2 }, 2, 99999), 'acknowledged');
  assert.ok(!resendDue({ ...p, present: false }, 2, 99999), 'not in the call');
  assert.ok(answerWant(p, true, 1501));
  assert.ok(!answerWant(p, true, 1400), 'just sent');
  assert.ok(!answerWant(p, false, 9999));
});

test('the lock: pending until keys are current both ways, then secure', () => {
  const p = peer({ present: true });
  assert.equal(lockOf(p, undefined, 4, 0), 'pending');
  p.acked = 4;
  assert.equal(lockOf(p, undefined, 4, 0), 'pending', 'we hold no key of theirs');
  p.recvId = 7;
  assert.equal(lockOf(p, undefined, 4, 0), 'secure');
  assert.equal(lockOf(p, counters({ keyId: 6 }), 4, 0), 'pending', 'their frames use another key');
  assert.equal(lockOf(p, counters({ keyId: 7 }), 4, 0), 'secure');
  assert.equal(lockOf(p, counters(), 5, 0), 'pending', 'our key changed since they acknowledged');
});

test('the lock turns red per kind: refused frames with none of that kind opening, or ours found unsealed', () => {
  const p = peer({ present: true, acked: 4, recvId: 7 });
  const now = 100_000;
  // Video refused and never opened: red, though audio opens.
  assert.equal(lockOf(p, counters({ keyId: 7, failed: { audio: 0, video: 3 }, okAt: { audio: now, video: 0 } }), 4, now), 'alert');
  // A lull in the refusals does not make a kind that never opened secure.
  p.failedBefore = { audio: 0, video: 3 };
  assert.equal(lockOf(p, counters({ keyId: 7, failed: { audio: 0, video: 3 }, okAt: { audio: now, video: 0 } }), 4, now), 'alert');
  // Video refused lately, none opened for over 2 s: red.
  p.failedBefore = { audio: 0, video: 3 };
  assert.equal(lockOf(p, counters({ keyId: 7, failed: { audio: 0, video: 5 }, okAt: { audio: now, video: now - 2001 } }), 4, now), 'alert');
  // Refused lately but video opened a moment ago (a key change): not red.
  assert.equal(lockOf(p, counters({ keyId: 7, failed: { audio: 0, video: 5 }, okAt: { audio: now, video: now - 500 } }), 4, now), 'secure');
  // No new refusal since the last update: not red for old ones.
  p.failedBefore = { audio: 0, video: 5 };
  assert.equal(lockOf(p, counters({ keyId: 7, failed: { audio: 0, video: 5 }, okAt: { audio: now, video: now - 9000 } }), 4, now), 'secure');
  p.unsealed = ['video'];
  assert.equal(lockOf(p, counters({ keyId: 7 }), 4, now), 'alert');
});
