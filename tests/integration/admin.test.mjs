// The room admin API (protocol.md, "Admin API: room configuration") against
// a real daemon: every route and every refusal (401 for a missing or wrong
// token and when no admin is configured, 400 for bad bodies and room ids,
// 404, 405), the effects on the WebSocket (locked, a per-room max_peers,
// expiry, close, kick, the title in welcome), settings kept across a
// restart, a corrupt rooms.json moved aside and reported, and proof that no
// admin answer carries an address, a User-Agent, a verifier or relayed data.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  connect, joinPeer, request, roomId, signalText, startDaemon, tryJoin, waitFor,
} from './harness.mjs';

const TOKEN = `adm-${randomBytes(16).toString('hex')}`;
const TOKEN_SHA256 = createHash('sha256').update(TOKEN).digest('hex');
const CAP = 6; // rooms.max_peers of these daemons
const CONFIG = { admin: { token_sha256: TOKEN_SHA256 }, rooms: { max_peers: CAP } };
const nowS = () => Math.floor(Date.now() / 1000);

/** One admin request; `body` (string or object) is sent with a Content-Length. */
function api(d, method, path, { token = TOKEN, body, headers = {}, auth } = {}) {
  const h = { ...headers };
  if (auth !== undefined) h.Authorization = auth;
  else if (token !== null) h.Authorization = `Bearer ${token}`;
  let b;
  if (body !== undefined) {
    b = typeof body === 'string' ? body : JSON.stringify(body);
    h['Content-Length'] = Buffer.byteLength(b);
    h['Content-Type'] = 'application/json';
  } else if (method === 'PUT' || method === 'POST') {
    h['Content-Length'] = 0;
  }
  return request(d, { method, path, headers: h, body: b });
}

async function ok(d, method, path, opts) {
  const r = await api(d, method, path, opts);
  assert.equal(r.status, 200, `${method} ${path}: ${r.status} ${r.text}`);
  assert.match(r.headers['content-type'] || '', /^application\/json\b/);
  return r.json();
}

/** A JSON error answer with this status and code. */
async function refused(d, method, path, status, code, opts) {
  const r = await api(d, method, path, opts);
  assert.equal(r.status, status, `${method} ${path} ${JSON.stringify(opts?.body ?? '')}: ${r.status} ${r.text}`);
  const j = r.json();
  assert.equal(j.error, code, `${method} ${path}: ${r.text}`);
  assert.equal(typeof j.message, 'string');
  return j;
}

/** Next message is error `code`, then the socket closes with `close`, nothing in between. */
async function endsWith(c, code, close) {
  await c.expectError(code);
  const info = await c.waitClose();
  assert.equal(info.code, close, `close code after ${code}`);
  assert.deepEqual(c.queue.map((e) => e.msg), [], `nothing after ${code}`);
}

async function relayWorks(a, b) {
  const tag = randomBytes(6).toString('hex');
  a.send({ type: 'signal', to: b.id, data: { tag } });
  const m = await b.expect('signal');
  assert.equal(m.from, a.id);
  assert.deepEqual(m.data, { tag });
}

const NULL_CONF = { max_peers: null, locked: false, expires_at: null, title: null };

// ---------------------------------------------------------------------------

describe('admin API: authorization', () => {
  let d;
  let bare;
  before(async () => {
    d = await startDaemon(CONFIG);
    bare = await startDaemon({}); // no admin configured
  });
  after(async () => { await d.stop(); await bare.stop(); });

  const ROUTES = [
    ['GET', '/api/rooms'],
    ['GET', '/api/rooms/abc'],
    ['PUT', '/api/rooms/abc', { locked: true }],
    ['DELETE', '/api/rooms/abc'],
    ['POST', '/api/rooms/abc/kick', { peer: 'AAAAAAAAAAAAAAAA' }],
    ['GET', '/api/rooms/bad!id'],
    ['PATCH', '/api/rooms/abc', {}],
  ];

  test('no token, a wrong token, or a mangled header: 401 on every route, no detail', async () => {
    const auths = [
      { token: null },
      { token: 'wrong' },
      { token: `${TOKEN}x` },
      { token: TOKEN.slice(0, -1) },
      { auth: `bearer ${TOKEN}` },
      { auth: `Basic ${Buffer.from(`admin:${TOKEN}`).toString('base64')}` },
      { auth: TOKEN },
      { auth: `Bearer  ${TOKEN}` },
      { auth: 'Bearer ' },
      { token: TOKEN_SHA256 }, // the stored hash is not the token
    ];
    for (const [method, path, body] of ROUTES) {
      for (const a of auths) {
        const j = await refused(d, method, path, 401, 'unauthorized', { ...a, body });
        assert.deepEqual(Object.keys(j).sort(), ['error', 'message']);
      }
    }
    // nothing was stored by the refused PUT
    assert.equal((await ok(d, 'GET', '/api/rooms')).length, 0);
  });

  test('with no admin configured, every route answers 401, even to a token', async () => {
    for (const [method, path, body] of ROUTES) {
      for (const a of [{ token: null }, { token: TOKEN }, { token: '' }]) {
        await refused(bare, method, path, 401, 'unauthorized', { ...a, body });
      }
    }
  });
});

describe('admin API: routes and refusals', () => {
  let d;
  before(async () => { d = await startDaemon(CONFIG); });
  after(async () => { await d.stop(); });

  test('GET /api/rooms lists live rooms and configured ones', async () => {
    const before0 = await ok(d, 'GET', '/api/rooms');
    const live = roomId();
    const conf = roomId();
    const a = await joinPeer(d, live);
    const b = await joinPeer(d, live);
    await ok(d, 'PUT', `/api/rooms/${conf}`, { body: { title: 'Configured' } });
    const list = await ok(d, 'GET', '/api/rooms');
    assert.ok(Array.isArray(list));
    const l = list.find((r) => r.id === live);
    const c = list.find((r) => r.id === conf);
    assert.equal(list.length, before0.length + 2);
    assert.equal(l.peers, 2);
    assert.ok(Number.isInteger(l.created_at) && Math.abs(l.created_at - nowS()) <= 5, JSON.stringify(l));
    assert.equal(l.configured, false);
    assert.deepEqual(c, { id: conf, peers: 0, created_at: null, configured: true });
    // a configured room that goes live is listed once
    const e = await joinPeer(d, conf);
    const list2 = await ok(d, 'GET', '/api/rooms');
    assert.equal(list2.filter((r) => r.id === conf).length, 1);
    assert.equal(list2.find((r) => r.id === conf).peers, 1);
    assert.equal(list2.find((r) => r.id === conf).configured, true);
    for (const x of [a, b, e]) x.close();
    await waitFor(async () => !(await ok(d, 'GET', '/api/rooms')).some((r) => r.id === live),
      { what: 'the emptied room to leave the list' });
    await ok(d, 'DELETE', `/api/rooms/${conf}`);
  });

  test('GET /api/rooms/<id>: a live room, a configured one, 404 for neither', async () => {
    const id = roomId();
    await refused(d, 'GET', `/api/rooms/${id}`, 404, 'not-found');
    const a = await joinPeer(d, id);
    const live = await ok(d, 'GET', `/api/rooms/${id}`);
    assert.equal(live.id, id);
    assert.equal(live.peers, 1);
    assert.deepEqual(live.members, [a.id], 'the members, by peer id, to kick by');
    assert.equal(typeof live.created_at, 'number');
    assert.deepEqual(live.config, NULL_CONF);
    a.close();
    await waitFor(async () => (await api(d, 'GET', `/api/rooms/${id}`)).status === 404,
      { what: 'the room to be gone' });
    const other = roomId();
    await ok(d, 'PUT', `/api/rooms/${other}`, { body: { max_peers: 3 } });
    const c = await ok(d, 'GET', `/api/rooms/${other}`);
    assert.deepEqual(c, { id: other, peers: 0, created_at: null, configured: true, members: [],
      config: { ...NULL_CONF, max_peers: 3 } });
    await ok(d, 'DELETE', `/api/rooms/${other}`);
  });

  test('PUT stores every member and answers with the stored config; a PUT replaces', async () => {
    const id = roomId();
    const exp = nowS() + 86400;
    const r = await ok(d, 'PUT', `/api/rooms/${id}`,
      { body: { max_peers: 4, locked: true, expires_at: exp, title: 'Weekly sync' } });
    assert.deepEqual(r, { id, peers: 0, created_at: null, configured: true, members: [],
      config: { max_peers: 4, locked: true, expires_at: exp, title: 'Weekly sync' } });
    assert.deepEqual((await ok(d, 'GET', `/api/rooms/${id}`)).config, r.config);
    // a PUT is the whole config, not a patch; nulls mean unset
    const r2 = await ok(d, 'PUT', `/api/rooms/${id}`, { body: { title: null, max_peers: null, expires_at: null } });
    assert.deepEqual(r2.config, NULL_CONF);
    const r3 = await ok(d, 'PUT', `/api/rooms/${id}`, { body: {} });
    assert.deepEqual(r3.config, NULL_CONF);
    assert.equal(r3.configured, true);
    // bounds that are allowed
    for (const body of [{ max_peers: 1 }, { max_peers: CAP }, { expires_at: 1 }, { expires_at: 253402300799 },
      { title: 'x'.repeat(80) }, { title: '' }, { locked: false }, { title: 'é'.repeat(80) },
      { title: '会议'.repeat(40) }, { title: '🎉'.repeat(80) }]) {
      const x = await ok(d, 'PUT', `/api/rooms/${id}`, { body });
      const [k, v] = Object.entries(body)[0];
      assert.deepEqual(x.config[k], k === 'title' && v === '' ? null : v, JSON.stringify(body));
    }
    await ok(d, 'DELETE', `/api/rooms/${id}`);
  });

  test('PUT refuses a bad body with 400 naming the member, and stores nothing', async () => {
    const id = roomId();
    const cases = [
      [undefined, /JSON/],
      ['', /JSON/],
      ['not json', /not JSON/],
      ['{"locked":true', /not JSON/],
      ['[]', /object/],
      ['"locked"', /object|JSON/],
      ['null', /object|JSON/],
      ['42', /object|JSON/],
      ['{"locked":true,"locked":false}', /not JSON|duplicate/i],
      ['{"a":{"b":{"c":{"d":{"e":1}}}}}', /flat|object/],
      [{ colour: 'red' }, /colour: unknown member/],
      [{ max_peers: 4, extra: 1 }, /extra: unknown member/],
      [{ max_peers: 0 }, /max_peers/],
      [{ max_peers: -1 }, /max_peers/],
      [{ max_peers: CAP + 1 }, new RegExp(`max_peers: must be an integer from 1 to ${CAP}`)],
      [{ max_peers: 1000 }, /max_peers/],
      [{ max_peers: 2.5 }, /max_peers/],
      [{ max_peers: '3' }, /max_peers/],
      [{ max_peers: true }, /max_peers/],
      [{ locked: 1 }, /locked/],
      [{ locked: 'yes' }, /locked/],
      [{ locked: null }, /locked/],
      [{ expires_at: 0 }, /expires_at/],
      [{ expires_at: -5 }, /expires_at/],
      [{ expires_at: 1.5 }, /expires_at/],
      [{ expires_at: '2030-01-01' }, /expires_at/],
      [{ expires_at: 253402300800 }, /expires_at/],
      [{ title: 'x'.repeat(81) }, /title/],
      [{ title: 'é'.repeat(81) }, /title/],
      [{ title: 'line\nbreak' }, /title/],
      [{ title: 'tab\there' }, /title/],
      [{ title: 'nul\u0000' }, /title|JSON/],
      [{ title: 42 }, /title/],
      [{ title: ['a'] }, /title/],
    ];
    for (const [body, re] of cases) {
      const j = await refused(d, 'PUT', `/api/rooms/${id}`, 400, 'bad-request', { body });
      assert.match(j.message, re, `${JSON.stringify(body)} -> ${j.message}`);
    }
    await refused(d, 'GET', `/api/rooms/${id}`, 404, 'not-found');
    // a too-large body is refused before it is read
    await refused(d, 'PUT', `/api/rooms/${id}`, 413, 'too-large', { body: JSON.stringify({ title: 'x'.repeat(5000) }) });
  });

  test('a bad room id is 400 bad-room on every route', async () => {
    // (lws decodes %XX in HTTP paths before we see them: caf%C3%A9 is café)
    const bad = ['bad!id', 'a.b', 'x'.repeat(65), 'caf%C3%A9', 'a%20b', ''];
    for (const id of bad) {
      for (const [method, suffix, body] of [['GET', ''], ['PUT', '', { locked: true }], ['DELETE', ''],
        ['POST', '/kick', { peer: 'AAAAAAAAAAAAAAAA' }]]) {
        if (!id && suffix) continue; // lws folds "//kick" into "/kick": the room "kick"
        await refused(d, method, `/api/rooms/${id}${suffix}`, 400, 'bad-room', { body });
      }
    }
    // 64 characters is still an id
    await refused(d, 'GET', `/api/rooms/${'x'.repeat(64)}`, 404, 'not-found');
  });

  test('wrong methods are 405; unknown sub-routes 404', async () => {
    const id = roomId();
    for (const [method, path] of [
      ['POST', '/api/rooms'], ['PUT', '/api/rooms'], ['DELETE', '/api/rooms'], ['PATCH', '/api/rooms'],
      ['POST', `/api/rooms/${id}`], ['PATCH', `/api/rooms/${id}`],
      ['GET', `/api/rooms/${id}/kick`], ['PUT', `/api/rooms/${id}/kick`], ['DELETE', `/api/rooms/${id}/kick`],
    ]) {
      await refused(d, method, path, 405, 'method-not-allowed', { body: ['GET', 'DELETE'].includes(method) ? undefined : '{}' });
    }
    await refused(d, 'GET', `/api/rooms/${id}/peers`, 404, 'not-found');
    await refused(d, 'POST', `/api/rooms/${id}/kick/x`, 404, 'not-found', { body: '{}' });
  });

  test('DELETE of a room neither live nor configured is 404', async () => {
    await refused(d, 'DELETE', `/api/rooms/${roomId()}`, 404, 'not-found');
  });

  test('kick refuses bad bodies (400) and unknown peers (404)', async () => {
    const id = roomId();
    const a = await joinPeer(d, id);
    const b = await joinPeer(d, id);
    const elsewhere = await joinPeer(d, roomId());
    for (const body of [undefined, '', 'x', '[]', '{}', { peer: 5 }, { peer: a.id, why: 'spam' }, { who: a.id }]) {
      await refused(d, 'POST', `/api/rooms/${id}/kick`, 400, 'bad-request', { body });
    }
    for (const peer of ['AAAAAAAAAAAAAAAA', 'short', `${a.id}x`, elsewhere.id, '']) {
      await refused(d, 'POST', `/api/rooms/${id}/kick`, 404, 'unknown-peer', { body: { peer } });
    }
    // a peer of this room, asked through another room's route
    await refused(d, 'POST', `/api/rooms/${roomId()}/kick`, 404, 'unknown-peer', { body: { peer: a.id } });
    await a.sync();
    await b.sync();
    await elsewhere.sync(); // nobody was disturbed
    for (const c of [a, b, elsewhere]) c.close();
  });
});

describe('admin API: effects on the WebSocket', () => {
  let d;
  let clockDir;
  let clockFile;
  before(async () => {
    clockDir = mkdtempSync(join(tmpdir(), 'xroomd-adm-clock-'));
    clockFile = join(clockDir, 'clock');
    writeFileSync(clockFile, '0\n');
    d = await startDaemon(CONFIG, { env: { XROOMD_TEST_CLOCK_FILE: clockFile } });
  });
  after(async () => { await d.stop(); rmSync(clockDir, { recursive: true, force: true }); });

  test('locked: new joins get room-locked and 1008; present peers stay and relay', async () => {
    const id = roomId();
    const a = await joinPeer(d, id, 'sesame');
    const b = await joinPeer(d, id, 'sesame');
    await a.expect('peer-joined');
    await ok(d, 'PUT', `/api/rooms/${id}`, { body: { locked: true } });
    const t = await tryJoin(d, id, 'sesame');
    assert.equal(t.error?.code, 'room-locked', JSON.stringify(t.error));
    assert.equal(t.close?.code, 1008);
    // the verifier is checked first: a wrong key learns nothing about the lock
    const w = await tryJoin(d, id, 'wrong');
    assert.equal(w.error?.code, 'forbidden');
    await relayWorks(a, b);
    await relayWorks(b, a);
    assert.deepEqual(await a.sync(), [], 'no peer-joined or peer-left from refused joins');
    assert.equal((await ok(d, 'GET', `/api/rooms/${id}`)).peers, 2);
    // a locked room that empties stays locked: nobody can open it again
    a.close();
    b.close();
    await waitFor(async () => (await ok(d, 'GET', `/api/rooms/${id}`)).peers === 0, { what: 'room empty' });
    const t2 = await tryJoin(d, id);
    assert.equal(t2.error?.code, 'room-locked');
    // unlocked, it opens again
    await ok(d, 'PUT', `/api/rooms/${id}`, { body: { locked: false } });
    const c = await joinPeer(d, id);
    c.close();
    await ok(d, 'DELETE', `/api/rooms/${id}`);
  });

  test('a per-room max_peers below the global one: welcome says so, the next join is room-full', async () => {
    const id = roomId();
    await ok(d, 'PUT', `/api/rooms/${id}`, { body: { max_peers: 2 } });
    const a = await joinPeer(d, id);
    assert.equal(a.welcome.maxPeers, 2);
    const b = await joinPeer(d, id);
    await a.expect('peer-joined');
    const t = await tryJoin(d, id);
    assert.equal(t.error?.code, 'room-full');
    assert.equal(t.close?.code, 1008);
    await relayWorks(a, b);
    // another room still has the global capacity
    const other = await joinPeer(d, roomId());
    assert.equal(other.welcome.maxPeers, CAP);
    // lowering it under the peers present keeps them, refuses newcomers
    await ok(d, 'PUT', `/api/rooms/${id}`, { body: { max_peers: 1 } });
    assert.equal((await tryJoin(d, id)).error?.code, 'room-full');
    await relayWorks(b, a);
    for (const c of [a, b, other]) c.close();
    await ok(d, 'DELETE', `/api/rooms/${id}`);
  });

  test('welcome carries the title when there is one, and only then', async () => {
    const id = roomId();
    const plain = await joinPeer(d, id);
    assert.equal('title' in plain.welcome, false);
    const title = 'Sprint review — ünïcödé "quoted" \\ <b>';
    await ok(d, 'PUT', `/api/rooms/${id}`, { body: { title } });
    const t = await joinPeer(d, id);
    assert.equal(t.welcome.title, title);
    assert.equal(t.welcome.peers.length, 1);
    plain.close();
    t.close();
    await ok(d, 'DELETE', `/api/rooms/${id}`);
  });

  test('expires_at in the past closes the live room (room-expired, 1008) and refuses joins', async () => {
    const id = roomId();
    const peers = [await joinPeer(d, id), await joinPeer(d, id), await joinPeer(d, id)];
    for (const p of peers) await p.sync(); // drain the peer-joined messages
    const t0 = Date.now();
    await ok(d, 'PUT', `/api/rooms/${id}`, { body: { expires_at: nowS() - 10 } });
    await Promise.all(peers.map((p) => endsWith(p, 'room-expired', 1008)));
    assert.ok(Date.now() - t0 < 2000, `closed after ${Date.now() - t0} ms`);
    const t = await tryJoin(d, id);
    assert.equal(t.error?.code, 'room-expired');
    assert.equal(t.close?.code, 1008);
    // the settings stay (the operator may extend them)
    const g = await ok(d, 'GET', `/api/rooms/${id}`);
    assert.equal(g.peers, 0);
    assert.equal(g.configured, true);
    await ok(d, 'DELETE', `/api/rooms/${id}`);
  });

  test('a future expires_at is enforced when the clock passes it, live room included', async () => {
    const id = roomId();
    const at = nowS() + 3600;
    await ok(d, 'PUT', `/api/rooms/${id}`, { body: { expires_at: at } });
    const a = await joinPeer(d, id);
    const b = await joinPeer(d, id);
    await a.expect('peer-joined');
    await relayWorks(a, b);
    writeFileSync(clockFile, '3700\n'); // the daemon's clock is now past `at`
    try {
      await Promise.all([a, b].map((p) => endsWith(p, 'room-expired', 1008)));
      assert.equal((await tryJoin(d, id)).error?.code, 'room-expired');
    } finally {
      writeFileSync(clockFile, '0\n');
    }
    await ok(d, 'DELETE', `/api/rooms/${id}`);
  });

  test('DELETE closes a live room: room-closed and 1000 to everyone, no peer-left; settings forgotten', async () => {
    const id = roomId();
    await ok(d, 'PUT', `/api/rooms/${id}`, { body: { title: 'Doomed', max_peers: 5 } });
    const peers = [];
    for (let i = 0; i < 4; i++) peers.push(await joinPeer(d, id));
    for (const p of peers) await p.sync();
    const bystander = await joinPeer(d, roomId());
    const r = await ok(d, 'DELETE', `/api/rooms/${id}`);
    assert.deepEqual(r, { id, closed_peers: 4 });
    await Promise.all(peers.map((p) => endsWith(p, 'room-closed', 1000)));
    await refused(d, 'GET', `/api/rooms/${id}`, 404, 'not-found');
    assert.ok(!(await ok(d, 'GET', '/api/rooms')).some((x) => x.id === id));
    // forgotten: a new join gets no title and the global capacity
    const n = await joinPeer(d, id);
    assert.equal('title' in n.welcome, false);
    assert.equal(n.welcome.maxPeers, CAP);
    assert.deepEqual(n.welcome.peers, []);
    assert.deepEqual(await bystander.sync(), []);
    n.close();
    bystander.close();
    // a configured room that is not live: 200 with nobody closed
    const idle = roomId();
    await ok(d, 'PUT', `/api/rooms/${idle}`, { body: { locked: true } });
    assert.deepEqual(await ok(d, 'DELETE', `/api/rooms/${idle}`), { id: idle, closed_peers: 0 });
    await refused(d, 'DELETE', `/api/rooms/${idle}`, 404, 'not-found');
  });

  test('kick: that peer gets kicked and 1000, the others peer-left, and they carry on', async () => {
    const id = roomId();
    const [a, b, c] = [await joinPeer(d, id), await joinPeer(d, id), await joinPeer(d, id)];
    for (const p of [a, b, c]) await p.sync();
    assert.deepEqual((await ok(d, 'GET', `/api/rooms/${id}`)).members, [a.id, b.id, c.id], 'in join order');
    const r = await ok(d, 'POST', `/api/rooms/${id}/kick`, { body: { peer: b.id } });
    assert.deepEqual(r, { id, kicked: b.id });
    await endsWith(b, 'kicked', 1000);
    for (const p of [a, c]) {
      const m = await p.expect('peer-left');
      assert.equal(m.id, b.id);
    }
    await relayWorks(a, c);
    assert.deepEqual((await ok(d, 'GET', `/api/rooms/${id}`)).members, [a.id, c.id]);
    // the id is spent: a second kick finds nobody
    await refused(d, 'POST', `/api/rooms/${id}/kick`, 404, 'unknown-peer', { body: { peer: b.id } });
    // a kick is not a ban (lock the room for that): a new join gets a new id
    const back = await joinPeer(d, id);
    assert.notEqual(back.id, b.id);
    for (const p of [a, c, back]) p.close();
  });
});

// ---------------------------------------------------------------------------

/** BLAKE2b-256 hex, as store.c's header wants (coreutils' b2sum). */
function b2(text) {
  const r = spawnSync('b2sum', ['-l', '256'], { input: text });
  assert.equal(r.status, 0, 'b2sum');
  return r.stdout.toString().split(' ')[0];
}
const storeFile = (body) => `XROOM1 ${b2(body)} ${Buffer.byteLength(body)}\n${body}`;

describe('admin API: persistence', () => {
  test('settings survive a restart on the same state directory, and are enforced', async () => {
    const root = mkdtempSync(join(tmpdir(), 'xroomd-adm-'));
    const state = join(root, 'state');
    const ids = [roomId(), roomId(), roomId()];
    const exp = nowS() + 7 * 86400;
    try {
      let d = await startDaemon(CONFIG, { args: ['--state-dir', state] });
      await ok(d, 'PUT', `/api/rooms/${ids[0]}`, { body: { max_peers: 2, title: 'Kept' } });
      await ok(d, 'PUT', `/api/rooms/${ids[1]}`, { body: { locked: true, expires_at: exp } });
      await ok(d, 'PUT', `/api/rooms/${ids[2]}`, { body: { title: 'Forgotten' } });
      await ok(d, 'DELETE', `/api/rooms/${ids[2]}`);
      d.signal('SIGTERM');
      assert.deepEqual(await d.waitExit(), { code: 0, signal: null });
      await d.stop();
      // the file holds ids and settings, nothing else
      const raw = readFileSync(join(state, 'rooms.json'), 'utf8');
      const body = JSON.parse(raw.slice(raw.indexOf('\n') + 1));
      assert.deepEqual(Object.keys(body.rooms).sort(), [ids[0], ids[1]].sort());

      d = await startDaemon(CONFIG, { args: ['--state-dir', state] });
      try {
        assert.deepEqual((await ok(d, 'GET', `/api/rooms/${ids[0]}`)).config,
          { ...NULL_CONF, max_peers: 2, title: 'Kept' });
        assert.deepEqual((await ok(d, 'GET', `/api/rooms/${ids[1]}`)).config,
          { ...NULL_CONF, locked: true, expires_at: exp });
        await refused(d, 'GET', `/api/rooms/${ids[2]}`, 404, 'not-found');
        const list = await ok(d, 'GET', '/api/rooms');
        assert.deepEqual(list.map((r) => r.id).sort(), [ids[0], ids[1]].sort());
        const a = await joinPeer(d, ids[0]);
        assert.equal(a.welcome.title, 'Kept');
        assert.equal(a.welcome.maxPeers, 2);
        assert.equal((await tryJoin(d, ids[1])).error?.code, 'room-locked');
        a.close();
        assert.doesNotMatch(d.stderr, /refused/);
      } finally {
        await d.stop();
      }
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  test('a corrupt rooms.json is moved aside (never over an earlier copy), reported, and not loaded', async () => {
    const root = mkdtempSync(join(tmpdir(), 'xroomd-adm-'));
    const state = join(root, 'state');
    mkdirSync(state, { recursive: true, mode: 0o700 });
    const id = roomId();
    const good = JSON.stringify({ version: 1, rooms: { [id]: { max_peers: 2, locked: true, expires_at: null, title: 'T' } } });
    const bad = [
      ['garbage, no header', 'this is not a rooms file\n', /no header line/],
      ['checksum mismatch', storeFile(good).replace('"T"', '"U"'), /checksum mismatch/],
      ['truncated', storeFile(good).slice(0, -3), /length does not match/],
      ['valid file, not a rooms file', storeFile('{"version":2,"rooms":{}}'), /not a rooms file/],
      ['one bad entry spoils the file', storeFile(JSON.stringify({ version: 1, rooms: {
        [id]: { max_peers: 2 }, [roomId()]: { locked: 'yes' } } })), /locked/],
      ['a bad room id', storeFile(JSON.stringify({ version: 1, rooms: { 'bad!id': {} } })), /invalid room entry/],
    ];
    try {
      for (const [what, text, why] of bad) {
        writeFileSync(join(state, 'rooms.json'), text, { mode: 0o600 });
        const d = await startDaemon(CONFIG, { args: ['--state-dir', state] });
        try {
          await waitFor(() => /rooms\.json refused/.test(d.stderr), { what: `report of ${what}` });
          const line = d.stderr.split('\n').find((l) => /rooms\.json refused/.test(l));
          assert.match(line, why, `${what}: ${line}`);
          assert.match(line, /kept as \S+rooms\.json\.corrupt-\d+/, line);
          assert.deepEqual(await ok(d, 'GET', '/api/rooms'), [], `${what}: nothing loaded`);
          const moved = /kept as (\S+rooms\.json\.corrupt-[\d-]+)/.exec(line)[1];
          assert.equal(readFileSync(moved, 'utf8'), text, `${what}: kept byte for byte`);
        } finally {
          await d.stop();
        }
      }
      const kept = readdirSync(state).filter((n) => n.startsWith('rooms.json.corrupt-'));
      assert.equal(kept.length, bad.length, `every bad copy kept: ${kept}`);
      assert.ok(!readdirSync(state).includes('rooms.json'));

      // a good file loads; a stored max_peers above a since-lowered cap is clamped
      writeFileSync(join(state, 'rooms.json'), storeFile(JSON.stringify({ version: 1, rooms: {
        [id]: { max_peers: 50, locked: false, expires_at: null, title: 'Clamped' } } })));
      const d = await startDaemon(CONFIG, { args: ['--state-dir', state] });
      try {
        assert.deepEqual((await ok(d, 'GET', `/api/rooms/${id}`)).config,
          { ...NULL_CONF, max_peers: CAP, title: 'Clamped' });
        assert.doesNotMatch(d.stderr, /refused/);
      } finally {
        await d.stop();
      }
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

// ---------------------------------------------------------------------------

describe('admin API: what operators never see', () => {
  test('no admin answer carries an address, a User-Agent, a verifier or relayed data', async () => {
    const d = await startDaemon(CONFIG);
    try {
      const mark = randomBytes(6).toString('hex');
      const AUTH = `auth-${mark}-Secret`;
      const UA = `MarkedAgent/${mark} (Admin-Probe)`;
      const PAYLOAD = `payload-${mark}-relayed`;
      const ADDR = '127.0.0.77';
      const id = roomId();
      const opts = { headers: { 'User-Agent': UA }, localAddress: ADDR };
      const conn = async () => {
        const c = await connect(d, id, opts);
        await c.join(AUTH);
        return c;
      };
      const a = await conn();
      const b = await conn();
      await a.expect('peer-joined');
      a.sendText(signalText(b.id, JSON.stringify({ sdp: PAYLOAD, n: 1 })));
      assert.equal((await b.expect('signal')).data.sdp, PAYLOAD);
      b.sendText(signalText(a.id, JSON.stringify(PAYLOAD)));
      await a.expect('signal');
      const c = await conn();
      await a.expect('peer-joined');
      await b.expect('peer-joined');

      // every admin answer, success and failure
      const answers = [];
      const call = async (method, path, body) => {
        const r = await api(d, method, path, { body, headers: { 'User-Agent': UA } });
        answers.push({ what: `${method} ${path} (${r.status})`, r });
        return r;
      };
      await call('GET', '/api/rooms');
      await call('GET', `/api/rooms/${id}`);
      await call('PUT', `/api/rooms/${id}`, { title: 'Probe', max_peers: 5 });
      await call('GET', '/api/rooms');
      await call('GET', `/api/rooms/${id}`);
      await call('PUT', `/api/rooms/${id}`, { title: 7 });
      await call('POST', `/api/rooms/${id}/kick`, { peer: 'AAAAAAAAAAAAAAAA' });
      await call('POST', `/api/rooms/${id}/kick`, { peer: c.id });
      await call('GET', '/api/experiments');
      await call('GET', '/healthz');
      await call('GET', '/metrics');
      await call('DELETE', `/api/rooms/${id}`);
      await call('GET', '/api/rooms');

      const peerIds = new Set([a.id, b.id, c.id]);
      const ROOM_KEYS = ['configured', 'created_at', 'id', 'peers', 'members'];
      for (const { what, r } of answers) {
        const text = `${r.rawHeaders.join('\n')}\n${r.text}`;
        for (const [name, secret] of [['address', ADDR], ['User-Agent', UA], ['UA mark', 'MarkedAgent'],
          ['auth', AUTH], ['auth mark', `auth-${mark}`], ['relayed data', `payload-${mark}-relayed`]]) {
          assert.ok(!text.includes(secret), `${what} carries the ${name}: ${text}`);
        }
        assert.doesNotMatch(r.text, /[0-9a-f]{32,}/i, `${what}: a hash-like value`);
        if (!r.headers['content-type']?.startsWith('application/json')) continue;
        const j = r.json();
        // shapes: room objects carry these keys and no others
        for (const room of Array.isArray(j) ? j : j.id ? [j] : []) {
          const keys = Object.keys(room).filter((k) => k !== 'config' && k !== 'closed_peers' && k !== 'kicked');
          assert.ok(keys.every((k) => ROOM_KEYS.includes(k)), `${what}: keys ${keys}`);
          if (room.config) assert.deepEqual(Object.keys(room.config).sort(), Object.keys(NULL_CONF).sort());
          if (room.kicked) assert.ok(peerIds.has(room.kicked));
          for (const m of room.members ?? []) assert.ok(peerIds.has(m), `${what}: a member that is not one`);
        }
      }
      const list = answers[0].r.json();
      assert.deepEqual(list, [{ id, peers: 3, created_at: list[0].created_at, configured: false }]);
      // peer ids (random, per connection, known to the room) are listed
      // only by one room's answer, to kick by, and by the kick's own
      for (const { what, r } of answers) {
        if (/kick \(200\)|^(GET|PUT) \/api\/rooms\/[^/]+ \(200\)/.test(what)) continue;
        for (const p of peerIds) assert.ok(!r.text.includes(p), `${what} lists a peer id`);
      }
      // and the log says nothing of it either
      for (const s of [ADDR, UA, AUTH, PAYLOAD]) assert.ok(!d.stderr.includes(s), `log carries ${s}`);
      for (const p of [a, b, c]) p.destroy();
    } finally {
      await d.stop();
    }
  });
});
