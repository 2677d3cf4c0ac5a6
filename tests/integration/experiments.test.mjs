// A/B experiments against a real daemon on loopback: /api/session,
// /api/events and /api/experiments as the protocol says; no cookie
// anywhere; a visitor (source address + User-Agent + Host) is counted once
// a day, also across a restart; no address, User-Agent or salt reaches the
// state directory or the log; the salt is destroyed when the UTC day turns
// (the daemon's clock is moved through XROOMD_TEST_CLOCK_FILE); SIGHUP
// keeps the counts of a stopped experiment; SIGKILL under load never leaves
// a state file that loads wrong, and SIGTERM loses no count.

import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { BASE_CONFIG, deepMerge, sleep, startDaemon, waitFor } from './harness.mjs';

const TOKEN = `admin-${randomBytes(12).toString('hex')}`;
const TOKEN_SHA256 = createHash('sha256').update(TOKEN).digest('hex');

const CTA = {
  name: 'cta',
  variants: [
    { name: 'control', weight: 50, params: { cta: 'Start a room', tone: 'plain' } },
    { name: 'bold', weight: 50, params: { cta: 'Start a free room now', tone: 'loud' } },
  ],
  goals: ['room-created', 'call-connected'],
};
// A weight-0 variant is never served, so "layout" is always "grid"; its
// "tone" comes later in the config and wins the merge.
const LAYOUT = {
  name: 'layout',
  variants: [
    { name: 'grid', weight: 1, params: { layout: 'grid', tone: 'calm' } },
    { name: 'never', weight: 0, params: { layout: 'never', tone: 'never' } },
  ],
  goals: ['call-connected'],
};
const CONFIG = { admin: { token_sha256: TOKEN_SHA256 }, experiments: [CTA, LAYOUT] };

const DAY = 86400;
const nowS = () => Math.floor(Date.now() / 1000);
const dayName = (day) => new Date(day * DAY * 1000).toISOString().slice(0, 10);
const rand = (n) => Math.floor(Math.random() * n);

/**
 * A daemon's life across restarts: one state directory, one test clock
 * file, the log of every run. The clock starts at noon (UTC) of today, so
 * that no real midnight falls inside a test.
 */
class Site {
  constructor(config = CONFIG) {
    this.root = mkdtempSync(join(tmpdir(), 'xroomd-exp-'));
    this.stateDir = join(this.root, 'state');
    this.clockFile = join(this.root, 'clock');
    this.config = config;
    this.log = '';
    this.d = null;
    this.setWall(Math.floor(nowS() / DAY) * DAY + DAY / 2);
  }

  /** Make the daemon's wall clock read `wall` (unix seconds) now. */
  setWall(wall) {
    this.offset = wall - nowS();
    writeFileSync(this.clockFile, `${this.offset}\n`);
  }

  get wall() { return nowS() + this.offset; }

  async start(args = []) {
    this.d = await startDaemon(this.config, {
      args: ['--state-dir', this.stateDir, ...args],
      env: { XROOMD_TEST_CLOCK_FILE: this.clockFile },
    });
    return this.d;
  }

  async term() {
    const d = this.d;
    d.signal('SIGTERM');
    const info = await d.waitExit();
    assert.deepEqual(info, { code: 0, signal: null }, `exit after SIGTERM:\n${d.stderr}`);
    this.log += d.stderr;
    await d.stop();
  }

  async kill() {
    const d = this.d;
    d.signal('SIGKILL');
    await d.waitExit();
    this.log += d.stderr;
    await d.stop();
  }

  async done() {
    if (this.d?.running) await this.term();
    rmSync(this.root, { recursive: true, force: true });
  }

  files() { return readdirSync(this.stateDir).map((n) => join(this.stateDir, n)); }

  /** The salt in visitors.bin: 32 bytes at offset 16 of the body. */
  salt() {
    const raw = readFileSync(join(this.stateDir, 'visitors.bin'));
    const body = raw.subarray(raw.indexOf(0x0a) + 1);
    assert.equal(body.subarray(0, 6).toString('latin1'), 'XRVIS1');
    return Buffer.from(body.subarray(16, 48));
  }
}

// The Host is part of the visitor key; the harness's daemons listen on a
// new port each run, so a fixed name stands for "the same site" across
// restarts.
const HOST = 'rooms.test';

/**
 * One HTTP request on its own connection. opts: method, path, ua (User-Agent;
 * none if undefined), local (source address), host (Host header, HOST by
 * default), token (Bearer), body (sent with a Content-Length), headers,
 * agent.
 */
function hit(d, opts = {}) {
  const { method = 'GET', path = '/api/session', ua, local, host = HOST, token, body, agent } = opts;
  const headers = { ...(agent ? {} : { Connection: 'close' }), ...(opts.headers || {}) };
  if (ua !== undefined) headers['User-Agent'] = ua;
  headers.Host = host;
  if (token !== undefined) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Length'] = Buffer.byteLength(body);
  return new Promise((res, rej) => {
    const req = http.request({
      host: '127.0.0.1',
      port: d.port,
      method,
      path,
      headers,
      agent: agent || false,
      localAddress: local,
    }, (resp) => {
      const chunks = [];
      resp.on('data', (c) => chunks.push(c));
      resp.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        res({
          status: resp.statusCode,
          headers: resp.headers,
          rawHeaders: resp.rawHeaders,
          text,
          json() { return JSON.parse(text); },
        });
      });
      resp.on('error', rej);
    });
    req.setTimeout(5000, () => req.destroy(new Error(`${method} ${path} timed out`)));
    req.on('error', rej);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

/** Exactly these bytes on a fresh connection; the whole answer as text. */
function rawHttp(d, text) {
  return new Promise((res, rej) => {
    const s = net.connect(d.port, '127.0.0.1', () => s.write(text));
    let buf = '';
    s.setEncoding('latin1');
    s.on('data', (c) => { buf += c; });
    s.on('end', () => res(buf));
    s.on('error', rej);
    s.setTimeout(5000, () => s.destroy(new Error('raw request timed out')));
  });
}

const session = (d, ua, extra = {}) => hit(d, { ua, ...extra }).then((r) => {
  assert.equal(r.status, 200, r.text);
  return r.json();
});

const event = (d, ua, goal, extra = {}) =>
  hit(d, { method: 'POST', path: '/api/events', ua, body: JSON.stringify({ event: goal }), ...extra });

async function report(d) {
  const r = await hit(d, { path: '/api/experiments', token: TOKEN });
  assert.equal(r.status, 200, r.text);
  return r.json();
}

const expOf = (rep, name) => rep.experiments.find((e) => e.name === name);
const visitorsOf = (exp) => exp.variants.reduce((n, v) => n + v.visitors, 0);
const conversionsOf = (exp, goal) => exp.variants.reduce((n, v) => n + (v.goals[goal]?.conversions ?? 0), 0);
const variantOf = (exp, name) => exp.variants.find((v) => v.name === name);

/** Every counter of a report: "exp|day|variant|goal" -> n ("" goal: visitors). */
function counters(rep) {
  const m = new Map();
  for (const e of rep.experiments) {
    for (const { day, variants } of e.daily) {
      for (const [v, c] of Object.entries(variants)) {
        if (c.visitors !== undefined) m.set(`${e.name}|${day}|${v}|`, c.visitors);
        for (const [g, n] of Object.entries(c.goals || {})) m.set(`${e.name}|${day}|${v}|${g}`, n);
      }
    }
  }
  return m;
}

/** Runs fn(i) for i in [0, n) with at most `width` at a time. */
async function pool(n, width, fn) {
  const out = new Array(n);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(width, n) }, async () => {
    while (next < n) {
      const i = next++;
      out[i] = await fn(i);
    }
  }));
  return out;
}

function hasCookie(r) {
  return r.rawHeaders.some((h, i) => i % 2 === 0 && h.toLowerCase() === 'set-cookie');
}

// ---------------------------------------------------------------------------

describe('experiments over HTTP', () => {
  test('no response of any route sets a cookie', async () => {
    const site = new Site();
    try {
      const d = await site.start();
      const ua = 'CookieProbe/1.0';
      const cases = [
        { path: '/' },
        { path: '/r/x' },
        { path: '/r/bad!id' },
        { path: '/healthz' },
        { path: '/metrics' },
        { path: '/missing.js' },
        { path: '/ws/x' },
        { path: '/api/nope' },
        { path: '/api/session', ua },
        { method: 'POST', path: '/api/session', body: '{}' },
        { method: 'POST', path: '/api/events', ua, body: '{"event":"room-created"}' },
        { method: 'POST', path: '/api/events', ua, body: '{"event":"nope"}' },
        { method: 'POST', path: '/api/events', ua, body: 'nope' },
        { method: 'POST', path: '/api/events', ua, body: 'x'.repeat(5000) },
        { method: 'GET', path: '/api/events' },
        { path: '/api/experiments' },
        { path: '/api/experiments', token: 'wrong' },
        { path: '/api/experiments', token: TOKEN },
        { method: 'POST', path: '/api/experiments', token: TOKEN, body: '{}' },
      ];
      const statuses = [];
      for (const c of cases) {
        const r = await hit(d, c);
        statuses.push(r.status);
        assert.ok(!hasCookie(r), `${c.method || 'GET'} ${c.path} (${r.status}) sets a cookie`);
      }
      // the cases did reach what they meant to: successes and errors
      assert.deepEqual(statuses.slice(8), [200, 405, 204, 404, 400, 413, 405, 401, 401, 200, 405]);
      const raw = await rawHttp(d, `POST /api/events HTTP/1.1\r\nHost: ${HOST}\r\nConnection: close\r\n\r\n`);
      assert.match(raw, /^HTTP\/1\.1 411 /);
      assert.ok(!/^set-cookie:/im.test(raw), 'the 411 sets a cookie');
    } finally {
      await site.done();
    }
  });

  test('/api/session: variants, merged params, one visitor a day', async () => {
    const site = new Site();
    try {
      const d = await site.start();
      const ua = 'SessionProbe/2.0';
      const first = await session(d, ua);
      assert.deepEqual(Object.keys(first).sort(), ['iceServers', 'params', 'variants']);
      assert.ok(Array.isArray(first.iceServers));
      assert.deepEqual(Object.keys(first.variants).sort(), ['cta', 'layout']);
      assert.ok(['control', 'bold'].includes(first.variants.cta));
      assert.equal(first.variants.layout, 'grid');
      // params of every variant served, merged in config order
      const cta = CTA.variants.find((v) => v.name === first.variants.cta).params.cta;
      assert.deepEqual(first.params, { cta, tone: 'calm', layout: 'grid' });
      const r = await hit(d, { ua });
      assert.match(r.headers['content-type'], /^application\/json/);

      // reloads: the same answer, counted once
      for (let i = 0; i < 5; i++) assert.deepEqual((await session(d, ua)).variants, first.variants);
      let rep = await report(d);
      assert.equal(rep.unit, 'visitor-day');
      assert.equal(rep.today, dayName(Math.floor(site.wall / DAY)));
      assert.equal(visitorsOf(expOf(rep, 'cta')), 1);
      assert.equal(variantOf(expOf(rep, 'cta'), first.variants.cta).visitors, 1);
      assert.equal(visitorsOf(expOf(rep, 'layout')), 1);
      assert.equal(variantOf(expOf(rep, 'layout'), 'never').visitors, 0);

      // another User-Agent, another Host, another source address: each is
      // another visitor
      const others = [
        await session(d, `${ua} other`),
        await session(d, ua, { host: 'rooms.example.org' }),
        await session(d, ua, { local: '127.0.0.2' }),
      ];
      assert.deepEqual((await session(d, ua, { local: '127.0.0.2' })).variants, others[2].variants);
      rep = await report(d);
      assert.equal(visitorsOf(expOf(rep, 'cta')), 4);
      assert.equal(visitorsOf(expOf(rep, 'layout')), 4);

      // many visitors: both variants served, "never" never, one count each
      const seen = await pool(60, 10, (i) => session(d, `many-${i}`));
      const again = await pool(60, 10, (i) => session(d, `many-${i}`));
      assert.deepEqual(again.map((s) => s.variants), seen.map((s) => s.variants));
      const split = new Set(seen.map((s) => s.variants.cta));
      assert.deepEqual([...split].sort(), ['bold', 'control']);
      assert.ok(seen.every((s) => s.variants.layout === 'grid'));
      rep = await report(d);
      const c = expOf(rep, 'cta');
      assert.equal(visitorsOf(c), 64);
      const all = [first, ...others, ...seen];
      for (const name of ['bold', 'control']) {
        assert.equal(variantOf(c, name).visitors, all.filter((x) => x.variants.cta === name).length, name);
      }
      assert.equal(variantOf(expOf(rep, 'layout'), 'grid').visitors, 64);
      assert.equal(variantOf(expOf(rep, 'layout'), 'never').visitors, 0);
    } finally {
      await site.done();
    }
  });

  test('POST /api/events: 204, 404, 400, 411, 413, 405; a conversion counts once', async () => {
    const site = new Site();
    try {
      const d = await site.start();
      const ua = 'EventProbe/3.0';
      const { variants } = await session(d, ua);
      for (let i = 0; i < 3; i++) {
        const r = await event(d, ua, 'room-created');
        assert.equal(r.status, 204);
        assert.equal(r.text, '');
      }
      let r = await event(d, ua, 'call-connected');
      assert.equal(r.status, 204);

      r = await event(d, ua, 'no-such-goal');
      assert.equal(r.status, 404);
      assert.match(r.headers['content-type'], /^application\/json/);
      assert.equal(r.json().error, 'unknown-goal');
      assert.equal(typeof r.json().message, 'string');

      for (const body of ['not json', '[]', '["room-created"]', '"room-created"', '{}', 'null',
        '{"event":1}', '{"event":null}', '{"goal":"room-created"}',
        '{"event":"room-created","extra":1}',
        '{"event":"room-created","event":"room-created"}', '{"event":"room-created"',
        '']) {
        r = await hit(d, { method: 'POST', path: '/api/events', ua, body });
        assert.equal(r.status, 400, `body ${JSON.stringify(body)}: ${r.status} ${r.text}`);
        assert.equal(r.json().error, 'bad-request');
      }

      const raw = await rawHttp(d, `POST /api/events HTTP/1.1\r\nHost: ${HOST}\r\n`
        + `User-Agent: ${ua}\r\nConnection: close\r\n\r\n`);
      assert.match(raw, /^HTTP\/1\.1 411 /);
      assert.equal(JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4)).error, 'length-required');

      // 4 KiB is the most: 4096 bytes pass, 4097 do not
      const goal = '{"event":"room-created"}';
      r = await hit(d, { method: 'POST', path: '/api/events', ua, body: ' '.repeat(4096 - goal.length) + goal });
      assert.equal(r.status, 204);
      r = await hit(d, { method: 'POST', path: '/api/events', ua, body: ' '.repeat(4097 - goal.length) + goal });
      assert.equal(r.status, 413);
      assert.equal(r.json().error, 'too-large');
      r = await hit(d, { method: 'POST', path: '/api/events', ua, body: 'x'.repeat(64 * 1024) });
      assert.equal(r.status, 413);

      r = await hit(d, { method: 'GET', path: '/api/events', ua });
      assert.equal(r.status, 405);
      assert.equal(r.json().error, 'method-not-allowed');

      // a visitor never served a variant today converts nothing
      assert.equal((await event(d, 'Stranger/1.0', 'room-created')).status, 204);
      assert.equal((await event(d, ua, 'room-created', { local: '127.0.0.3' })).status, 204);

      const rep = await report(d);
      const cta = expOf(rep, 'cta');
      const layout = expOf(rep, 'layout');
      assert.equal(conversionsOf(cta, 'room-created'), 1);
      assert.equal(variantOf(cta, variants.cta).goals['room-created'].conversions, 1);
      assert.equal(conversionsOf(cta, 'call-connected'), 1);
      assert.equal(conversionsOf(layout, 'call-connected'), 1); // both list it
      assert.equal(variantOf(layout, 'grid').goals['room-created'], undefined); // not its goal
      assert.equal(visitorsOf(cta), 1);
      const g = variantOf(cta, variants.cta).goals['room-created'];
      assert.equal(g.rate, 1);
      assert.equal(g.ci95.length, 2);
    } finally {
      await site.done();
    }
  });

  test('/api/experiments: 401 without the admin token, 200 with it', async () => {
    const site = new Site();
    try {
      const d = await site.start();
      for (const headers of [{}, { Authorization: 'Bearer' }, { Authorization: 'Bearer ' },
        { Authorization: `Bearer ${TOKEN}x` }, { Authorization: `Bearer ${TOKEN.slice(0, -1)}` },
        { Authorization: `Bearer ${TOKEN_SHA256}` }, { Authorization: `Basic ${TOKEN}` },
        { Authorization: `bearer${TOKEN}` }]) {
        const r = await hit(d, { path: '/api/experiments', headers });
        assert.equal(r.status, 401, JSON.stringify(headers));
        assert.equal(r.json().error, 'unauthorized');
        assert.ok(!r.text.includes('experiments'), 'a 401 tells nothing');
      }
      const r = await hit(d, { path: '/api/experiments', token: TOKEN });
      assert.equal(r.status, 200);
      assert.match(r.headers['content-type'], /^application\/json/);
      const rep = r.json();
      assert.deepEqual(rep.experiments.map((e) => [e.name, e.running]), [['cta', true], ['layout', true]]);
      assert.equal((await hit(d, { method: 'POST', path: '/api/experiments', token: TOKEN, body: '{}' })).status, 405);
      await site.term();

      // no admin section: nobody gets in
      const noAdmin = new Site({ experiments: [CTA] });
      try {
        const d2 = await noAdmin.start();
        assert.equal((await hit(d2, { path: '/api/experiments', token: TOKEN })).status, 401);
      } finally {
        await noAdmin.done();
      }
    } finally {
      await site.done();
    }
  });
});

describe('experiments across restarts and days', () => {
  test('SIGTERM loses no count; a restart on the same day counts nobody twice', async () => {
    const site = new Site();
    try {
      const N = 60;
      let d = await site.start();
      const first = await pool(N, 12, (i) => session(d, `restart-${i}`));
      await pool(N / 3, 12, async (i) => assert.equal((await event(d, `restart-${i}`, 'room-created')).status, 204));
      const before = await report(d);
      assert.equal(visitorsOf(expOf(before, 'cta')), N);
      await site.term();

      d = await site.start();
      let rep = await report(d);
      assert.deepEqual(counters(rep), counters(before)); // exactly what was counted
      assert.equal(visitorsOf(expOf(rep, 'cta')), N);
      assert.equal(visitorsOf(expOf(rep, 'layout')), N);
      assert.equal(conversionsOf(expOf(rep, 'cta'), 'room-created'), N / 3);
      // the same visitors again: the same variants, not counted again
      const again = await pool(N, 12, (i) => session(d, `restart-${i}`));
      assert.deepEqual(again.map((s) => s.variants), first.map((s) => s.variants));
      await pool(N, 12, async (i) => assert.equal((await event(d, `restart-${i}`, 'room-created')).status, 204));
      rep = await report(d);
      assert.equal(visitorsOf(expOf(rep, 'cta')), N);
      assert.equal(visitorsOf(expOf(rep, 'layout')), N);
      assert.equal(conversionsOf(expOf(rep, 'cta'), 'room-created'), N); // 2N/3 were new
      await site.term();
      assert.ok(!/refused|corrupt/.test(site.log), site.log);
    } finally {
      await site.done();
    }
  });

  test('no address, User-Agent or salt in the state directory or the log', async () => {
    const site = new Site();
    const UA = 'MarkedAgent/7.7 (xr-ua-marker-5e1f9c)';
    const ADDR = '127.0.0.77';
    try {
      let d = await site.start(['--log-level', 'debug']);
      const as = { ua: UA, local: ADDR };
      await session(d, UA, { local: ADDR });
      await session(d, UA, { local: ADDR });
      for (const goal of ['room-created', 'call-connected', 'unknown-goal-x']) await event(d, UA, goal, { local: ADDR });
      await hit(d, { ...as, method: 'POST', path: '/api/events', body: '{"event":' });
      await hit(d, { ...as, method: 'POST', path: '/api/events', body: 'y'.repeat(5000) });
      await hit(d, { ...as, path: '/api/events' });
      await hit(d, { ...as, path: '/api/experiments' });
      await hit(d, { ...as, path: '/api/experiments', token: TOKEN });
      await hit(d, { ...as, path: '/' });
      await hit(d, { ...as, path: '/nope.js' });
      await hit(d, { ...as, path: '/ws/bad!room' });
      await rawHttp(d, `POST /api/events HTTP/1.1\r\nHost: ${HOST}\r\nUser-Agent: ${UA}\r\nConnection: close\r\n\r\n`);
      await site.term(); // saves visitors.bin with the day's salt
      d = await site.start(['--log-level', 'debug']);
      await session(d, UA, { local: ADDR });
      const rep = await report(d);
      assert.equal(visitorsOf(expOf(rep, 'cta')), 1);
      await site.term();

      const salt = site.salt();
      const names = readdirSync(site.stateDir).sort();
      assert.ok(names.includes('experiments.json') && names.includes('visitors.bin'), names.join());
      const addrBytes = Buffer.from([127, 0, 0, 77]);
      for (const f of site.files()) {
        const b = readFileSync(f);
        assert.equal(statSync(f).mode & 0o777, 0o600, `${f} mode`);
        for (const needle of [UA, 'xr-ua-marker-5e1f9c', 'MarkedAgent', ADDR]) {
          assert.ok(!b.includes(Buffer.from(needle)), `${f} holds ${needle}`);
          assert.ok(!b.includes(Buffer.from(needle, 'utf16le')), `${f} holds ${needle} (UTF-16)`);
        }
        assert.ok(!b.includes(addrBytes), `${f} holds the address as bytes`);
      }
      const log = site.log;
      assert.ok(log.length > 0);
      for (const needle of ['xr-ua-marker-5e1f9c', 'MarkedAgent', ADDR, '127.0.0.2', '0.0.77']) {
        assert.ok(!log.includes(needle), `the log holds ${needle}`);
      }
      for (const form of [salt.toString('hex'), salt.toString('hex').toUpperCase(), salt.toString('base64'),
        salt.toString('base64url'), salt.toString('hex').slice(0, 16), salt.toString('base64').slice(0, 12)]) {
        assert.ok(!log.includes(form), `the log holds the salt (${form})`);
      }
      // raw bytes: not there as text, and no undecodable bytes at all
      assert.ok(!log.includes(salt.toString('latin1')) && !log.includes(salt.toString('utf8')));
      assert.ok(!log.includes('\ufffd'), 'the log holds bytes that are not text');
    } finally {
      await site.done();
    }
  });

  test('a new UTC day destroys the salt and counts visitors afresh', async () => {
    const site = new Site();
    const N = 40;
    try {
      const day1 = Math.floor(site.wall / DAY);
      const midnight = (day1 + 1) * DAY;
      site.setWall(midnight - 30);
      let d = await site.start();
      const v1 = await pool(N, 10, (i) => session(d, `day-${i}`));
      await site.term();
      const salt1 = site.salt();
      d = await site.start(); // the same day: the same salt is loaded
      const again = await pool(N, 10, (i) => session(d, `day-${i}`));
      assert.deepEqual(again.map((s) => s.variants), v1.map((s) => s.variants));
      let rep = await report(d);
      assert.equal(rep.today, dayName(day1));
      assert.equal(visitorsOf(expOf(rep, 'cta')), N);

      // a few seconds before midnight, then past it
      site.setWall(midnight - 2);
      await waitFor(() => /new UTC day/.test(d.stderr), { timeout: 8000, interval: 100, what: 'the day to roll' });
      const salt2 = await waitFor(() => {
        const s = site.salt();
        return s.equals(salt1) ? null : s;
      }, { timeout: 3000, what: 'a new salt in visitors.bin' });
      assert.ok(!salt2.equals(salt1));
      for (const f of site.files()) {
        const b = readFileSync(f);
        assert.ok(!b.includes(salt1), `${f} still holds yesterday's salt`);
        assert.ok(!b.includes(Buffer.from(salt1.toString('hex'))), `${f} holds yesterday's salt in hex`);
      }

      // yesterday's visit does not carry a conversion into today
      assert.equal((await event(d, 'day-0', 'room-created')).status, 204);
      const v2 = await pool(N, 10, (i) => session(d, `day-${i}`));
      assert.equal((await event(d, 'day-1', 'room-created')).status, 204);
      rep = await report(d);
      assert.equal(rep.today, dayName(day1 + 1));
      const cta = expOf(rep, 'cta');
      assert.equal(visitorsOf(cta), 2 * N); // counted again, once, today
      assert.equal(cta.daily.length, 2);
      assert.deepEqual(cta.daily.map((x) => x.day), [dayName(day1), dayName(day1 + 1)]);
      const today = Object.values(cta.daily[1].variants).reduce((n, v) => n + (v.visitors || 0), 0);
      assert.equal(today, N);
      assert.equal(conversionsOf(cta, 'room-created'), 1);
      // a fresh key: 40 visitors keeping their variant by chance is 2^-40
      assert.ok(v2.some((s, i) => s.variants.cta !== v1[i].variants.cta), 'nobody got a fresh variant');
      await site.term();
      assert.ok(!site.salt().equals(salt1));
      for (const form of [salt1.toString('hex'), salt1.toString('base64'), salt2.toString('hex'), salt2.toString('base64')]) {
        assert.ok(!site.log.includes(form), 'a salt in the log');
      }
    } finally {
      await site.done();
    }
  });

  test('SIGHUP: experiments added, changed and stopped; stopped ones keep their counts', async () => {
    const OLD = { name: 'old', variants: [{ name: 'o1', weight: 1 }, { name: 'o2', weight: 1 }], goals: ['old-goal'] };
    const cfg1 = { admin: CONFIG.admin, experiments: [CTA, OLD] };
    const CTA2 = { ...CTA, variants: [...CTA.variants, { name: 'third', weight: 50, params: { cta: 'Third' } }] };
    const FRESH = { name: 'fresh', variants: [{ name: 'f1', weight: 1, params: { fresh: true } }], goals: ['old-goal-2'] };
    const cfg2 = { admin: CONFIG.admin, experiments: [CTA2, FRESH] };
    const site = new Site(cfg1);
    const N = 20;
    // Writes the config, sends SIGHUP and waits for the log line that
    // answers it (reloaded, or refused).
    const reload = async (d, cfg, expect = /SIGHUP: configuration reloaded/) => {
      const from = d.stderr.length;
      d.writeConfig(typeof cfg === 'string' ? cfg : deepMerge(BASE_CONFIG, cfg), { raw: typeof cfg === 'string' });
      d.signal('SIGHUP');
      await waitFor(() => /SIGHUP: (configuration reloaded|.* was refused)/.test(d.stderr.slice(from)),
        { what: 'SIGHUP handled' });
      assert.match(d.stderr.slice(from), expect);
    };
    try {
      let d = await site.start();
      await pool(N, 10, (i) => session(d, `hup-${i}`));
      await pool(N / 2, 10, (i) => event(d, `hup-${i}`, 'old-goal'));
      const before = expOf(await report(d), 'old');
      assert.equal(visitorsOf(before), N);
      assert.equal(conversionsOf(before, 'old-goal'), N / 2);

      await reload(d, cfg2);
      const s = await session(d, 'hup-0');
      assert.deepEqual(Object.keys(s.variants).sort(), ['cta', 'fresh']);
      assert.equal(s.params.fresh, true);
      assert.equal((await event(d, 'hup-0', 'old-goal')).status, 404); // nobody lists it now
      await pool(N, 10, (i) => session(d, `hup-${i}`));
      let rep = await report(d);
      const old = expOf(rep, 'old');
      assert.ok(old, 'the stopped experiment is in the report');
      assert.equal(old.running, false);
      assert.equal(visitorsOf(old), N);
      assert.equal(conversionsOf(old, 'old-goal'), N / 2);
      assert.equal(expOf(rep, 'fresh').running, true);
      assert.equal(visitorsOf(expOf(rep, 'fresh')), N);
      assert.equal(visitorsOf(expOf(rep, 'cta')), N); // changed, but nobody twice today
      assert.ok(variantOf(expOf(rep, 'cta'), 'third'));
      assert.deepEqual(rep.experiments.map((e) => e.name), ['cta', 'fresh', 'old']);

      // a bad file is refused, the running config stays
      await reload(d, '{"experiments": 5}', /SIGHUP: .* was refused, keeping the running config/);
      assert.deepEqual(Object.keys((await session(d, 'hup-1')).variants).sort(), ['cta', 'fresh']);

      // still there after a restart with the new config
      await site.term();
      site.config = cfg2;
      d = await site.start();
      rep = await report(d);
      assert.equal(expOf(rep, 'old').running, false);
      assert.equal(visitorsOf(expOf(rep, 'old')), N);

      // and running again, with its counts, when it comes back
      await reload(d, cfg1);
      rep = await report(d);
      assert.equal(expOf(rep, 'old').running, true);
      assert.equal(visitorsOf(expOf(rep, 'old')), N);
      assert.equal(visitorsOf(expOf(rep, 'fresh')), N);
      assert.equal(expOf(rep, 'fresh').running, false);
    } finally {
      await site.done();
    }
  });

  test('SIGKILL during heavy counting never leaves a state file that loads wrong', async () => {
    const site = new Site();
    const POOL = 48;      // distinct visitors: at most this many a day
    const ROUNDS = 8;
    let sent = 0;
    let events = 0;
    let prev = new Map();
    const check = async (d) => {
      const names = readdirSync(site.stateDir);
      assert.ok(!names.some((n) => /corrupt/.test(n)), `quarantined: ${names.join()}`);
      assert.ok(!/refused|corrupt|cannot/.test(d.stderr), d.stderr);
      const now = counters(await report(d));
      for (const [k, n] of prev) assert.ok((now.get(k) ?? 0) >= n, `${k} shrank from ${n} to ${now.get(k)}`);
      const perDay = new Map();
      for (const [k, n] of now) {
        const [exp, day, , goal] = k.split('|');
        const key = `${exp}|${day}|${goal}`;
        perDay.set(key, (perDay.get(key) ?? 0) + n);
      }
      let visitors = 0;
      let conversions = 0;
      for (const [k, n] of perDay) {
        assert.ok(n <= POOL, `${k}: ${n} counted of ${POOL} visitors`);
        if (k.startsWith('cta|') && k.endsWith('|')) visitors += n;
        if (k.startsWith('cta|') && k.endsWith('|room-created')) conversions += n;
      }
      assert.ok(visitors <= sent, `${visitors} visitors counted of ${sent} sessions sent`);
      assert.ok(conversions <= events, `${conversions} conversions counted of ${events} sent`);
      prev = now;
      return visitors;
    };
    try {
      for (let round = 0; round < ROUNDS; round++) {
        const d = await site.start();
        await check(d);
        const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });
        let stop = false;
        const workers = Array.from({ length: 32 }, async () => {
          while (!stop) {
            const ua = `kill-${rand(POOL)}`;
            sent++;
            try {
              await hit(d, { ua, agent });
              if (rand(3) === 0) {
                events++;
                await event(d, ua, 'room-created', { agent });
              }
            } catch { /* the daemon was killed */ }
          }
        });
        await sleep(100 + rand(400));
        // Saving happens every 30 s, on a new day and at SIGTERM: move the
        // clock a day on so that it saves now, under load, then kill at a
        // random moment before, during or after the writes.
        if (rand(5) > 0) site.setWall(site.wall + DAY);
        await sleep(rand(400));
        await site.kill();
        stop = true;
        await Promise.all(workers);
        agent.destroy();
      }
      const d = await site.start();
      const visitors = await check(d);
      assert.ok(visitors > 0, 'something was saved');
      // and SIGTERM keeps exactly what was counted
      await pool(20, 10, (i) => session(d, `final-${i}`));
      const last = counters(await report(d));
      await site.term();
      const d2 = await site.start();
      assert.deepEqual(counters(await report(d2)), last);
      await check(d2);
    } finally {
      await site.done();
    }
  });
});
