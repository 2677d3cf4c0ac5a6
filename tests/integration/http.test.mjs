// The HTTP side of protocol.md: /healthz and /metrics moving with state,
// JSON errors (404, 405, bad-room 400, forbidden-origin 403), security
// headers on every response, the static web client, and path traversal.

import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  WEB_ROOT, connect, healthz, joinPeer, metrics, request, roomId, signalText, startDaemon,
  upgradeRequest, waitFor,
} from './harness.mjs';

let d;
before(async () => { d = await startDaemon({}); });
after(async () => { await d?.stop(); });

function assertJsonError(r, status, code) {
  assert.equal(r.status, status, `status for ${code}: ${r.status} ${r.text}`);
  assert.match(r.headers['content-type'] || '', /^application\/json\b/);
  const body = JSON.parse(r.text);
  assert.equal(body.error, code);
  assert.equal(typeof body.message, 'string');
}

function assertSecurityHeaders(r, what) {
  assert.equal(r.headers['referrer-policy'], 'no-referrer', `${what}: Referrer-Policy`);
  assert.equal(r.headers['x-content-type-options'], 'nosniff', `${what}: X-Content-Type-Options`);
  assert.equal(r.headers['set-cookie'], undefined, `${what}: no Set-Cookie`);
}

/** CSP: default-src and frame-ancestors 'none', no wildcard, no bare network scheme. */
function assertCsp(r, what) {
  const csp = r.headers['content-security-policy'];
  assert.ok(csp, `${what}: Content-Security-Policy present`);
  const directives = new Map();
  for (const part of csp.split(';')) {
    const [name, ...values] = part.trim().split(/\s+/);
    if (name) directives.set(name.toLowerCase(), values);
  }
  assert.ok(directives.has('default-src'), `${what}: default-src in ${csp}`);
  assert.deepEqual(directives.get('frame-ancestors'), ["'none'"], `${what}: frame-ancestors 'none' in ${csp}`);
  for (const [name, values] of directives) {
    for (const v of values) {
      assert.ok(!v.includes('*'), `${what}: wildcard ${v} in ${name}`);
      // blob:, data: and mediastream: name no origin; a bare network scheme allows every host
      if (/^[a-z][a-z0-9+.-]*:$/i.test(v)) {
        assert.ok(['blob:', 'data:', 'mediastream:'].includes(v.toLowerCase()), `${what}: bare scheme ${v} in ${name}: ${csp}`);
      }
      if (/^[a-z][a-z0-9+.-]*:\/\//i.test(v)) assert.fail(`${what}: foreign origin ${v} in ${name}: ${csp}`);
    }
  }
}

describe('/healthz', () => {
  test('answers 200 JSON with status, rooms, peers and uptime_s', async () => {
    const r = await request(d, { path: '/healthz' });
    assert.equal(r.status, 200);
    assert.match(r.headers['content-type'] || '', /^application\/json\b/);
    const h = r.json();
    assert.equal(h.status, 'ok');
    for (const k of ['rooms', 'peers', 'uptime_s']) assert.ok(Number.isInteger(h[k]) && h[k] >= 0, `${k}: ${h[k]}`);
  });

  test('rooms and peers move with joins and leaves; waiting connections are not peers', async () => {
    const base = await healthz(d);
    const r1 = roomId();
    const a = await joinPeer(d, r1);
    const b = await joinPeer(d, r1);
    const c = await joinPeer(d, roomId());
    const w = await connect(d, roomId());
    let h = await healthz(d);
    assert.equal(h.rooms - base.rooms, 2);
    assert.equal(h.peers - base.peers, 3);
    b.send({ type: 'leave' });
    await a.until('peer-left');
    h = await healthz(d);
    assert.equal(h.rooms - base.rooms, 2);
    assert.equal(h.peers - base.peers, 2);
    a.ws._socket.destroy();
    c.close();
    w.close();
    await waitFor(async () => {
      const x = await healthz(d);
      return x.rooms === base.rooms && x.peers === base.peers;
    }, { what: 'healthz back to its base' });
  });

  test('uptime_s is whole seconds and grows', async () => {
    const h1 = await healthz(d);
    await new Promise((r) => setTimeout(r, 1100));
    const h2 = await healthz(d);
    assert.ok(h2.uptime_s >= h1.uptime_s + 1, `${h1.uptime_s} -> ${h2.uptime_s}`);
  });

  test('a wrong method is 405 JSON method-not-allowed', async () => {
    for (const method of ['POST', 'PUT', 'DELETE']) {
      const r = await request(d, { method, path: '/healthz', body: method === 'DELETE' ? undefined : '{}', headers: { 'Content-Type': 'application/json' } });
      assertJsonError(r, 405, 'method-not-allowed');
      assertSecurityHeaders(r, `${method} /healthz`);
    }
  });
});

describe('/metrics', () => {
  const names = [
    'xroom_connections', 'xroom_rooms', 'xroom_peers', 'xroom_messages_relayed_total',
    'xroom_bytes_relayed_total', 'xroom_errors_total', 'xroom_uptime_seconds',
  ];

  test('Prometheus text with HELP and TYPE for every required metric', async () => {
    const m = await metrics(d);
    assert.match(m.response.headers['content-type'] || '', /^text\/plain\b/);
    for (const n of names) {
      assert.ok(m.help.has(n), `# HELP ${n}`);
      assert.ok(m.type.has(n), `# TYPE ${n}`);
    }
    for (const n of ['xroom_connections', 'xroom_rooms', 'xroom_peers', 'xroom_uptime_seconds',
      'xroom_messages_relayed_total', 'xroom_bytes_relayed_total']) {
      assert.ok(Number.isFinite(m.get(n)), `${n} has a sample`);
    }
    assert.equal(m.type.get('xroom_messages_relayed_total'), 'counter');
    assert.equal(m.type.get('xroom_bytes_relayed_total'), 'counter');
    assert.equal(m.type.get('xroom_errors_total'), 'counter');
    assert.equal(m.type.get('xroom_connections'), 'gauge');
    assertSecurityHeaders(m.response, '/metrics');
  });

  test('connections, rooms and peers gauges follow state', async () => {
    const m0 = await metrics(d);
    const room = roomId();
    const a = await joinPeer(d, room);
    const b = await joinPeer(d, room);
    const w = await connect(d, roomId());
    const m1 = await metrics(d);
    assert.equal(m1.get('xroom_connections') - m0.get('xroom_connections'), 3, 'open WebSockets (waiting ones too)');
    assert.equal(m1.get('xroom_rooms') - m0.get('xroom_rooms'), 1);
    assert.equal(m1.get('xroom_peers') - m0.get('xroom_peers'), 2);
    a.close(); b.close(); w.close();
    await waitFor(async () => {
      const m = await metrics(d);
      return m.get('xroom_connections') === m0.get('xroom_connections')
        && m.get('xroom_rooms') === m0.get('xroom_rooms') && m.get('xroom_peers') === m0.get('xroom_peers');
    }, { what: 'gauges back to their base' });
  });

  test('messages_relayed_total and bytes_relayed_total (bytes as received) count relayed signals only', async () => {
    const room = roomId();
    const a = await joinPeer(d, room);
    const b = await joinPeer(d, room);
    const m0 = await metrics(d);
    const texts = [
      signalText(b.id, '{"sdp":"v=0"}'),
      signalText(b.id, '  [1, 2,   3]  '),
      signalText(b.id, JSON.stringify('\u00e9\u20ac'.repeat(100))),
    ];
    for (const t of texts) a.sendText(t);
    for (let i = 0; i < texts.length; i++) await b.expect('signal');
    // not relayed: errors, pings
    a.send({ type: 'signal', to: 'nobody', data: 1 });
    await a.expect('peer-joined');
    await a.expectError('unknown-peer');
    await a.sync();
    const m1 = await metrics(d);
    assert.equal(m1.get('xroom_messages_relayed_total') - m0.get('xroom_messages_relayed_total'), texts.length);
    const bytes = texts.reduce((n, t) => n + Buffer.byteLength(t), 0);
    assert.equal(m1.get('xroom_bytes_relayed_total') - m0.get('xroom_bytes_relayed_total'), bytes,
      'bytes of the relayed messages as received');
    a.close(); b.close();
  });

  test('errors_total{code} counts each error code sent', async () => {
    const val = (m, code) => m.get('xroom_errors_total', { code }) ?? 0;
    const m0 = await metrics(d);
    const c = await connect(d, roomId());
    c.sendText('nope');
    await c.expectError('bad-json');
    c.sendText('{"type":"nope"}');
    await c.expectError('bad-message');
    c.send({ type: 'signal', to: 'x', data: 1 });
    await c.expectError('not-joined');
    c.sendText('also nope');
    await c.expectError('bad-json');
    await c.join();
    c.send({ type: 'join' });
    await c.expectError('already-joined');
    c.send({ type: 'signal', to: c.id, data: 1 });
    await c.expectError('unknown-peer');
    const m1 = await metrics(d);
    assert.equal(val(m1, 'bad-json') - val(m0, 'bad-json'), 2);
    for (const code of ['bad-message', 'not-joined', 'already-joined', 'unknown-peer']) {
      assert.equal(val(m1, code) - val(m0, code), 1, code);
    }
    c.close();
  });

  test('a wrong method is 405 JSON', async () => {
    const r = await request(d, { method: 'POST', path: '/metrics', body: 'x' });
    assertJsonError(r, 405, 'method-not-allowed');
  });
});

describe('JSON errors on /api and /ws', () => {
  test('an unknown /api/ path is 404 JSON not-found', async () => {
    for (const path of ['/api/x', '/api/', '/api/nope/deeper', '/api/x?y=1']) {
      const r = await request(d, { path });
      assertJsonError(r, 404, 'not-found');
      assertSecurityHeaders(r, path);
    }
  });

  const badRooms = [
    'a.b', 'A'.repeat(65), 'a%20b', 'caf%C3%A9', 'abc/def', '..', 'a+b', 'a~b', 'a%2Fb', 'room!',
  ];
  for (const id of badRooms) {
    test(`bad room id ${JSON.stringify(id.length > 20 ? `${id.slice(0, 8)}...(${id.length})` : id)} is refused before the upgrade with 400 bad-room`, async () => {
      const r = await upgradeRequest(d, `/ws/${id}`, { 'Sec-WebSocket-Protocol': 'xroom.v1' });
      assert.equal(r.upgraded, false, 'not upgraded');
      assertJsonError(r, 400, 'bad-room');
      assertSecurityHeaders(r, `/ws/${id}`);
    });
  }

  // protocol.md: "The path is taken as it is: no percent-decoding". A
  // percent-escape whose decoded byte is outside the room-id alphabet is
  // refused as bad-room today, because the decoded id is not valid.
  const escapesOutside = ['%25', '%2e%2e', 'abc%3Fx', 'ab%20c', 'a%2Fb', '%00', 'caf%C3%A9'];
  test('/ws/ ids with escapes that decode outside the alphabet are refused with 400 bad-room', async () => {
    for (const id of escapesOutside) {
      const r = await upgradeRequest(d, `/ws/${id}`, { 'Sec-WebSocket-Protocol': 'xroom.v1' });
      assert.equal(r.upgraded, false, `/ws/${id} must not be upgraded`);
      assertJsonError(r, 400, 'bad-room');
    }
  });

  // Every /ws/ path with a % is bad-room by the contract. Known deviation
  // (docs/protocol.md): libwebsockets 4.1.6 percent-decodes the path before
  // any callback and keeps no raw copy (no header index holds it; checked
  // in FILTER_PROTOCOL_CONNECTION), so the daemon cannot tell /ws/%41bc from
  // /ws/Abc: escapes that decode into the alphabet (and %2F, whose slash
  // lws then folds away) join the decoded room, and malformed escapes get
  // lws's own 403 before the daemon sees the request. The todo reports
  // each form's answer every run.
  const percentForms = [
    '%41bc', 'abc%2D', '%61%62%63', '%5F', '%2Fabc', // decode into the alphabet
    '%', 'abc%', '%zz', // malformed escapes
    ...escapesOutside,
  ];
  test('a /ws/ path containing % is refused with 400 bad-room', {
    todo: 'libwebsockets 4.1.6 decodes the path before the daemon sees it and keeps no raw copy',
  }, async () => {
    const answers = {};
    for (const id of percentForms) {
      const r = await upgradeRequest(d, `/ws/${id}`, { 'Sec-WebSocket-Protocol': 'xroom.v1' });
      let code = null;
      try { code = JSON.parse(r.text).error; } catch { /* not JSON */ }
      answers[id] = r.upgraded ? `${r.status} upgraded` : `${r.status} ${code ?? r.text.slice(0, 40)}`;
    }
    const wrong = Object.entries(answers).filter(([, a]) => a !== '400 bad-room');
    assert.deepEqual(wrong, [], `answers: ${JSON.stringify(answers)}`);
  });

  test('an empty room id is refused with 400 bad-room', async () => {
    const r = await upgradeRequest(d, '/ws/');
    assert.equal(r.upgraded, false);
    assertJsonError(r, 400, 'bad-room');
  });

  test('the room id of /ws/<id>?query is the part before the query', async () => {
    const r = await upgradeRequest(d, `/ws/${roomId()}?room=..`);
    assert.equal(r.status, 101);
  });

  test('a foreign Origin is refused with 403 forbidden-origin before the upgrade', async () => {
    const room = roomId();
    for (const origin of ['http://evil.example', `https://${d.host}`, `http://localhost:${d.port}`, 'null',
      `http://${d.host}.evil.example`, `http://127.0.0.1:${d.port + 1}`]) {
      const r = await upgradeRequest(d, `/ws/${room}`, { Origin: origin });
      assert.equal(r.upgraded, false, `${origin} must not be upgraded`);
      assertJsonError(r, 403, 'forbidden-origin');
      assertSecurityHeaders(r, `Origin ${origin}`);
    }
  });

  test('the own origin (from Host) and a missing Origin are allowed', async () => {
    const room = roomId();
    let r = await upgradeRequest(d, `/ws/${room}`, { Origin: `http://${d.host}` });
    assert.equal(r.status, 101);
    assert.equal(r.headers['set-cookie'], undefined);
    r = await upgradeRequest(d, `/ws/${room}`);
    assert.equal(r.status, 101);
    r = await upgradeRequest(d, `/ws/${room}`, { Host: 'rooms.example.test:8443', Origin: 'http://rooms.example.test:8443' });
    assert.equal(r.status, 101, 'the default origin follows the request Host');
    r = await upgradeRequest(d, `/ws/${room}`, { Host: 'rooms.example.test:8443', Origin: `http://${d.host}` });
    assert.equal(r.status, 403);
  });

  test('allowed_origins replaces the default', async () => {
    const d2 = await startDaemon({ allowed_origins: ['https://rooms.example.org', 'http://other.example:8080'] });
    try {
      const room = roomId();
      for (const o of ['https://rooms.example.org', 'http://other.example:8080']) {
        const r = await upgradeRequest(d2, `/ws/${room}`, { Origin: o });
        assert.equal(r.status, 101, o);
      }
      const r = await upgradeRequest(d2, `/ws/${room}`, { Origin: 'https://evil.example.org' });
      assertJsonError(r, 403, 'forbidden-origin');
      // a real client with an allowed Origin can talk
      const c = await joinPeer(d2, room, undefined, { origin: 'https://rooms.example.org' });
      c.close();
    } finally { await d2.stop(); }
  });
});

describe('static web client and headers', () => {
  const webFile = (p) => join(WEB_ROOT, p);

  test('GET / is the start page (web/index.html), HTML with CSP and security headers', async () => {
    const r = await request(d, { path: '/' });
    assert.equal(r.status, 200);
    assert.match(r.headers['content-type'] || '', /^text\/html\b/);
    if (existsSync(webFile('index.html'))) assert.ok(r.body.equals(readFileSync(webFile('index.html'))), 'body is web/index.html');
    assertSecurityHeaders(r, '/');
    assertCsp(r, '/');
  });

  test('GET /r/<room-id> is the room page (web/room.html)', async () => {
    for (const path of [`/r/${roomId()}`, '/r/a', `/r/${'Z'.repeat(64)}`]) {
      const r = await request(d, { path });
      assert.equal(r.status, 200, path);
      assert.match(r.headers['content-type'] || '', /^text\/html\b/);
      if (existsSync(webFile('room.html'))) assert.ok(r.body.equals(readFileSync(webFile('room.html'))), `${path} body is web/room.html`);
      assertSecurityHeaders(r, path);
      assertCsp(r, path);
    }
  });

  test('.js files are served as text/javascript with security headers', async () => {
    const files = [];
    const walk = (dir) => {
      for (const n of readdirSync(dir)) {
        const p = join(dir, n);
        if (statSync(p).isDirectory()) walk(p);
        else if (n.endsWith('.js')) files.push(p);
      }
    };
    if (existsSync(WEB_ROOT)) walk(WEB_ROOT);
    if (!files.length) {
      // no client yet: nothing to serve, but a missing file must not be 200
      const r = await request(d, { path: '/definitely-missing.js' });
      assert.notEqual(r.status, 200);
      return;
    }
    for (const f of files.slice(0, 20)) {
      const path = `/${relative(WEB_ROOT, f).split('\\').join('/')}`;
      const r = await request(d, { path });
      assert.equal(r.status, 200, path);
      assert.match(r.headers['content-type'] || '', /^text\/javascript\b/, path);
      assert.ok(r.body.equals(readFileSync(f)), `${path} body`);
      assertSecurityHeaders(r, path);
    }
  });

  test('every route carries the security headers and never Set-Cookie', async () => {
    const routes = [
      ['GET', '/'], ['GET', `/r/${roomId()}`], ['GET', '/healthz'], ['GET', '/metrics'],
      ['GET', '/api/x'], ['POST', '/healthz'], ['GET', '/definitely-missing.html'],
      ['GET', '/api/session'], ['GET', '/api/experiments'], ['GET', '/api/rooms'],
      ['HEAD', '/'], ['GET', '/r/bad.room'],
    ];
    for (const [method, path] of routes) {
      const r = await request(d, { method, path });
      assertSecurityHeaders(r, `${method} ${path} (${r.status})`);
      if (/^text\/html\b/.test(r.headers['content-type'] || '') && r.status === 200) assertCsp(r, `${method} ${path}`);
    }
    const up = await upgradeRequest(d, `/ws/${roomId()}`);
    assert.equal(up.status, 101);
    assert.equal(up.headers['set-cookie'], undefined, 'no Set-Cookie on the upgrade');
  });

  test('no path escapes the web root', async () => {
    const paths = [
      '/../../../../etc/passwd', '/%2e%2e/%2e%2e/%2e%2e/etc/passwd', '/%2E%2E/%2E%2E/etc/passwd',
      '/..%2f..%2f..%2fetc%2fpasswd', '/....//....//etc/passwd', '/r/../../../etc/passwd',
      '/.%2e/.%2e/.%2e/etc/passwd', '/%252e%252e/%252e%252e/etc/passwd', '//etc/passwd',
      '/..\\..\\..\\etc\\passwd', '/%c0%ae%c0%ae/%c0%ae%c0%ae/etc/passwd', '/static/../../../../etc/passwd',
      '/index.html/../../../../etc/passwd', '/%00/../../etc/passwd',
    ];
    for (const path of paths) {
      const r = await request(d, { path });
      assert.ok(!/root:.*:0:0:/.test(r.text), `${path} served /etc/passwd`);
      if (r.status === 200) {
        // if anything is served, it must come from inside the web root
        assert.match(r.headers['content-type'] || '', /^text\/html\b/, `${path}: ${r.status} ${r.headers['content-type']}`);
      }
      assertSecurityHeaders(r, path);
    }
  });
});
