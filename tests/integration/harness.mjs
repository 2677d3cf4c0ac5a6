// Black-box harness for xroomd integration tests: starts daemons on free
// ports with their own config and state directory, opens WebSocket clients
// with a message queue and deadlines, and speaks raw HTTP so that tests can
// set Host/Origin and read every response header.

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';

export { WebSocket, sleep };

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const XROOMD = process.env.XROOMD || join(REPO_ROOT, 'build', 'xroomd');
export const WEB_ROOT = join(REPO_ROOT, 'web');
export const SUBPROTOCOL = 'xroom.v1';

/** A peer id as the server hands it out: 16 characters of base64url. */
export const PEER_ID_RE = /^[A-Za-z0-9_-]{16}$/;
const LISTEN_RE = /listening on (https?):\/\/([^/\s]+)\//;

/** Limits loose enough that only tests that mean to hit them do. */
export const BASE_CONFIG = Object.freeze({
  limits: { messages_per_second: 10000, message_burst: 100000 },
});

const live = new Set();
process.on('exit', () => {
  for (const d of live) {
    try { d.proc.kill('SIGKILL'); } catch { /* already gone */ }
  }
});

function isPlainObject(v) {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Deep merge of plain objects; arrays and scalars of `b` replace those of `a`. */
export function deepMerge(a, b) {
  if (!isPlainObject(a) || !isPlainObject(b)) return b === undefined ? a : b;
  const out = { ...a };
  for (const [k, v] of Object.entries(b)) {
    out[k] = k in a ? deepMerge(a[k], v) : v;
  }
  return out;
}

/** A fresh, valid room id (22 characters of base64url, as the web client makes). */
export function roomId() {
  return randomBytes(16).toString('base64url');
}

export class Daemon {
  constructor() {
    this.proc = null;
    this.stderr = '';
    this.stdout = '';
    this.dir = mkdtempSync(join(tmpdir(), 'xroomd-it-'));
    this.configPath = join(this.dir, 'config.json');
    this.stateDir = join(this.dir, 'state');
    this.host = null;
    this.scheme = null;
    this.clients = new Set();
    this.exitInfo = null;
  }

  get port() { return Number(this.host.split(':').pop()); }
  get origin() { return `${this.scheme}://${this.host}`; }
  url(path = '/') { return `${this.origin}${path}`; }
  wsUrl(room) { return `ws://${this.host}/ws/${room}`; }
  get running() { return this.exitInfo === null; }

  /** Replace the config file (the daemon re-reads it on SIGHUP). */
  writeConfig(config, { raw = false } = {}) {
    const text = raw ? config : JSON.stringify(config, null, 2);
    writeFileSync(this.configPath, text);
  }

  signal(sig) { this.proc.kill(sig); }

  /** Resolves with {code, signal} once the process has exited. */
  waitExit(timeoutMs = 10000) {
    return withTimeout(this.exited, timeoutMs, 'daemon did not exit');
  }

  /** Stop the daemon (SIGTERM, then SIGKILL after 5 s) and clean up. */
  async stop() {
    for (const c of this.clients) c.destroy();
    if (this.running) {
      this.proc.kill('SIGTERM');
      const t = setTimeout(() => { if (this.running) this.proc.kill('SIGKILL'); }, 5000);
      await this.exited;
      clearTimeout(t);
    }
    live.delete(this);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * Start xroomd with `config` (merged over BASE_CONFIG unless opts.raw) on a
 * free loopback port, its own state dir and the repo's web root.
 * opts.args: extra arguments; opts.rawConfig: exact config file text;
 * opts.env: variables added to (or overriding) the daemon's environment,
 * which is otherwise this process's own.
 */
export async function startDaemon(config = {}, opts = {}) {
  if (!existsSync(XROOMD)) {
    throw new Error(`xroomd binary not found at ${XROOMD} (set XROOMD or build it)`);
  }
  const d = new Daemon();
  if (opts.rawConfig !== undefined) d.writeConfig(opts.rawConfig, { raw: true });
  else d.writeConfig(opts.raw ? config : deepMerge(BASE_CONFIG, config));
  const args = [
    '--config', d.configPath,
    '--listen', '127.0.0.1:0',
    '--web-root', WEB_ROOT,
    '--state-dir', d.stateDir,
    ...(opts.args || []),
  ];
  d.proc = spawn(XROOMD, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(opts.env ? { env: { ...process.env, ...opts.env } } : {}),
  });
  live.add(d);
  d.exited = new Promise((res) => {
    d.proc.on('exit', (code, signal) => {
      d.exitInfo = { code, signal };
      live.delete(d);
      res(d.exitInfo);
    });
  });
  d.proc.stdout.setEncoding('utf8');
  d.proc.stdout.on('data', (s) => { d.stdout += s; });
  d.proc.stderr.setEncoding('utf8');
  await new Promise((res, rej) => {
    const timer = setTimeout(() => {
      rej(new Error(`xroomd did not report its listen address within 10 s; stderr:\n${d.stderr}`));
    }, 10000);
    const onData = (s) => {
      d.stderr += s;
      if (d.host) return;
      const m = LISTEN_RE.exec(d.stderr);
      if (m) {
        d.scheme = m[1];
        d.host = m[2];
        clearTimeout(timer);
        res();
      }
    };
    d.proc.stderr.on('data', onData);
    d.exited.then((info) => {
      if (d.host) return;
      clearTimeout(timer);
      rej(new Error(`xroomd exited (${JSON.stringify(info)}) before listening; stderr:\n${d.stderr}`));
    });
  });
  return d;
}

export function withTimeout(promise, ms, what) {
  let t;
  return Promise.race([
    promise,
    new Promise((_, rej) => { t = setTimeout(() => rej(new Error(`timeout after ${ms} ms: ${what}`)), ms); }),
  ]).finally(() => clearTimeout(t));
}

/** Poll `fn` until it returns a truthy value; return that value. */
export async function waitFor(fn, { timeout = 3000, interval = 50, what = 'condition' } = {}) {
  const end = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) {
      throw new Error(`timeout after ${timeout} ms waiting for ${what}; last: ${last instanceof Error ? last.message : JSON.stringify(last)}`);
    }
    await sleep(interval);
  }
}

// ---------------------------------------------------------------------------
// WebSocket clients

export class Client {
  constructor(ws, daemon) {
    this.ws = ws;
    this.daemon = daemon;
    this.queue = [];      // {msg, raw, binary}
    this.waiters = [];
    this.pings = 0;
    this.id = null;
    this.welcome = null;
    this.upgradeHeaders = null;
    this.openedAt = Date.now();
    this.closeInfo = null;
    this.closed = new Promise((res) => {
      ws.on('close', (code, reason) => {
        this.closeInfo = { code, reason: reason.toString(), at: Date.now() };
        res(this.closeInfo);
        this._wake();
      });
    });
    ws.on('error', () => { /* reported through close */ });
    ws.on('ping', () => { this.pings += 1; });
    ws.on('message', (data, isBinary) => {
      const raw = Buffer.isBuffer(data) ? data : Buffer.concat([].concat(data));
      let msg;
      if (isBinary) msg = { _binary: raw };
      else {
        try { msg = JSON.parse(raw.toString('utf8')); } catch { msg = { _unparsable: raw.toString('utf8') }; }
      }
      this.queue.push({ msg, raw, binary: isBinary });
      this._wake();
    });
    daemon?.clients.add(this);
  }

  _wake() {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  get isOpen() { return this.ws.readyState === WebSocket.OPEN; }

  send(obj) { this.ws.send(JSON.stringify(obj)); }

  /** Send a text frame with exactly these bytes (no UTF-8 check on our side). */
  sendText(data, opts = {}) {
    this.ws.send(typeof data === 'string' ? Buffer.from(data, 'utf8') : data, { binary: false, ...opts });
  }

  sendBinary(buf) { this.ws.send(buf, { binary: true }); }

  /** Next queued entry {msg, raw}; rejects on timeout or when the socket closed with nothing queued. */
  async nextEntry(timeout = 3000) {
    const end = Date.now() + timeout;
    for (;;) {
      if (this.queue.length) return this.queue.shift();
      if (this.closeInfo) {
        throw new Error(`socket closed (${this.closeInfo.code} ${this.closeInfo.reason}) while waiting for a message`);
      }
      const left = end - Date.now();
      if (left <= 0) throw new Error(`no message within ${timeout} ms`);
      await new Promise((res) => {
        const t = setTimeout(res, left);
        this.waiters.push(() => { clearTimeout(t); res(); });
      });
    }
  }

  async next(timeout = 3000) { return (await this.nextEntry(timeout)).msg; }

  /** Next message; it must be of `type` (assertion error otherwise). */
  async expect(type, timeout = 3000) {
    const m = await this.next(timeout);
    if (m.type !== type) {
      throw new Error(`expected a ${type} message, got ${JSON.stringify(m)}`);
    }
    return m;
  }

  /** Next message must be {type:"error", code}. */
  async expectError(code, timeout = 3000) {
    const m = await this.expect('error', timeout);
    if (m.code !== code) throw new Error(`expected error ${code}, got ${JSON.stringify(m)}`);
    if (typeof m.message !== 'string') throw new Error(`error without a string message: ${JSON.stringify(m)}`);
    return m;
  }

  /** Skip messages until one of `type` arrives (the skipped ones are returned too). */
  async until(type, timeout = 3000) {
    const end = Date.now() + timeout;
    const skipped = [];
    for (;;) {
      const m = await this.next(Math.max(1, end - Date.now()));
      if (m.type === type) return { msg: m, skipped };
      skipped.push(m);
    }
  }

  /** Assert nothing arrives for `ms`. */
  async expectSilence(ms = 300) {
    await sleep(ms);
    if (this.queue.length) {
      throw new Error(`unexpected message(s): ${this.queue.map((e) => JSON.stringify(e.msg)).join(', ')}`);
    }
  }

  /** Resolve with {code, reason} once closed; rejects after `timeout`. */
  waitClose(timeout = 3000) {
    return withTimeout(this.closed, timeout, 'socket close');
  }

  /** Send a ping with a fresh id and wait for its pong: everything before it is returned. */
  async sync(timeout = 3000) {
    const id = `sync-${randomBytes(6).toString('hex')}`;
    this.send({ type: 'ping', id });
    const before = [];
    const end = Date.now() + timeout;
    for (;;) {
      const m = await this.next(Math.max(1, end - Date.now()));
      if (m.type === 'pong' && m.id === id) return before;
      before.push(m);
    }
  }

  async join(auth) {
    this.send(auth === undefined ? { type: 'join' } : { type: 'join', auth });
    const m = await this.next();
    if (m.type !== 'welcome') throw new Error(`expected welcome, got ${JSON.stringify(m)}`);
    this.welcome = m;
    this.id = m.id;
    return m;
  }

  close(code = 1000) { try { this.ws.close(code); } catch { /* ignore */ } }

  /** Drop the TCP connection without a close frame. */
  destroy() { try { this.ws.terminate(); } catch { /* ignore */ } }
}

/**
 * Open a WebSocket to /ws/<room>. opts: protocols (default [xroom.v1]; null
 * for none), headers, autoPong, path (overrides /ws/<room>), origin,
 * localAddress (the source address, e.g. 127.0.0.77).
 * Rejects with err.response = {status, headers, body} if the upgrade is refused.
 */
export function connect(daemon, room, opts = {}) {
  const protocols = opts.protocols === undefined ? [SUBPROTOCOL] : opts.protocols;
  const url = opts.path ? `ws://${daemon.host}${opts.path}` : daemon.wsUrl(room);
  const wsOpts = {
    autoPong: opts.autoPong ?? true,
    perMessageDeflate: opts.perMessageDeflate ?? false,
    headers: opts.headers || {},
    handshakeTimeout: 5000,
    maxPayload: 256 * 1024 * 1024,
  };
  if (opts.origin) wsOpts.origin = opts.origin;
  if (opts.localAddress) wsOpts.localAddress = opts.localAddress;
  const ws = protocols ? new WebSocket(url, protocols, wsOpts) : new WebSocket(url, wsOpts);
  const client = new Client(ws, daemon);
  return new Promise((res, rej) => {
    ws.on('upgrade', (resp) => { client.upgradeHeaders = resp.headers; });
    ws.once('open', () => res(client));
    ws.once('unexpected-response', (req, resp) => {
      const chunks = [];
      resp.on('data', (c) => chunks.push(c));
      resp.on('end', () => {
        const err = new Error(`upgrade refused: HTTP ${resp.statusCode}`);
        err.response = { status: resp.statusCode, headers: resp.headers, body: Buffer.concat(chunks).toString('utf8') };
        req.destroy();
        rej(err);
      });
      resp.on('error', () => {});
    });
    ws.once('error', (e) => rej(e));
  });
}

/** Connect and join; returns the client with .id and .welcome set. */
export async function joinPeer(daemon, room, auth, opts = {}) {
  const c = await connect(daemon, room, opts);
  await c.join(auth);
  return c;
}

/**
 * Connect and join where a refusal is possible. Returns
 * {client, welcome} on success, or {client, error, close} if an error
 * followed by a close came back, or {refused: response} if the upgrade was
 * refused over HTTP.
 */
export async function tryJoin(daemon, room, auth, opts = {}) {
  let c;
  try {
    c = await connect(daemon, room, opts);
  } catch (e) {
    if (e.response) return { refused: e.response };
    throw e;
  }
  c.send(auth === undefined ? { type: 'join' } : { type: 'join', auth });
  let m;
  try {
    m = await c.next(3000);
  } catch (e) {
    if (c.closeInfo) return { client: c, error: null, close: c.closeInfo };
    throw e;
  }
  if (m.type === 'welcome') {
    c.welcome = m;
    c.id = m.id;
    return { client: c, welcome: m };
  }
  const close = await c.waitClose(3000).catch(() => null);
  return { client: c, error: m, close };
}

/** The signal envelope as raw text with `dataText` inserted verbatim. */
export function signalText(to, dataText) {
  return `{"type":"signal","to":${JSON.stringify(to)},"data":${dataText}}`;
}

// ---------------------------------------------------------------------------
// HTTP

/**
 * One HTTP request with full control over headers (Host, Origin, ...).
 * Returns {status, headers, rawHeaders, body: Buffer, text, json()}.
 */
export function request(daemon, { method = 'GET', path = '/', headers = {}, body } = {}) {
  return new Promise((res, rej) => {
    const req = http.request({
      host: '127.0.0.1',
      port: daemon.port,
      method,
      path,
      headers: { Connection: 'close', ...headers },
      agent: false,
      setHost: !Object.keys(headers).some((h) => h.toLowerCase() === 'host'),
    }, (resp) => {
      const chunks = [];
      resp.on('data', (c) => chunks.push(c));
      resp.on('end', () => {
        const buf = Buffer.concat(chunks);
        res({
          status: resp.statusCode,
          headers: resp.headers,
          rawHeaders: resp.rawHeaders,
          body: buf,
          text: buf.toString('utf8'),
          json() { return JSON.parse(buf.toString('utf8')); },
        });
      });
      resp.on('error', rej);
    });
    req.setTimeout(5000, () => req.destroy(new Error(`HTTP ${method} ${path} timed out`)));
    req.on('error', rej);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

/**
 * A raw WebSocket upgrade request. Returns {status, headers, body, upgraded}.
 * A 101 is reported as {status: 101, upgraded: true, headers} and the socket destroyed.
 */
export function upgradeRequest(daemon, path, headers = {}) {
  return new Promise((res, rej) => {
    const req = http.request({
      host: '127.0.0.1',
      port: daemon.port,
      path,
      agent: false,
      setHost: !Object.keys(headers).some((h) => h.toLowerCase() === 'host'),
      headers: {
        Connection: 'Upgrade',
        Upgrade: 'websocket',
        'Sec-WebSocket-Key': randomBytes(16).toString('base64'),
        'Sec-WebSocket-Version': '13',
        ...headers,
      },
    });
    req.setTimeout(5000, () => req.destroy(new Error(`upgrade ${path} timed out`)));
    req.on('upgrade', (resp, socket) => {
      socket.destroy();
      res({ status: resp.statusCode, headers: resp.headers, body: Buffer.alloc(0), text: '', upgraded: true });
    });
    req.on('response', (resp) => {
      const chunks = [];
      resp.on('data', (c) => chunks.push(c));
      resp.on('end', () => {
        const buf = Buffer.concat(chunks);
        res({ status: resp.statusCode, headers: resp.headers, body: buf, text: buf.toString('utf8'), upgraded: false });
      });
      resp.on('error', rej);
    });
    req.on('error', rej);
    req.end();
  });
}

export async function healthz(daemon) {
  const r = await request(daemon, { path: '/healthz' });
  if (r.status !== 200) throw new Error(`/healthz answered ${r.status}: ${r.text}`);
  return r.json();
}

/**
 * Parse Prometheus text format: {samples: Map("name{labels}" -> number),
 * help: Set(name), type: Map(name -> type)}. Labels are kept as written.
 */
export function parseMetrics(text) {
  const samples = new Map();
  const help = new Set();
  const type = new Map();
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    let m;
    if ((m = /^#\s*HELP\s+(\S+)/.exec(line))) { help.add(m[1]); continue; }
    if ((m = /^#\s*TYPE\s+(\S+)\s+(\S+)/.exec(line))) { type.set(m[1], m[2]); continue; }
    if (line.startsWith('#')) continue;
    m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)(\s+\S+)?$/.exec(line);
    if (!m) throw new Error(`unparsable metrics line: ${line}`);
    samples.set(m[1] + normLabels(m[2] || ''), Number(m[3]));
  }
  return { samples, help, type };
}

function normLabels(s) {
  if (!s || s === '{}') return '';
  const inner = s.slice(1, -1);
  const parts = [];
  const re = /\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*,?/g;
  let m;
  while ((m = re.exec(inner))) parts.push(`${m[1]}="${m[2]}"`);
  parts.sort();
  return `{${parts.join(',')}}`;
}

export async function metrics(daemon) {
  const r = await request(daemon, { path: '/metrics' });
  if (r.status !== 200) throw new Error(`/metrics answered ${r.status}: ${r.text}`);
  const p = parseMetrics(r.text);
  p.get = (name, labels) => {
    const key = name + normLabels(labels ? `{${Object.entries(labels).map(([k, v]) => `${k}="${v}"`).join(',')}}` : '');
    return p.samples.get(key);
  };
  p.response = r;
  return p;
}

// ---------------------------------------------------------------------------
// The command line, for --check-config, --version and --help.

export function runCli(args, { timeout = 10000 } = {}) {
  const r = spawnSync(XROOMD, args, { encoding: 'utf8', timeout });
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr, output: `${r.stdout}${r.stderr}` };
}

/** Write `text` to a temp file and return its path (removed at exit). */
export function tempFile(text, name = 'config.json') {
  const dir = mkdtempSync(join(tmpdir(), 'xroomd-cfg-'));
  const p = join(dir, name);
  writeFileSync(p, text);
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  return p;
}
