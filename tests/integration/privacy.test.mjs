// What the daemon writes about its users: nothing. A session full of
// traffic (joins with a verifier, relayed payloads, errors, refusals, HTTP
// with a distinctive User-Agent) must leave no address, User-Agent,
// verifier or payload in the log at info level, and none but peer ids at
// debug; no response may set a cookie, and the state directory must hold
// nothing that names a client.

import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { connect, joinPeer, request, roomId, signalText, startDaemon, tryJoin } from './harness.mjs';

const UA = 'PrivacyProbe/9.9 (unique-user-agent-7f3a)';
const AUTH = 'verifier-secret-4b1d9e';
const PAYLOAD = 'payload-marker-c0ffee';

async function session(d) {
  const room = roomId();
  const headers = { 'User-Agent': UA, 'X-Forwarded-For': '203.0.113.77' };
  const a = await joinPeer(d, room, AUTH, { headers });
  const b = await joinPeer(d, room, AUTH, { headers });
  await a.expect('peer-joined');
  a.send({ type: 'signal', to: b.id, data: { sdp: PAYLOAD } });
  assert.equal((await b.expect('signal')).data.sdp, PAYLOAD);
  a.sendText(signalText(b.id, `{"x":"${PAYLOAD}",}`)); // bad-json
  await a.expectError('bad-json');
  const wrong = await tryJoin(d, room, `${AUTH}-wrong`, { headers });
  assert.equal(wrong.error.code, 'forbidden');
  await connect(d, room, { headers, origin: 'http://evil.example' }).catch(() => {});
  for (const path of ['/', '/healthz', '/metrics', '/api/nope', '/r/abc', '/missing.js']) {
    const r = await request(d, { path, headers });
    assert.equal(r.headers['set-cookie'], undefined, `${path} sets a cookie`);
  }
  b.destroy();
  await a.expect('peer-left');
  a.close();
}

function assertClean(text, what) {
  for (const needle of [UA, 'unique-user-agent', AUTH, PAYLOAD, '203.0.113.77', 'evil.example']) {
    assert.ok(!text.includes(needle), `${what} contains ${JSON.stringify(needle)}`);
  }
}

function filesUnder(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...filesUnder(p));
    else out.push(p);
  }
  return out;
}

describe('nothing about users is logged or stored', () => {
  for (const level of ['info', 'debug']) {
    test(`log at ${level}: no address, User-Agent, verifier or payload`, async () => {
      const d = await startDaemon({}, { args: ['--log-level', level] });
      try {
        await session(d);
      } finally {
        await d.stop();
      }
      assertClean(d.stderr, `the ${level} log`);
      // the only address allowed is the listen line the operator asked for
      const lines = d.stderr.split('\n').filter((l) => /127\.0\.0\.1/.test(l));
      assert.ok(lines.every((l) => /listening on/.test(l)), `address in log: ${lines.join('\n')}`);
      if (level === 'info') {
        assert.ok(!/peer [A-Za-z0-9_-]{16}/.test(d.stderr), 'peer ids appear only at debug');
      }
    });
  }

  test('the state directory holds nothing about clients', async () => {
    const d = await startDaemon({});
    const dir = d.stateDir;
    await session(d);
    d.signal('SIGTERM');
    await d.waitExit();
    let files = [];
    try { files = filesUnder(dir); } catch { /* absent is clean */ }
    for (const f of files) assertClean(readFileSync(f, 'latin1'), f);
    for (const f of files) assert.ok(!readFileSync(f, 'latin1').includes('127.0.0.1'), `${f} holds an address`);
    await d.stop();
  });
});
