// Every JSONTestSuite parsing case (tests/data/json-test-suite, MIT) sent
// through the real daemon as the `data` of a signal. The expectation is
// computed from the *wrapped* message, since wrapping can change whether a
// fragment is valid: a strict parse (JSON.parse), plus what JSON.parse lets
// through but the contract refuses (duplicate keys, numbers that neither an
// int64 nor a double can hold, nesting past 64 levels), plus UTF-8 validity
// (invalid text closes the socket with 1007).
//   y_ cases must be relayed to the peer, value-equal to the original,
//     except where the contract refuses valid JSON (duplicate keys, and a
//     NUL in an object key, which jansson cannot represent);
//   n_ cases must be refused (bad-json, or 1007) and never reach the peer;
//   i_ cases may go either way, but the daemon must stay consistent.

import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { REPO_ROOT, joinPeer, roomId, startDaemon } from './harness.mjs';

const SUITE = process.env.JSON_TEST_SUITE ||
  join(REPO_ROOT, 'tests', 'data', 'json-test-suite', 'test_parsing');
const MAX_DEPTH = 64;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

function utf8Valid(buf) {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(buf);
    return true;
  } catch {
    return false;
  }
}

/**
 * For text that JSON.parse accepted: does it hold a duplicate key, a number
 * out of range, or nesting deeper than MAX_DEPTH?
 * @param {string} s
 */
function contractRejects(s) {
  const stack = []; // per open container: {obj: bool, keys: Set, expectKey: bool}
  let depth = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    const top = stack[stack.length - 1];
    if (c === '"') {
      let j = i + 1;
      while (s[j] !== '"') j += s[j] === '\\' ? 2 : 1;
      const str = JSON.parse(s.slice(i, j + 1));
      if (top && top.obj && top.expectKey) {
        if (top.keys.has(str)) return 'duplicate key';
        // jansson cannot hold a NUL in an object key (documented limit)
        if (str.includes('\u0000')) return 'NUL in a key';
        top.keys.add(str);
        top.expectKey = false;
      }
      i = j;
    } else if (c === '{' || c === '[') {
      depth += 1;
      if (depth > MAX_DEPTH) return 'too deep';
      stack.push({ obj: c === '{', keys: new Set(), expectKey: c === '{' });
    } else if (c === '}' || c === ']') {
      depth -= 1;
      stack.pop();
    } else if (c === ',') {
      if (top && top.obj) top.expectKey = true;
    } else if (c === '-' || (c >= '0' && c <= '9')) {
      const m = /^-?\d+(\.\d+)?([eE][+-]?\d+)?/.exec(s.slice(i));
      const tok = m[0];
      if (!m[1] && !m[2]) {
        const v = BigInt(tok);
        if (v < INT64_MIN || v > INT64_MAX) return 'integer out of range';
      } else if (!Number.isFinite(Number(tok))) {
        return 'real out of range';
      }
      i += tok.length - 1;
    }
  }
  return null;
}

/** @param {Buffer} wrapped */
function expectation(wrapped) {
  if (!utf8Valid(wrapped)) return { kind: 'utf8' };
  const text = wrapped.toString('utf8');
  let value;
  try {
    value = JSON.parse(text);
  } catch {
    return { kind: 'reject', why: 'not JSON' };
  }
  const why = contractRejects(text);
  if (why) return { kind: 'reject', why };
  return { kind: 'relay', data: value.data };
}

const files = readdirSync(SUITE).filter((f) => f.endsWith('.json')).sort();

describe('JSONTestSuite through the daemon as signal data', () => {
  let d;
  let room;
  let a;
  let b;
  const outcomes = { relayed: 0, rejected: 0, closed1007: 0 };

  before(async () => {
    d = await startDaemon({
      limits: { messages_per_second: 10000, message_burst: 100000, max_message_bytes: 1048576 },
    });
    room = roomId();
    a = await joinPeer(d, room);
    b = await joinPeer(d, room);
    await a.expect('peer-joined');
  });

  after(async () => {
    a?.close();
    b?.close();
    await d?.stop();
  });

  test(`the suite has its cases (${files.length})`, () => {
    assert.ok(files.length >= 300, `only ${files.length} files in ${SUITE}`);
  });

  for (const f of files) {
    const kind = f[0];
    test(f, async () => {
      const bytes = readFileSync(join(SUITE, f));
      const wrapped = Buffer.concat([
        Buffer.from(`{"type":"signal","to":"${b.id}","data":`), bytes, Buffer.from('}'),
      ]);
      const exp = expectation(wrapped);
      a.sendText(wrapped);

      if (exp.kind === 'utf8') {
        const close = await a.waitClose(3000);
        assert.equal(close.code, 1007, `${f}: invalid UTF-8 closes 1007`);
        outcomes.closed1007 += 1;
        assert.deepEqual((await b.until('peer-left')).skipped, [], `${f} reached the peer`);
        a = await joinPeer(d, room);
        await b.expect('peer-joined');
        return;
      }
      // Everything A gets until its own sync pong: at most one bad-json.
      const before = await a.sync();
      const gotB = await b.sync();
      const relayed = gotB.filter((m) => m.type === 'signal');
      const errors = before.filter((m) => m.type === 'error');
      assert.equal(relayed.length + errors.length, 1, `${f}: exactly one outcome, got ${JSON.stringify([before, gotB])}`);
      if (errors.length) {
        assert.equal(errors[0].code, 'bad-json', `${f}: ${JSON.stringify(errors[0])}`);
        outcomes.rejected += 1;
      } else {
        assert.equal(relayed[0].from, a.id);
        outcomes.relayed += 1;
      }
      if (kind === 'y') {
        assert.notEqual(exp.why, 'not JSON', `${f}: a y_ case that wraps into invalid JSON`);
        // valid JSON is relayed unless the contract refuses it (duplicate keys)
        if (exp.kind === 'relay') assert.deepEqual(relayed[0]?.data, exp.data, `${f}: relayed value differs`);
        else assert.equal(relayed.length, 0, `${f}: ${exp.why} must be refused`);
      } else if (kind === 'n') {
        assert.equal(relayed.length, 0, `${f}: invalid JSON reached the peer`);
      } else if (exp.kind === 'relay' && relayed.length) {
        assert.deepEqual(relayed[0].data, exp.data, `${f}: relayed value differs`);
      }
      if (kind !== 'i') {
        assert.equal(exp.kind === 'relay', relayed.length === 1,
          `${f}: expected ${exp.kind}${exp.why ? ` (${exp.why})` : ''}`);
      }
    });
  }

  test('the daemon is still healthy and saw every outcome kind', async () => {
    const r = await fetch(`http://${d.host}/healthz`);
    assert.equal(r.status, 200);
    assert.deepEqual((await r.json()).peers, 2);
    assert.ok(outcomes.relayed > 90 && outcomes.rejected > 150 && outcomes.closed1007 > 0,
      JSON.stringify(outcomes));
  });
});
