// The rules of a file transfer as pure functions (web/js/features/files/
// transfer.js): which side a message is for, when a sender starts, how
// acks and nacks move the window and when they are ignored, when the
// window is full, when the receiver acknowledges, the length each chunk
// must have, progress; and the control-message codec (files/wire.js).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ACK_EVERY, ackDue, chunkLength, directionOf, doneBytes, isEnded, makeTransfer, progressOf, rewind, startsSending,
  takesAck, takesNack, transferKey, windowFull,
} from '../../web/js/features/files/transfer.js';
import { CHUNK, decodeControl, encodeChunk, encodeControl, isChunk } from '../../web/js/features/files/wire.js';

const out = (size = 10 * CHUNK + 5) => makeTransfer('out', 'TAB', 'id1', 'g1', 'a.bin', size, '', CHUNK);

test('a new transfer: offered, its chunk count, its key', () => {
  const t = out();
  assert.equal(t.state, 'offered');
  assert.equal(t.chunks, 11);
  assert.equal(makeTransfer('in', 'T', 'x', 'x', 'e', 0, '', CHUNK).chunks, 0);
  assert.equal(transferKey('out', 'T', 'x'), 'out:T:x');
  assert.notEqual(transferKey('out', 'T', 'x'), transferKey('in', 'T', 'x'));
});

test('answers are about what we send; offers, chunks, ends and cancels about what we receive', () => {
  for (const t of ['file-accept', 'file-decline', 'file-ack', 'file-nack', 'file-resume', 'file-done']) assert.equal(directionOf(t), 'out', t);
  for (const t of ['file-offer', 'file-end', 'file-cancel']) assert.equal(directionOf(t), 'in', t);
});

test('a sender starts on accept only while offered; a resume also picks up a sending or paused transfer', () => {
  const t = out();
  for (const [state, accept, resume] of [
    ['offered', true, true], ['sending', false, true], ['paused', false, true], ['asking', false, false],
    ['verifying', false, false], ['done', false, false], ['cancelled', false, false], ['failed', false, false],
  ]) {
    t.state = state;
    assert.equal(startsSending(t, 'file-accept'), accept, `${state} accept`);
    assert.equal(startsSending(t, 'file-resume'), resume, `${state} resume`);
  }
});

test('acks move forward and never past what was sent; nacks only for chunks in flight', () => {
  const t = out();
  t.state = 'sending';
  t.next = 9;
  t.maxSent = 9;
  t.have = 2;
  assert.ok(takesAck(t, 8));
  assert.ok(takesAck(t, 9));
  assert.ok(!takesAck(t, 10), 'beyond what was sent');
  assert.ok(!takesAck(t, 2), 'not forward');
  assert.ok(!takesAck(t, 1), 'backward');
  assert.ok(takesNack(t, 2));
  assert.ok(takesNack(t, 8));
  assert.ok(!takesNack(t, 9), 'not sent yet');
  assert.ok(!takesNack(t, 1), 'already written');
  t.endSent = true;
  rewind(t, 4);
  assert.deepEqual([t.have, t.next, t.endSent], [4, 4, false]);
});

test('the window: a sender waits once `window` bytes are unacknowledged, and goes on when acks come', () => {
  const t = out(100 * CHUNK);
  const window = 12 * CHUNK;
  let sent = 0;
  while (!windowFull(t, window)) { t.next += 1; t.maxSent = t.next; sent += 1; }
  assert.equal(sent, 12);
  assert.ok(windowFull(t, window));
  assert.ok(takesAck(t, 8));
  t.have = 8;
  assert.ok(!windowFull(t, window));
  // Sending on until full again: never more than the window in flight.
  while (!windowFull(t, window)) t.next += 1;
  assert.equal((t.next - t.have) * t.chunk, window);
});

test('the receiver acknowledges every ACK_EVERY chunks written, and at the end', () => {
  assert.equal(ACK_EVERY, 8);
  assert.ok(!ackDue(0, 4, 100));
  assert.ok(ackDue(4, 8, 100));
  assert.ok(!ackDue(8, 12, 100));
  assert.ok(ackDue(12, 20, 100), 'a block that crosses a multiple');
  assert.ok(ackDue(96, 99, 99), 'the last chunk');
  assert.ok(ackDue(0, 64, 100));
});

test('each chunk has its length: the last one the rest, none past the end', () => {
  const t = out(3 * CHUNK + 5);
  assert.equal(chunkLength(t, 0), CHUNK);
  assert.equal(chunkLength(t, 2), CHUNK);
  assert.equal(chunkLength(t, 3), 5);
  assert.equal(chunkLength(t, 4), -1);
  const even = out(2 * CHUNK);
  assert.equal(chunkLength(even, 1), CHUNK);
});

test('progress: written bytes, percent, time left; an empty file is 100% once done', () => {
  const t = out(4 * CHUNK);
  t.state = 'sending';
  t.have = 1;
  t.rate = CHUNK;
  assert.deepEqual(progressOf(t), { done: CHUNK, percent: 25, rate: CHUNK, secondsLeft: 3 });
  t.have = 9;
  assert.equal(doneBytes(t), 4 * CHUNK, 'never more than the size');
  const e = out(0);
  assert.equal(progressOf(e).percent, 0);
  e.state = 'done';
  assert.equal(progressOf(e).percent, 100);
  assert.ok(isEnded(e));
  for (const s of ['offered', 'asking', 'sending', 'receiving', 'paused', 'verifying']) assert.ok(!isEnded({ ...e, state: s }), s);
});

test('control messages round-trip through the codec; chunks are told apart by their first byte', () => {
  const m = { t: 'file-ack', id: 'abc', have: 7 };
  const b = encodeControl(m);
  assert.ok(!isChunk(b));
  assert.deepEqual(decodeControl(b), m);
  assert.equal(decodeControl(new TextEncoder().encode('{"t":"file-ack","id":"abc","have":-1}')), null);
  assert.equal(decodeControl(Uint8Array.of(0xff, 0xfe)), null, 'not UTF-8');
  assert.equal(decodeControl(new TextEncoder().encode('nope')), null);
  assert.ok(isChunk(encodeChunk('abc', 0, new Uint8Array(32), new Uint8Array(3))));
});
