// Experiments past one machine: GET /api/experiments/counters (admin, the
// body of experiments.json), `xroomd --merge-report` (sums counter bodies
// and state-dir files of several nodes, refuses anything else), and the
// visitor's address behind a proxy: the last X-Forwarded-For entry, trusted
// only from a loopback peer, never written to the log or the state dir.
// The nginx cluster that uses all of this is cluster.test.mjs.

import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runCli, startDaemon } from './harness.mjs';

const TOKEN = `adm-${randomBytes(16).toString('hex')}`;
const TOKEN_SHA256 = createHash('sha256').update(TOKEN).digest('hex');
const CTA = {
  name: 'cta',
  variants: [
    { name: 'control', weight: 50, params: { cta: 'Start' } },
    { name: 'bold', weight: 50, params: { cta: 'Start now' } },
  ],
  goals: ['room-created'],
};
const CONFIG = { admin: { token_sha256: TOKEN_SHA256 }, experiments: [CTA] };
const HOST = 'rooms.test';

/** One request on its own connection to d (or to `host`:d.port). */
function hit(d, { method = 'GET', path = '/api/session', ua = 'Probe/1', xff, local, token, body, host } = {}) {
  const headers = { Connection: 'close', Host: HOST, 'User-Agent': ua };
  if (xff !== undefined) headers['X-Forwarded-For'] = xff;
  if (token !== undefined) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Length'] = Buffer.byteLength(body);
  return new Promise((res, rej) => {
    const req = http.request({
      host: host || '127.0.0.1', port: d.port, method, path, headers, agent: false, localAddress: local,
    }, (r) => {
      const chunks = [];
      r.on('data', (c) => chunks.push(c));
      r.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        res({ status: r.statusCode, headers: r.headers, text, json: () => JSON.parse(text) });
      });
    });
    req.setTimeout(5000, () => req.destroy(new Error(`${method} ${path} timed out`)));
    req.on('error', rej);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

async function visitors(d, host) {
  const r = await hit(d, { path: '/api/experiments', token: TOKEN, host });
  assert.equal(r.status, 200, r.text);
  const e = r.json().experiments.find((x) => x.name === 'cta');
  return e.variants.reduce((n, v) => n + v.visitors, 0);
}

async function visit(d, opts) {
  const r = await hit(d, opts);
  assert.equal(r.status, 200, r.text);
}

const today = () => new Date().toISOString().slice(0, 10);

// ---------------------------------------------------------------------------

describe('GET /api/experiments/counters', () => {
  let d;
  before(async () => { d = await startDaemon(CONFIG); });
  after(async () => { await d.stop(); });

  test('admin only: 401 without or with a wrong token, 405 for other methods', async () => {
    for (const token of [undefined, 'wrong', '']) {
      const r = await hit(d, { path: '/api/experiments/counters', token });
      assert.equal(r.status, 401, r.text);
      assert.equal(r.json().error, 'unauthorized');
    }
    const r = await hit(d, { method: 'POST', path: '/api/experiments/counters', token: TOKEN, body: '{}' });
    assert.equal(r.status, 405);
    const bare = await startDaemon({});
    try {
      assert.equal((await hit(bare, { path: '/api/experiments/counters', token: TOKEN })).status, 401);
    } finally {
      await bare.stop();
    }
  });

  test('the raw counters, the same body the state directory keeps', async () => {
    const empty = await hit(d, { path: '/api/experiments/counters', token: TOKEN });
    assert.equal(empty.status, 200);
    assert.match(empty.headers['content-type'], /^application\/json/);
    assert.deepEqual(empty.json(), { version: 1, counters: [] });
    for (let i = 0; i < 5; i++) await visit(d, { ua: `Counter/${i}` });
    await visit(d, { ua: 'Counter/0' }); // a reload: the same visitor
    for (let i = 0; i < 2; i++) {
      await hit(d, { method: 'POST', path: '/api/events', ua: `Counter/${i}`, body: '{"event":"room-created"}' });
    }
    const c = (await hit(d, { path: '/api/experiments/counters', token: TOKEN })).json();
    assert.equal(c.version, 1);
    for (const row of c.counters) {
      assert.equal(row.length, 5);
      assert.equal(row[0], 'cta');
      assert.ok(['control', 'bold'].includes(row[1]));
      assert.ok(['', 'room-created'].includes(row[2]));
      assert.equal(row[3], today());
      assert.ok(Number.isInteger(row[4]) && row[4] > 0);
    }
    const sum = (goal) => c.counters.filter((r) => r[2] === goal).reduce((n, r) => n + r[4], 0);
    assert.equal(sum(''), 5);
    assert.equal(sum('room-created'), 2);
    // after SIGTERM, experiments.json holds the same body
    const state = mkdtempSync(join(tmpdir(), 'xroomd-ctr-'));
    try {
      const e = await startDaemon(CONFIG, { args: ['--state-dir', state] });
      await visit(e, { ua: 'A' });
      await visit(e, { ua: 'B' });
      const live = (await hit(e, { path: '/api/experiments/counters', token: TOKEN })).json();
      e.signal('SIGTERM');
      await e.waitExit();
      await e.stop();
      const raw = readFileSync(join(state, 'experiments.json'), 'utf8');
      const stored = JSON.parse(raw.slice(raw.indexOf('\n') + 1));
      const norm = (x) => x.counters.map((r) => JSON.stringify(r)).sort();
      assert.deepEqual(norm(stored), norm(live));
    } finally {
      rmSync(state, { recursive: true, force: true });
    }
  });
});

describe('visitor address behind a proxy (X-Forwarded-For)', () => {
  test('from a loopback peer, the last X-Forwarded-For entry is the address', async () => {
    const d = await startDaemon(CONFIG);
    try {
      const ua = 'Same/1.0';
      await visit(d, { ua, xff: '203.0.113.1' });
      await visit(d, { ua, xff: '203.0.113.2' });
      assert.equal(await visitors(d), 2, 'two forwarded clients are two visitors');
      // what the client wrote before the proxy's own entry does not count
      await visit(d, { ua, xff: '198.51.100.9, 203.0.113.1' });
      await visit(d, { ua, xff: '10.0.0.1,203.0.113.2' });
      // the address is the forwarded one, not the proxy's (another loopback source)
      await visit(d, { ua, xff: ' 203.0.113.1 ', local: '127.0.0.5' });
      assert.equal(await visitors(d), 2);
      // an IPv6 client
      await visit(d, { ua, xff: '2001:db8::7' });
      await visit(d, { ua, xff: '203.0.113.9, 2001:db8::7' });
      assert.equal(await visitors(d), 3);
      // an entry that is not an address: the TCP peer's address is used
      await visit(d, { ua, xff: 'unknown' });
      await visit(d, { ua, xff: '203.0.113.1, <script>' });
      await visit(d, { ua });
      assert.equal(await visitors(d), 4, 'garbage and no header fall back to the peer (127.0.0.1)');
      await visit(d, { ua, local: '127.0.0.9' });
      assert.equal(await visitors(d), 5);
      // events follow the same rule: the forwarded visitor converts
      const r = await hit(d, { method: 'POST', path: '/api/events', ua, xff: '203.0.113.2', body: '{"event":"room-created"}' });
      assert.equal(r.status, 204);
      const rep = (await hit(d, { path: '/api/experiments', token: TOKEN })).json();
      const conv = rep.experiments[0].variants.reduce((n, v) => n + v.goals['room-created'].conversions, 0);
      assert.equal(conv, 1);
      // nothing of it reaches the log or the state directory
      d.signal('SIGTERM');
      await d.waitExit();
      for (const addr of ['203.0.113', '198.51.100.9', '2001:db8', '10.0.0.1']) {
        assert.ok(!d.stderr.includes(addr), `log carries ${addr}`);
        for (const f of readdirSync(d.stateDir)) {
          assert.ok(!readFileSync(join(d.stateDir, f)).includes(addr), `${f} carries ${addr}`);
        }
      }
    } finally {
      await d.stop();
    }
  });

  test('from a peer that is not loopback, X-Forwarded-For is ignored', async (t) => {
    const ext = Object.values(networkInterfaces()).flat()
      .find((a) => a && !a.internal && a.family === 'IPv4');
    if (!ext) {
      t.skip('no non-loopback IPv4 address on this machine');
      return;
    }
    const d = await startDaemon(CONFIG, { args: ['--listen', `${ext.address}:0`] });
    try {
      for (const xff of ['203.0.113.1', '203.0.113.2', '127.0.0.1', undefined]) {
        await visit(d, { ua: 'Direct/1', xff, host: ext.address, local: ext.address });
      }
      assert.equal(await visitors(d, ext.address), 1, 'one client, whatever it claims');
    } finally {
      await d.stop();
    }
  });
});

// ---------------------------------------------------------------------------

describe('xroomd --merge-report', () => {
  let dir;
  before(() => { dir = mkdtempSync(join(tmpdir(), 'xroomd-merge-')); });
  after(() => { rmSync(dir, { recursive: true, force: true }); });

  const file = (name, body) => {
    const p = join(dir, name);
    writeFileSync(p, typeof body === 'string' ? body : JSON.stringify(body));
    return p;
  };
  const node = (rows) => ({ version: 1, counters: rows });
  const merge = (args) => {
    const r = runCli(['--merge-report', ...args]);
    return { ...r, report: r.code === 0 ? JSON.parse(r.stdout) : null };
  };
  const exp = (rep, name) => rep.experiments.find((e) => e.name === name);
  const variant = (e, name) => e.variants.find((v) => v.name === name);

  test('sums the nodes: per variant, goal and day', () => {
    const a = file('a.json', node([
      ['cta', 'control', '', '2026-11-29', 10], ['cta', 'bold', '', '2026-11-29', 12],
      ['cta', 'control', 'room-created', '2026-11-29', 3], ['cta', 'control', '', '2026-11-30', 4],
    ]));
    const b = file('b.json', node([
      ['cta', 'control', '', '2026-11-29', 5], ['cta', 'bold', '', '2026-11-29', 8],
      ['cta', 'bold', 'room-created', '2026-11-29', 6], ['old', 'x', '', '2026-01-01', 2],
    ]));
    const c = file('c.json', node([]));
    const cfg = file('config.json', CONFIG);
    const r = merge(['--config', cfg, a, b, c]);
    assert.equal(r.code, 0, r.output);
    const e = exp(r.report, 'cta');
    assert.equal(e.running, true);
    assert.equal(variant(e, 'control').visitors, 19);
    assert.equal(variant(e, 'bold').visitors, 20);
    assert.equal(variant(e, 'control').goals['room-created'].conversions, 3);
    assert.equal(variant(e, 'bold').goals['room-created'].conversions, 6);
    assert.equal(variant(e, 'control').weight, 50);
    assert.ok(e.srm && typeof e.srm.p_value === 'number');
    const day = e.daily.find((x) => x.day === '2026-11-29');
    assert.deepEqual(day.variants.control, { visitors: 15, goals: { 'room-created': 3 } });
    assert.deepEqual(e.daily.map((x) => x.day), ['2026-11-29', '2026-11-30']);
    const old = exp(r.report, 'old');
    assert.equal(old.running, false, 'an experiment not in the config is reported as stopped');
    assert.equal(variant(old, 'x').visitors, 2);
    assert.equal(r.report.unit, 'visitor-day');
    assert.equal(r.report.today, today());
    // without --config: everything as stopped, the same numbers
    const bare = merge([a, b]);
    assert.equal(bare.code, 0, bare.output);
    assert.equal(exp(bare.report, 'cta').running, false);
    assert.equal(exp(bare.report, 'cta').srm, null);
    assert.equal(variant(exp(bare.report, 'cta'), 'bold').visitors, 20);
    // one node alone is its own report
    assert.equal(variant(exp(merge([a]).report, 'cta'), 'control').visitors, 14);
  });

  test("accepts a state directory's experiments.json and checks its checksum", async () => {
    const state = join(dir, 'state');
    const d = await startDaemon(CONFIG, { args: ['--state-dir', state] });
    for (let i = 0; i < 3; i++) await visit(d, { ua: `S/${i}` });
    d.signal('SIGTERM');
    await d.waitExit();
    await d.stop();
    const stored = join(state, 'experiments.json');
    const extra = file('extra.json', node([['cta', 'control', '', today(), 100], ['cta', 'bold', '', today(), 100]]));
    const r = merge([stored, extra]);
    assert.equal(r.code, 0, r.output);
    const e = exp(r.report, 'cta');
    assert.equal(e.variants.reduce((n, v) => n + v.visitors, 0), 203);
    // a damaged copy is refused, named, and nothing is printed
    const bad = join(dir, 'damaged.json');
    copyFileSync(stored, bad);
    const raw = readFileSync(bad);
    raw[raw.length - 3] ^= 0x01;
    writeFileSync(bad, raw);
    const r2 = merge([extra, bad]);
    assert.equal(r2.code, 2);
    assert.equal(r2.stdout, '');
    assert.match(r2.stderr, new RegExp(`${bad}: checksum mismatch`));
  });

  test('refuses what is not a counters file, naming each one', () => {
    const good = file('good.json', node([['cta', 'control', '', '2026-11-29', 1]]));
    const cases = [
      [file('v2.json', { version: 2, counters: [] }), /not a counters file/],
      [file('report.json', { unit: 'visitor-day', experiments: [] }), /not a counters file/],
      [file('neg.json', node([['cta', 'control', '', '2026-11-29', -1]])), /not a counters file/],
      [file('baddate.json', node([['cta', 'control', '', '2026-13-01', 1]])), /not a counters file/],
      [file('short.json', node([['cta', 'control', '', 1]])), /not a counters file/],
      [file('text.txt', 'hello'), /not a counters file/],
      [file('header.json', 'XROOM1 00 5\nhello'), /malformed header/],
      [join(dir, 'missing.json'), /No such file/],
    ];
    for (const [p, re] of cases) {
      const r = merge([good, p]);
      assert.equal(r.code, 2, `${p}: ${r.output}`);
      assert.equal(r.stdout, '', p);
      assert.match(r.stderr, new RegExp(`${p.replace(/[.]/g, '\\.')}: `), p);
      assert.match(r.stderr, re, `${p}: ${r.stderr}`);
    }
    // every bad file is named, not only the first
    const two = merge([cases[0][0], cases[1][0]]);
    assert.equal(two.stderr.trim().split('\n').length, 2, two.stderr);
    // no files, or a bad --config
    assert.equal(runCli(['--merge-report']).code, 2);
    const badcfg = file('badcfg.json', { nope: 1 });
    const r = merge(['--config', badcfg, good]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /nope/);
  });
});
