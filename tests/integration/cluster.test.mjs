// Past one machine (docs/scaling.md): three xroomd nodes behind Debian's
// nginx running docs/deploy/nginx.conf (only its node list and listener
// replaced). 30 rooms x 3 peers join through nginx: every room lands whole
// on one node and every relay arrives. One node is stopped (SIGTERM): its
// clients reconnect and rejoin through nginx as the web client does
// (exponential backoff with jitter), their rooms come back whole on the
// other nodes, and relays work again. The A/B counters of the nodes, merged
// by `xroomd --merge-report`, equal what one node counts for the same
// visitors. Measured figures are printed as test diagnostics.
//
// Needs nginx (Debian's `nginx` package; .ci/deps installs it). Without it
// the suite is skipped, unless XROOM_REQUIRE_NGINX=1 (CI) makes that a
// failure. This test starts its own nginx (own prefix, config, pid file,
// loopback port) and stops it; it never touches a system nginx.

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  REPO_ROOT, SUBPROTOCOL, WebSocket, XROOMD, healthz, roomId, runCli, sleep, startDaemon, waitFor, withTimeout,
} from './harness.mjs';

const NGINX = ['/usr/sbin/nginx', '/usr/bin/nginx'].find((p) => existsSync(p));
const REQUIRE = process.env.XROOM_REQUIRE_NGINX === '1';
const ROOMS = 30;
const PEERS = 3;
const TOKEN = `adm-${randomBytes(16).toString('hex')}`;
const CONFIG = {
  admin: { token_sha256: createHash('sha256').update(TOKEN).digest('hex') },
  experiments: [{
    name: 'cta',
    variants: [
      { name: 'control', weight: 50, params: { cta: 'Start' } },
      { name: 'bold', weight: 50, params: { cta: 'Start now' } },
    ],
    goals: ['room-created', 'call-connected'],
  }],
};
const HOST = 'rooms.test';

/** A free loopback TCP port (closed again; nginx binds it right after). */
function freePort() {
  return new Promise((res, rej) => {
    const s = net.createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
}

/** docs/deploy/nginx.conf with its BEGIN/END blocks replaced. */
function siteConfig(nodePorts, listenPort) {
  const shipped = readFileSync(join(REPO_ROOT, 'docs', 'deploy', 'nginx.conf'), 'utf8');
  const nodes = nodePorts.map((p) => `    server 127.0.0.1:${p} max_fails=1 fail_timeout=10s;`).join('\n');
  let out = shipped.replace(/^[ \t]*# BEGIN nodes[^\n]*\n[\s\S]*?^[ \t]*# END nodes[^\n]*$/gm, nodes);
  out = out.replace(/^[ \t]*# BEGIN site[^\n]*\n[\s\S]*?^[ \t]*# END site[^\n]*$/m,
    `    listen 127.0.0.1:${listenPort};\n    access_log off;`);
  assert.equal((out.match(/server 127\.0\.0\.1:/g) || []).length, 2 * nodePorts.length, 'both upstreams rewritten');
  assert.ok(!/ssl_certificate|listen 443/.test(out), 'the TLS listener was replaced');
  return out;
}

class Nginx {
  async start(nodePorts) {
    this.prefix = mkdtempSync(join(tmpdir(), 'xroom-nginx-'));
    chmodSync(this.prefix, 0o755); // workers (nobody) may need to traverse it
    mkdirSync(join(this.prefix, 'tmp'));
    this.port = await freePort();
    writeFileSync(join(this.prefix, 'xroom.conf'), siteConfig(nodePorts, this.port));
    const p = this.prefix;
    writeFileSync(join(p, 'nginx.conf'), `
worker_processes 1;
pid ${p}/nginx.pid;
error_log ${p}/error.log warn;
events { worker_connections 2048; }
http {
  client_body_temp_path ${p}/tmp/body;
  proxy_temp_path ${p}/tmp/proxy;
  fastcgi_temp_path ${p}/tmp/fastcgi;
  uwsgi_temp_path ${p}/tmp/uwsgi;
  scgi_temp_path ${p}/tmp/scgi;
  include ${p}/xroom.conf;
}
`);
    const t = spawnSync(NGINX, ['-t', '-p', p, '-c', join(p, 'nginx.conf'), '-e', join(p, 'error.log')], { encoding: 'utf8' });
    assert.equal(t.status, 0, `nginx -t:\n${t.stderr}`);
    this.proc = spawn(NGINX, ['-p', p, '-c', join(p, 'nginx.conf'), '-e', join(p, 'error.log'),
      '-g', 'daemon off;'], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.stderr = '';
    this.proc.stderr.on('data', (s) => { this.stderr += s; });
    this.exited = new Promise((res) => this.proc.on('exit', res));
    await waitFor(() => new Promise((res) => {
      const s = net.connect(this.port, '127.0.0.1', () => { s.destroy(); res(true); });
      s.on('error', () => res(false));
    }), { timeout: 5000, what: 'nginx to listen' });
  }

  async stop() {
    if (this.proc && this.proc.exitCode === null) {
      this.proc.kill('SIGQUIT');
      await withTimeout(this.exited, 5000, 'nginx stop').catch(() => this.proc.kill('SIGKILL'));
    }
    if (this.prefix) rmSync(this.prefix, { recursive: true, force: true });
  }
}

const backoff = (attempt) => {
  const exp = Math.min(10000, 500 * 2 ** attempt); // as web/js/signaling.js
  return Math.round(exp / 2 + Math.random() * (exp / 2));
};

/**
 * A peer as the web client behaves: connects through nginx, joins with the
 * room's auth, and when the socket drops (not by its own close) reconnects
 * with backoff and joins again. Tracks the ids of the other peers.
 */
class Peer {
  constructor(port, room, auth) {
    Object.assign(this, { port, room, auth });
    this.others = new Set();
    this.got = [];
    this.closing = false;
    this.joins = 0;
    this.attempt = 0;
    this.onChange = () => {};
  }

  connect() {
    return new Promise((res) => {
      const ws = new WebSocket(`ws://127.0.0.1:${this.port}/ws/${this.room}`, [SUBPROTOCOL],
        { perMessageDeflate: false, handshakeTimeout: 5000 });
      this.ws = ws;
      let welcomed = false;
      ws.on('open', () => ws.send(JSON.stringify({ type: 'join', auth: this.auth })));
      ws.on('message', (raw) => {
        const m = JSON.parse(raw.toString());
        if (m.type === 'welcome') {
          welcomed = true;
          this.id = m.id;
          this.others = new Set(m.peers);
          this.joins += 1;
          this.attempt = 0;
          this.joinedAt = Date.now();
          res();
        } else if (m.type === 'peer-joined') this.others.add(m.id);
        else if (m.type === 'peer-left') this.others.delete(m.id);
        else if (m.type === 'signal') this.got.push(m);
        else if (m.type === 'error') this.lastError = m.code;
        this.onChange();
      });
      ws.on('error', () => {});
      ws.on('close', (code) => {
        this.closeCode = code;
        if (this.ws !== ws) return;
        this.ws = null;
        this.others.clear();
        if (!this.closing) {
          this.droppedAt ??= Date.now();
          setTimeout(() => this.connect().then(() => {}), backoff(this.attempt++));
        }
        if (!welcomed) res();
        this.onChange();
      });
    });
  }

  send(to, data) { this.ws.send(JSON.stringify({ type: 'signal', to, data })); }

  close() {
    this.closing = true;
    this.ws?.close(1000);
  }
}

/** Admin GET on one node. */
function adminGet(d, path) {
  return new Promise((res, rej) => {
    http.get({ host: '127.0.0.1', port: d.port, path, agent: false,
      headers: { Authorization: `Bearer ${TOKEN}`, Connection: 'close' } }, (r) => {
      let b = '';
      r.on('data', (c) => { b += c; });
      r.on('end', () => (r.statusCode === 200 ? res(JSON.parse(b)) : rej(new Error(`${path}: ${r.statusCode} ${b}`))));
    }).on('error', rej);
  });
}

/** room id -> [{node index, peers}] over every running node. */
async function placement(nodes) {
  const where = new Map();
  for (const [i, d] of nodes.entries()) {
    if (!d.running) continue;
    for (const r of await adminGet(d, '/api/rooms')) {
      if (!where.has(r.id)) where.set(r.id, []);
      where.get(r.id).push({ node: i, peers: r.peers });
    }
  }
  return where;
}

/** Every peer sends one signal to each other peer of its room; all must arrive. */
async function relayAll(rooms) {
  const tag = randomBytes(4).toString('hex');
  const before = new Map(rooms.flat().map((p) => [p, p.got.length]));
  const t0 = Date.now();
  let sent = 0;
  for (const peers of rooms) {
    for (const p of peers) {
      for (const q of peers) {
        if (p === q) continue;
        p.send(q.id, { tag, from: p.id, to: q.id });
        sent += 1;
      }
    }
  }
  const arrived = () => rooms.flat().reduce((n, p) =>
    n + p.got.slice(before.get(p)).filter((m) => m.data.tag === tag).length, 0);
  await waitFor(() => arrived() === sent, { timeout: 10000, what: `${sent} relays (got ${arrived()})` });
  for (const p of rooms.flat()) {
    for (const m of p.got.slice(before.get(p)).filter((x) => x.data.tag === tag)) {
      assert.equal(m.data.to, p.id, 'delivered to its addressee');
      assert.equal(m.from, m.data.from, 'from the right sender');
    }
  }
  return { sent, ms: Date.now() - t0 };
}

/** Every room has all its peers, and each sees the others by their current ids. */
function complete(peers) {
  return peers.every((p) => p.ws && p.id && p.others.size === peers.length - 1 &&
    peers.every((q) => q === p || p.others.has(q.id)));
}

// A/B visitors: 40 source addresses x 2 User-Agents (so that many share a
// User-Agent and only their address tells them apart), some reloads and
// conversions that do not depend on the variant shown.
const VISITORS = Array.from({ length: 80 }, (_, i) => ({
  local: `127.0.0.${20 + (i % 40)}`,
  ua: i < 40 ? 'Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0' : 'Mozilla/5.0 (X11; Linux x86_64) Chrome/156.0',
  i,
}));

function hit(port, { method = 'GET', path, ua, local, body }) {
  return new Promise((res, rej) => {
    const headers = { Host: HOST, 'User-Agent': ua, Connection: 'close' };
    if (body) headers['Content-Length'] = Buffer.byteLength(body);
    const req = http.request({ host: '127.0.0.1', port, method, path, headers, localAddress: local, agent: false }, (r) => {
      r.resume();
      r.on('end', () => res(r.statusCode));
    });
    req.on('error', rej);
    if (body) req.write(body);
    req.end();
  });
}

async function runVisitors(port) {
  for (const v of VISITORS) {
    assert.equal(await hit(port, { path: '/api/session', ...v }), 200);
    if (v.i % 5 === 0) assert.equal(await hit(port, { path: '/api/session', ...v }), 200); // a reload
    if (v.i % 3 === 0) {
      assert.equal(await hit(port, { method: 'POST', path: '/api/events', body: '{"event":"room-created"}', ...v }), 204);
    }
    if (v.i % 4 === 0) {
      for (let k = 0; k < 2; k++) {
        assert.equal(await hit(port, { method: 'POST', path: '/api/events', body: '{"event":"call-connected"}', ...v }), 204);
      }
    }
  }
}

/** Totals of a report: visitors and conversions per goal, over variants and days. */
function totals(report) {
  const e = report.experiments.find((x) => x.name === 'cta');
  const out = { visitors: 0, 'room-created': 0, 'call-connected': 0 };
  for (const v of e.variants) {
    out.visitors += v.visitors;
    for (const g of ['room-created', 'call-connected']) out[g] += v.goals[g]?.conversions ?? 0;
  }
  return out;
}

// ---------------------------------------------------------------------------

describe('three nodes behind nginx', { skip: !NGINX && !REQUIRE ? 'nginx not installed (apt-get install nginx)' : false }, () => {
  const nodes = [];
  let nginx;
  let rooms;
  const work = mkdtempSync(join(tmpdir(), 'xroom-cluster-'));

  before(async () => {
    assert.ok(NGINX, 'nginx is required here (XROOM_REQUIRE_NGINX=1): apt-get install nginx');
    for (let i = 0; i < 3; i++) nodes.push(await startDaemon(CONFIG));
    nginx = new Nginx();
    await nginx.start(nodes.map((d) => d.port));
  });

  after(async () => {
    for (const p of (rooms || []).flat()) p.close();
    await nginx?.stop();
    for (const d of nodes) await d.stop();
    rmSync(work, { recursive: true, force: true });
  });

  test(`${ROOMS} rooms x ${PEERS} peers: each room whole on one node, every relay arrives`, async (t) => {
    const t0 = Date.now();
    rooms = [];
    for (let r = 0; r < ROOMS; r++) {
      const id = roomId();
      const auth = randomBytes(16).toString('base64url');
      rooms.push(Array.from({ length: PEERS }, () => new Peer(nginx.port, id, auth)));
    }
    await Promise.all(rooms.map(async (peers) => {
      for (const p of peers) await p.connect(); // in order, as people arrive
    }));
    await waitFor(() => rooms.every(complete), { timeout: 10000, what: 'every room complete' });
    const joinMs = Date.now() - t0;

    const where = await placement(nodes);
    const perNode = [0, 0, 0];
    for (const peers of rooms) {
      const w = where.get(peers[0].room);
      assert.equal(w?.length, 1, `room on exactly one node: ${JSON.stringify(w)}`);
      assert.equal(w[0].peers, PEERS);
      perNode[w[0].node] += 1;
    }
    assert.ok(perNode.filter((n) => n > 0).length >= 2, `rooms spread over the nodes: ${perNode}`);
    for (const [i, d] of nodes.entries()) {
      const h = JSON.parse(await new Promise((res) => http.get(d.url('/healthz'), (r) => {
        let b = '';
        r.on('data', (c) => { b += c; });
        r.on('end', () => res(b));
      })));
      assert.equal(h.rooms, perNode[i]);
      assert.equal(h.peers, perNode[i] * PEERS);
    }
    const relay = await relayAll(rooms);
    t.diagnostic(`joined ${ROOMS * PEERS} peers in ${joinMs} ms; rooms per node ${perNode.join('/')}; ` +
      `${relay.sent} relays in ${relay.ms} ms`);
  });

  test('a /ws/ path containing % is refused with 400 bad-room by the shipped nginx (no node sees it)', async () => {
    const before = await Promise.all(nodes.map((d) => healthz(d)));
    // Malformed escapes (/ws/%, /ws/%zz) never reach a location: nginx
    // answers them with its own 400 page; they are refused all the same.
    const malformed = ['%', 'abc%', '%zz'];
    for (const id of ['%41bc', 'abc%2D', '%61%62%63', '%2Fabc', '%25', 'ab%20c', ...malformed]) {
      const r = await new Promise((res, rej) => {
        const req = http.get({
          host: '127.0.0.1', port: nginx.port, path: `/ws/${id}`,
          headers: {
            Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13',
            'Sec-WebSocket-Key': randomBytes(16).toString('base64'), 'Sec-WebSocket-Protocol': 'xroom.v1',
          },
        }, (resp) => {
          let b = '';
          resp.on('data', (c) => { b += c; });
          resp.on('end', () => res({ status: resp.statusCode, type: resp.headers['content-type'], text: b }));
        });
        req.on('upgrade', () => rej(new Error(`/ws/${id} was upgraded`)));
        req.on('error', rej);
      });
      assert.equal(r.status, 400, `/ws/${id}: ${r.status} ${r.text}`);
      if (malformed.includes(id)) continue;
      assert.match(r.type ?? '', /^application\/json\b/, `/ws/${id}: ${r.type} ${r.text.slice(0, 80)}`);
      assert.equal(JSON.parse(r.text).error, 'bad-room', `/ws/${id}`);
    }
    const after = await Promise.all(nodes.map((d) => healthz(d)));
    assert.deepEqual(after.map((h) => h.peers), before.map((h) => h.peers), 'no node took a connection');
  });

  test('A/B visits through nginx: each visitor stays on one node', async () => {
    await runVisitors(nginx.port);
    const counts = [];
    for (const d of nodes) {
      const c = await adminGet(d, '/api/experiments/counters');
      counts.push(c.counters.filter((r) => r[2] === '').reduce((n, r) => n + r[4], 0));
    }
    assert.ok(counts.filter((n) => n > 0).length >= 2, `visitors spread over the nodes: ${counts}`);
  });

  test('a node stops: its rooms move to the others, whole, and relay again', async (t) => {
    const where = await placement(nodes);
    const count = nodes.map((_, i) => [...where.values()].filter((w) => w[0].node === i).length);
    const victim = count.indexOf(Math.max(...count));
    const moved = rooms.filter((peers) => where.get(peers[0].room)[0].node === victim);
    const stayed = rooms.filter((peers) => !moved.includes(peers));
    const stayedIds = new Map(stayed.flat().map((p) => [p, p.id]));
    const t0 = Date.now();
    nodes[victim].signal('SIGTERM');
    const exit = await nodes[victim].waitExit();
    assert.deepEqual(exit, { code: 0, signal: null }, nodes[victim].stderr);
    // the stopped node's counters, as it saved them
    writeFileSync(join(work, 'stopped-node.json'), readFileSync(join(nodes[victim].stateDir, 'experiments.json')));

    await waitFor(() => moved.every(complete), { timeout: 20000, interval: 20, what: 'the moved rooms to be whole again' });
    const rejoinMs = Date.now() - t0;
    const perClient = moved.flat().map((p) => p.joinedAt - p.droppedAt).sort((a, b) => a - b);
    for (const p of moved.flat()) assert.equal(p.closeCode === 1001 || p.joins >= 2, true);
    assert.ok(moved.flat().every((p) => p.joins === 2), 'each moved peer joined exactly once more');
    // the other rooms never noticed
    for (const [p, id] of stayedIds) assert.equal(p.id, id, 'a peer of another node kept its session');

    const after2 = await placement(nodes);
    const perNode = [0, 0, 0];
    for (const peers of rooms) {
      const w = after2.get(peers[0].room);
      assert.equal(w?.length, 1, `room on exactly one node after the move: ${JSON.stringify(w)}`);
      assert.notEqual(w[0].node, victim);
      assert.equal(w[0].peers, PEERS);
      perNode[w[0].node] += 1;
    }
    const relay = await relayAll(rooms);
    const median = perClient[Math.floor(perClient.length / 2)];
    t.diagnostic(`stopped node ${victim} with ${moved.length} rooms (${moved.length * PEERS} peers); ` +
      `all whole again ${rejoinMs} ms after SIGTERM; per client drop-to-welcome median ${median} ms, ` +
      `max ${perClient[perClient.length - 1]} ms; rooms per node now ${perNode.join('/')}; ` +
      `${relay.sent} relays in ${relay.ms} ms`);
  });

  test('merged A/B counters equal what one node counts for the same visitors', async (t) => {
    const files = [join(work, 'stopped-node.json')];
    for (const [i, d] of nodes.entries()) {
      if (!d.running) continue;
      const f = join(work, `node-${i}.json`);
      writeFileSync(f, JSON.stringify(await adminGet(d, '/api/experiments/counters')));
      files.push(f);
    }
    writeFileSync(join(work, 'config.json'), JSON.stringify(CONFIG));
    const r = runCli(['--merge-report', '--config', join(work, 'config.json'), ...files]);
    assert.equal(r.code, 0, r.output);
    const merged = JSON.parse(r.stdout);

    const single = await startDaemon(CONFIG);
    try {
      await runVisitors(single.port);
      const one = await adminGet(single, '/api/experiments');
      assert.deepEqual(totals(merged), totals(one));
      assert.equal(totals(one).visitors, VISITORS.length);
      t.diagnostic(`merged from ${files.length} nodes: ${JSON.stringify(totals(merged))}; ` +
        `one node: ${JSON.stringify(totals(one))}`);
    } finally {
      await single.stop();
    }
    assert.ok(XROOMD);
  });
});

process.on('exit', () => { void sleep; });
