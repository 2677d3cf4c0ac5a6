// Abuse suite (issue 7, robustness): hostile clients on raw sockets against
// the real daemon, each answered as protocol.md says, WHILE a control room on
// the same daemon keeps relaying: two joined peers, driven from a worker
// thread (so the abuse in this thread cannot delay them), exchange
// sequence-numbered signals every 5 ms; at the end of every case no message
// may be lost, duplicated or reordered and the worst relay latency must stay
// under CONTROL_MAX_LATENCY_MS. The latency is taken net of the times the
// measuring thread itself was not scheduled (a loaded 2-core machine stalls
// it for tens of ms; the raw worst is reported too). Each case reports its
// figures through t.diagnostic; ABUSE_REPORT=<file> writes them as JSON.
//
// Four daemons run side by side to keep the wall time under a minute:
//   main  - frame-level abuse, floods, the never-reading peer, bad Origin,
//           then 10,000 connect/join/close churn with an RSS check;
//   slow  - slowloris headers, silent sockets, slow POST bodies and
//           half-open handshakes (mostly waiting for the daemon's timeouts);
//   pool  - 1,100 slow clients (lws header tables: 4096 since this suite found 1024 too few);
//   limit - max_connections 50, max_rooms 4, max_peers 3.
// Known deviations are `todo` tests: they run and report every time, and
// start passing once the daemon (or lws) is fixed.
// The frame builder, the upgrade and the frame parser are our own (node:net),
// so that masks, RSV bits, opcodes and lengths can be anything.

import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { after, before, describe, test } from 'node:test';
import { Worker } from 'node:worker_threads';
import {
  PEER_ID_RE, SUBPROTOCOL, XROOMD, healthz, metrics, roomId, sleep, startDaemon, waitFor,
} from './harness.mjs';

const IS_ASAN = /asan/i.test(XROOMD);
/** Worst control-room relay latency allowed in any case. The bound is there
 * to catch an attack that blocks or starves the event loop (the relay
 * stops for as long as the attack lasts: seconds), not to time a healthy
 * daemon: the figures are reported for that. It is wide enough for a
 * loaded 2-core machine (250 ms was exceeded there with browsers running
 * beside the suite: 318 ms on a frame case, 416 ms with 1,100 slow
 * clients), and an ASan build does everything several times slower. */
const CONTROL_MAX_LATENCY_MS = IS_ASAN ? 2500 : 1000;
/** The slowest /healthz allowed while slow clients hold the daemon: like
 * the control room's bound, it catches a loop that the attack blocks, not
 * a loaded machine (1.0 to 1.2 s were seen with browsers beside the suite). */
const HEALTHZ_MAX_MS = IS_ASAN ? 5000 : 3000;
const CONTROL_INTERVAL_MS = 5;
const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

const report = {}; // case name -> figures (written to $ABUSE_REPORT at exit)
after(() => {
  if (process.env.ABUSE_REPORT) writeFileSync(process.env.ABUSE_REPORT, JSON.stringify(report, null, 2));
});

// ---------------------------------------------------------------------------
// Frames

const OP = { CONT: 0x0, TEXT: 0x1, BINARY: 0x2, CLOSE: 0x8, PING: 0x9, PONG: 0xa };

/**
 * One WebSocket frame as a client would send it.
 * fin, rsv (3 bits: RSV1 = 4, RSV2 = 2, RSV3 = 1), opcode, payload;
 * mask (default true) with maskKey (4 bytes, random by default);
 * lengthBits (7, 16 or 64: force the length encoding);
 * declaredLength: the length written in the header when it differs from
 * the payload given (to send a header and only the start of a payload).
 */
function frame({
  opcode = OP.TEXT, payload = Buffer.alloc(0), fin = true, rsv = 0, mask = true,
  maskKey, lengthBits, declaredLength,
} = {}) {
  const data = Buffer.isBuffer(payload) ? payload : Buffer.from(payload, 'utf8');
  const len = declaredLength ?? data.length;
  const bits = lengthBits ?? (len < 126 ? 7 : len < 65536 ? 16 : 64);
  let head;
  if (bits === 7) {
    assert.ok(len < 126, '7-bit length must be under 126');
    head = Buffer.alloc(2);
    head[1] = len;
  } else if (bits === 16) {
    assert.ok(len < 65536, '16-bit length must be under 65536');
    head = Buffer.alloc(4);
    head[1] = 126;
    head.writeUInt16BE(len, 2);
  } else {
    head = Buffer.alloc(10);
    head[1] = 127;
    head.writeBigUInt64BE(BigInt(len), 2);
  }
  head[0] = (fin ? 0x80 : 0) | ((rsv & 7) << 4) | (opcode & 0x0f);
  if (!mask) return Buffer.concat([head, data]);
  head[1] |= 0x80;
  const key = maskKey ?? randomBytes(4);
  const body = Buffer.allocUnsafe(data.length);
  for (let i = 0; i < data.length; i++) body[i] = data[i] ^ key[i & 3];
  return Buffer.concat([head, key, body]);
}

const textFrame = (text, opts = {}) => frame({ opcode: OP.TEXT, payload: text, ...opts });

function closeFrame(code = 1000, reason = '') {
  const p = Buffer.alloc(2 + Buffer.byteLength(reason));
  p.writeUInt16BE(code, 0);
  p.write(reason, 2);
  return frame({ opcode: OP.CLOSE, payload: p });
}

// ---------------------------------------------------------------------------
// A raw client: upgrade over net.Socket, then a frame parser for what the
// server sends (which must not be masked).

function upgradeText(d, path, { headers = {}, protocol = SUBPROTOCOL, key, blankLine = true } = {}) {
  const lines = [
    `GET ${path} HTTP/1.1`,
    `Host: ${d.host}`,
    'Upgrade: websocket',
    'Connection: Upgrade',
    `Sec-WebSocket-Key: ${key}`,
    'Sec-WebSocket-Version: 13',
  ];
  if (protocol) lines.push(`Sec-WebSocket-Protocol: ${protocol}`);
  for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
  return `${lines.join('\r\n')}\r\n${blankLine ? '\r\n' : ''}`;
}

class RawWs {
  static maskedFrames = 0; // frames the server masked (RFC 6455: it must not)

  constructor(sock) {
    this.sock = sock;
    this.buf = Buffer.alloc(0);
    this.status = null;      // HTTP status of the upgrade answer
    this.headers = null;
    this.body = Buffer.alloc(0); // body of a refused upgrade
    this.upgraded = false;
    this.msgs = [];          // parsed text messages (JSON, or {_text})
    this.frag = null;        // fragments of a text message in progress
    this.pongs = [];         // payloads of pong frames
    this.pings = 0;
    this.close = null;       // {code, reason, at} from the server's close frame
    this.ended = null;       // time the TCP connection ended
    this.watchers = [];      // pending _until checks
    this.openedAt = Date.now();
    sock.setNoDelay(true);
    sock.on('data', (c) => this._data(c));
    sock.on('error', () => { /* seen as 'close' */ });
    sock.on('close', () => { this.ended = Date.now(); this._wake(); });
  }

  /**
   * Open a TCP connection and send an upgrade for `path`; resolves once the
   * answer's head is in (any status). opts: headers, protocol, connectOnly
   * (send nothing), blankLine (false: leave the request unfinished).
   */
  static open(d, path, opts = {}) {
    const key = randomBytes(16).toString('base64');
    return new Promise((res, rej) => {
      const sock = net.connect({ host: '127.0.0.1', port: d.port });
      const ws = new RawWs(sock);
      ws.key = key;
      const t = setTimeout(() => { sock.destroy(); rej(new Error(`upgrade ${path}: no answer within 5 s`)); }, opts.timeout ?? 5000);
      sock.once('error', (e) => { clearTimeout(t); rej(e); });
      sock.once('connect', () => {
        if (opts.connectOnly) { clearTimeout(t); res(ws); return; }
        sock.write(upgradeText(d, path, { ...opts, key }));
        if (opts.blankLine === false) { clearTimeout(t); res(ws); return; }
        ws._until(() => ws.status !== null || ws.ended, opts.timeout ?? 5000).then(() => {
          clearTimeout(t);
          if (ws.status === null) rej(new Error(`upgrade ${path}: connection ended without an answer`));
          else res(ws);
        }, (e) => { clearTimeout(t); rej(e); });
      });
    });
  }

  /** open() that must end in 101 with the right Sec-WebSocket-Accept. */
  static async upgrade(d, room = roomId(), opts = {}) {
    const ws = await RawWs.open(d, `/ws/${room}`, opts);
    ws.room = room;
    assert.equal(ws.status, 101, `upgrade refused: ${ws.status} ${ws.body}`);
    const accept = createHash('sha1').update(ws.key + WS_GUID).digest('base64');
    assert.equal(ws.headers['sec-websocket-accept'], accept);
    return ws;
  }

  /** upgrade() then join; resolves with the welcome. */
  static async joined(d, room = roomId(), opts = {}) {
    const ws = await RawWs.upgrade(d, room, opts);
    ws.sendText(JSON.stringify({ type: 'join' }));
    ws.welcome = await ws.expect('welcome');
    ws.id = ws.welcome.id;
    return ws;
  }

  _wake() {
    for (const f of this.watchers.slice()) f();
  }

  /** Resolve once pred() holds (checked on every event); reject after ms. */
  _until(pred, ms, what = 'condition') {
    return new Promise((res, rej) => {
      const end = Date.now() + ms;
      let timer;
      const done = () => {
        clearTimeout(timer);
        const i = this.watchers.indexOf(check);
        if (i >= 0) this.watchers.splice(i, 1);
      };
      const check = () => {
        clearTimeout(timer);
        let v;
        try { v = pred(); } catch (e) { done(); rej(e); return; }
        if (v) { done(); res(v); return; }
        const left = end - Date.now();
        if (left <= 0) { done(); rej(new Error(`timeout after ${ms} ms waiting for ${what}`)); return; }
        timer = setTimeout(check, Math.min(left, 250));
      };
      this.watchers.push(check);
      check();
    });
  }

  _data(chunk) {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    if (this.status === null) {
      const i = this.buf.indexOf('\r\n\r\n');
      if (i < 0) return;
      const head = this.buf.subarray(0, i).toString('latin1').split('\r\n');
      this.status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head[0])?.[1] ?? 0);
      this.headers = {};
      for (const l of head.slice(1)) {
        const c = l.indexOf(':');
        if (c > 0) this.headers[l.slice(0, c).trim().toLowerCase()] = l.slice(c + 1).trim();
      }
      this.buf = this.buf.subarray(i + 4);
      this.upgraded = this.status === 101;
    }
    if (!this.upgraded) {
      this.body = Buffer.concat([this.body, this.buf]);
      this.buf = Buffer.alloc(0);
      this._wake();
      return;
    }
    for (;;) {
      if (this.buf.length < 2) break;
      const b0 = this.buf[0], b1 = this.buf[1];
      let len = b1 & 0x7f, off = 2;
      if (len === 126) {
        if (this.buf.length < 4) break;
        len = this.buf.readUInt16BE(2); off = 4;
      } else if (len === 127) {
        if (this.buf.length < 10) break;
        len = Number(this.buf.readBigUInt64BE(2)); off = 10;
      }
      if (b1 & 0x80) { RawWs.maskedFrames++; off += 4; }
      if (this.buf.length < off + len) break;
      const payload = this.buf.subarray(off, off + len);
      this.buf = this.buf.subarray(off + len);
      this._frame(b0 & 0x80, b0 & 0x0f, payload);
    }
    this._wake();
  }

  _frame(fin, opcode, payload) {
    if (opcode === OP.TEXT || opcode === OP.CONT) {
      this.frag = this.frag ? Buffer.concat([this.frag, payload]) : Buffer.from(payload);
      if (!fin) return;
      const text = this.frag.toString('utf8');
      this.frag = null;
      let m;
      try { m = JSON.parse(text); } catch { m = { _text: text }; }
      this.msgs.push(m);
    } else if (opcode === OP.CLOSE) {
      if (!this.close) {
        this.close = {
          code: payload.length >= 2 ? payload.readUInt16BE(0) : 1005,
          reason: payload.subarray(2).toString('utf8'),
          at: Date.now(),
        };
      }
    } else if (opcode === OP.PING) {
      this.pings += 1;
      if (!this.close && !this.sock.destroyed) this.send(frame({ opcode: OP.PONG, payload }));
    } else if (opcode === OP.PONG) {
      this.pongs.push(Buffer.from(payload));
    } else {
      this.msgs.push({ _binary: Buffer.from(payload) });
    }
  }

  get isOpen() { return !this.close && !this.ended; }

  send(buf) {
    if (this.sock.destroyed || this.sock.writableEnded) return false;
    return this.sock.write(buf);
  }

  sendText(text, opts = {}) { return this.send(textFrame(text, opts)); }

  sendJson(obj) { return this.sendText(JSON.stringify(obj)); }

  async next(timeout = 3000) {
    await this._until(() => this.msgs.length || this.close || this.ended, timeout, 'a message');
    if (this.msgs.length) return this.msgs.shift();
    throw new Error(`closed (${this.close ? this.close.code : 'TCP end'}) while waiting for a message`);
  }

  async expect(type, timeout = 3000) {
    const m = await this.next(timeout);
    if (m.type !== type) throw new Error(`expected ${type}, got ${JSON.stringify(m)}`);
    return m;
  }

  async expectError(code, timeout = 3000) {
    const m = await this.expect('error', timeout);
    assert.equal(m.code, code, JSON.stringify(m));
    assert.equal(typeof m.message, 'string');
    return m;
  }

  /** An app-level ping/pong round trip: everything before the pong is returned. */
  async sync(timeout = 3000) {
    const id = `sync-${randomBytes(4).toString('hex')}`;
    this.sendJson({ type: 'ping', id });
    const before = [];
    const end = Date.now() + timeout;
    for (;;) {
      const m = await this.next(Math.max(1, end - Date.now()));
      if (m.type === 'pong' && m.id === id) return before;
      before.push(m);
    }
  }

  /**
   * Wait for the server to close: {code, reason, at, frame: true} from its
   * close frame, or code 1006 if the TCP connection ended without one. A
   * close frame is answered (as a client must) and the socket ended.
   */
  async waitClose(timeout = 3000) {
    await this._until(() => this.close || this.ended, timeout, 'the server to close');
    if (this.close) {
      if (!this.ended && !this.sock.destroyed && !this.closeAnswered) {
        this.closeAnswered = true;
        this.sock.end(closeFrame(this.close.code === 1005 ? 1000 : this.close.code));
      }
      return { ...this.close, frame: true };
    }
    return { code: 1006, reason: '', at: this.ended, frame: false };
  }

  /** Wait until the TCP connection is gone. */
  async waitEnd(timeout = 3000) {
    await this._until(() => this.ended, timeout, 'the TCP connection to end');
    return this.ended;
  }

  destroy() { this.sock.destroy(); }
}

// ---------------------------------------------------------------------------
// The control room, in a worker thread.

const CONTROL_SRC = `
'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const { performance } = require('node:perf_hooks');
const WebSocket = require(workerData.wsPath);
const { url, intervalMs } = workerData;

function open() {
  return new Promise((res, rej) => {
    const ws = new WebSocket(url, ['xroom.v1'], { perMessageDeflate: false, handshakeTimeout: 5000 });
    const p = { ws, id: null, closed: null, unexpected: [], handlers: [] };
    ws.on('message', (data) => {
      let m;
      try { m = JSON.parse(data.toString()); } catch { m = { _text: data.toString() }; }
      for (const h of p.handlers.slice()) if (h(m)) return;
      p.unexpected.push(m);
    });
    ws.on('close', (code) => { p.closed = { code, at: performance.now() }; });
    ws.on('error', () => {});
    ws.once('open', () => res(p));
    ws.once('error', rej);
  });
}
function first(p, type) {
  return new Promise((res, rej) => {
    const t = setTimeout(() => rej(new Error('control room: no ' + type + ' within 5 s')), 5000);
    const h = (m) => {
      if (m.type !== type) return false;
      clearTimeout(t);
      p.handlers.splice(p.handlers.indexOf(h), 1);
      res(m);
      return true;
    };
    p.handlers.push(h);
  });
}
const mk = () => ({ sent: 0, expect: 0, received: 0, gaps: 0, dup: 0, reorder: 0, sendT: [], recvT: [] });
const st = [mk(), mk()];
// Times this thread itself was not running (timer ticks late): a message
// that arrived meanwhile waited in our socket, not in the daemon.
const stalls = [];
let timer = null, lastTick = 0, maxTickGap = 0, stopping = false;
function stalledWithin(a, b) {
  let sum = 0;
  for (const [x, y] of stalls) sum += Math.max(0, Math.min(b, y) - Math.max(a, x));
  return sum;
}

async function main() {
  const a = await open();
  a.ws.send(JSON.stringify({ type: 'join' }));
  a.id = (await first(a, 'welcome')).id;
  const joinedA = first(a, 'peer-joined');
  const b = await open();
  b.ws.send(JSON.stringify({ type: 'join' }));
  b.id = (await first(b, 'welcome')).id;
  await joinedA;
  const pair = [[a, b], [b, a]];
  pair.forEach(([from, to], dir) => {
    to.handlers.push((m) => {
      if (m.type !== 'signal' || m.from !== from.id || !m.data || typeof m.data.s !== 'number') return false;
      const s = st[dir];
      s.received++;
      s.sendT.push(m.data.t);
      s.recvT.push(performance.now());
      if (m.data.s === s.expect) s.expect++;
      else if (m.data.s > s.expect) { s.gaps += m.data.s - s.expect; s.expect = m.data.s + 1; }
      else if (m.data.s < s.expect) s.reorder++;
      return true;
    });
  });
  lastTick = performance.now();
  timer = setInterval(() => {
    const now = performance.now();
    maxTickGap = Math.max(maxTickGap, now - lastTick);
    if (now - lastTick > intervalMs + 10) stalls.push([lastTick + intervalMs, now]);
    lastTick = now;
    pair.forEach(([from, to], dir) => {
      if (from.ws.readyState !== WebSocket.OPEN) return;
      from.ws.send(JSON.stringify({ type: 'signal', to: to.id, data: { s: st[dir].sent++, t: performance.now() } }));
    });
  }, intervalMs);
  parentPort.postMessage({ type: 'ready', ids: [a.id, b.id] });
  parentPort.on('message', async (cmd) => {
    if (cmd !== 'stop' || stopping) return;
    stopping = true;
    clearInterval(timer);
    const end = performance.now() + 3000;
    while (performance.now() < end && st.some((s) => s.expect < s.sent)) {
      await new Promise((r) => setTimeout(r, 10));
    }
    await new Promise((r) => setTimeout(r, 20)); // anything after the last one would be a duplicate
    const dirs = st.map((s) => {
      const lats = s.recvT.map((r, i) => r - s.sendT[i]);
      const own = s.recvT.map((r, i) => r - s.sendT[i] - stalledWithin(s.sendT[i], r));
      lats.sort((x, y) => x - y);
      const q = (f) => (lats.length ? lats[Math.min(lats.length - 1, Math.floor(f * lats.length))] : null);
      return {
        sent: s.sent, received: s.received, lost: s.gaps + Math.max(0, s.sent - s.expect),
        dup: Math.max(0, s.received - s.sent), reorder: s.reorder,
        max: lats.length ? lats[lats.length - 1] : null, p50: q(0.5), p99: q(0.99),
        maxOwn: own.length ? Math.max(...own) : null,
      };
    });
    const result = {
      type: 'result', dirs,
      sent: dirs[0].sent + dirs[1].sent,
      received: dirs[0].received + dirs[1].received,
      lost: dirs[0].lost + dirs[1].lost,
      dup: dirs[0].dup + dirs[1].dup,
      reorder: dirs[0].reorder + dirs[1].reorder,
      maxLatency: Math.max(dirs[0].max ?? Infinity, dirs[1].max ?? Infinity),
      maxLatencyDaemon: Math.max(dirs[0].maxOwn ?? Infinity, dirs[1].maxOwn ?? Infinity),
      stalledMs: stalls.reduce((a, [x, y]) => a + y - x, 0),
      p99: Math.max(dirs[0].p99 ?? Infinity, dirs[1].p99 ?? Infinity),
      p50: Math.max(dirs[0].p50 ?? Infinity, dirs[1].p50 ?? Infinity),
      maxTickGap,
      closedEarly: [a, b].filter((p) => p.closed).map((p) => p.closed.code),
      unexpected: [...a.unexpected, ...b.unexpected].slice(0, 5),
    };
    for (const p of [a, b]) p.ws.close(1000);
    const cend = performance.now() + 2000;
    while (performance.now() < cend && [a, b].some((p) => !p.closed)) await new Promise((r) => setTimeout(r, 10));
    parentPort.postMessage(result);
  });
}
main().catch((e) => parentPort.postMessage({ type: 'failed', error: String(e && e.stack || e) }));
`;

const WS_PATH = createRequire(import.meta.url).resolve('ws');

/** Start a control room on daemon `d`; resolves once both peers are joined and relaying. */
async function startControl(d) {
  const room = roomId();
  const w = new Worker(CONTROL_SRC, {
    eval: true,
    workerData: { wsPath: WS_PATH, url: d.wsUrl(room), intervalMs: CONTROL_INTERVAL_MS },
  });
  const inbox = [];
  let wake = null;
  w.on('message', (m) => { inbox.push(m); wake?.(); });
  w.on('error', (e) => { inbox.push({ type: 'failed', error: String(e?.stack || e) }); wake?.(); });
  const take = async (type, ms) => {
    const end = Date.now() + ms;
    for (;;) {
      const i = inbox.findIndex((m) => m.type === type || m.type === 'failed');
      if (i >= 0) {
        const m = inbox.splice(i, 1)[0];
        if (m.type === 'failed') throw new Error(`control room failed: ${m.error}`);
        return m;
      }
      const left = end - Date.now();
      if (left <= 0) throw new Error(`control room: no ${type} within ${ms} ms`);
      await new Promise((r) => { const t = setTimeout(r, left); wake = () => { clearTimeout(t); wake = null; r(); }; });
    }
  };
  try {
    const ready = await take('ready', 10000);
    return {
      room,
      ids: ready.ids,
      async stop() {
        try {
          w.postMessage('stop');
          return await take('result', 10000);
        } finally { await w.terminate(); }
      },
    };
  } catch (e) {
    await w.terminate();
    throw e;
  }
}

const fmt = (x) => (x === null || x === undefined || !Number.isFinite(x) ? String(x) : x.toFixed(1));

/** Control rooms live per daemon (2 connections each), for connection counts. */
const liveControls = new Map();
const controlConns = (d) => 2 * (liveControls.get(d) || 0);

/** Wait until the daemon holds only its control rooms' connections; returns the count seen. */
async function settled(d, timeout = 5000) {
  let n;
  const expected = controlConns(d);
  try {
    await waitFor(async () => (n = (await metrics(d)).get('xroom_connections')) === expected,
      { timeout, what: 'only the control rooms connected' });
  } catch { /* reported by the caller */ }
  return { n, expected };
}

/**
 * Run `fn` (the abuse) while a control room on the same daemon relays; then
 * check the control room: nothing lost, duplicated or reordered, worst
 * latency under the bound. `fn` may return figures for the report.
 * opts.settle: also check that the daemon is back to the control rooms'
 * connections once the case's sockets are gone (daemons running one case
 * at a time).
 */
async function underControl(t, d, name, fn, { settle = false } = {}) {
  const ctl = await startControl(d);
  liveControls.set(d, (liveControls.get(d) || 0) + 1);
  await sleep(100); // some traffic before the abuse starts
  let figures, err, leftover;
  const t0 = Date.now();
  try {
    figures = await fn(ctl);
    assert.ok(d.running, `the daemon died: ${JSON.stringify(d.exitInfo)}`);
    assert.equal(RawWs.maskedFrames, 0, 'the server masked none of its frames');
    if (settle) leftover = await settled(d);
  } catch (e) {
    err = e;
  }
  await sleep(50);
  const r = await ctl.stop().finally(() => liveControls.set(d, liveControls.get(d) - 1));
  const line = `control room: ${r.received}/${r.sent} signals (lost ${r.lost}, dup ${r.dup}, ` +
    `reordered ${r.reorder}); worst relay latency ${fmt(r.maxLatencyDaemon)} ms net of the ` +
    `measuring thread's own stalls (raw worst ${fmt(r.maxLatency)} ms, p99 ${fmt(r.p99)} ms, ` +
    `p50 ${fmt(r.p50)} ms; that thread stalled ${fmt(r.stalledMs)} ms in all); case ${Date.now() - t0} ms`;
  t.diagnostic(line);
  if (figures) t.diagnostic(`figures: ${JSON.stringify(figures)}`);
  report[name] = {
    control: { ...r, dirs: undefined, type: undefined }, figures, leftover, error: err ? String(err.message) : undefined,
  };
  if (err) throw err;
  assert.deepEqual(r.closedEarly, [], 'control room sockets stayed open');
  assert.deepEqual(r.unexpected, [], 'control room got only its own signals');
  assert.ok(r.sent > 20, `control room sent ${r.sent}`);
  assert.equal(r.lost, 0, `control room lost messages: ${line}`);
  assert.equal(r.dup, 0, `control room duplicates: ${line}`);
  assert.equal(r.reorder, 0, `control room reordered: ${line}`);
  assert.equal(r.received, r.sent, line);
  assert.ok(r.maxLatencyDaemon < CONTROL_MAX_LATENCY_MS, `control room latency: ${line}`);
  if (settle) assert.equal(leftover.n, leftover.expected, 'connections left behind by the case (xroom_connections vs the control rooms\' own)');
  return figures;
}

// ---------------------------------------------------------------------------
// Small helpers

function vmRssKb(pid) {
  const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}

async function timedHealthz(d) {
  const t0 = performance.now();
  const h = await healthz(d);
  return { ms: performance.now() - t0, h };
}

/** Run `tasks` (functions returning promises) with at most `n` at once. */
async function pool(n, tasks) {
  const out = new Array(tasks.length);
  let i = 0;
  const worker = async () => {
    while (i < tasks.length) {
      const k = i++;
      out[k] = await tasks[k]();
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, tasks.length) }, worker));
  return out;
}

/** Stop a daemon and check it ran to the end cleanly (exit 0, no sanitizer report). */
async function stopClean(d) {
  if (!d) return;
  const wasRunning = d.running;
  await d.stop();
  assert.ok(wasRunning, `the daemon died during the suite: ${JSON.stringify(d.exitInfo)}\n${d.stderr.slice(-2000)}`);
  assert.equal(d.exitInfo.code, 0, `exit ${JSON.stringify(d.exitInfo)}\n${d.stderr.slice(-2000)}`);
  assert.doesNotMatch(d.stderr, /AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|runtime error:/);
}

/** GET `path` on a fresh connection; {status, body, ms}; rejects after timeoutMs. */
function timedGet(d, path, timeoutMs = 5000) {
  return new Promise((res, rej) => {
    const t0 = performance.now();
    const sock = net.connect({ host: '127.0.0.1', port: d.port });
    let buf = Buffer.alloc(0);
    const timer = setTimeout(() => { sock.destroy(); rej(new Error(`GET ${path}: no answer within ${timeoutMs} ms`)); }, timeoutMs);
    sock.on('connect', () => sock.write(`GET ${path} HTTP/1.1\r\nHost: ${d.host}\r\nConnection: close\r\n\r\n`));
    sock.on('data', (c) => { buf = Buffer.concat([buf, c]); });
    sock.on('error', () => {});
    sock.on('close', () => {
      clearTimeout(timer);
      const text = buf.toString('utf8');
      const i = text.indexOf('\r\n\r\n');
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1] ?? 0);
      if (!status) { rej(new Error(`GET ${path}: connection closed without an answer`)); return; }
      res({ status, body: i >= 0 ? text.slice(i + 4) : '', ms: performance.now() - t0 });
    });
  });
}

/**
 * Slow clients on raw TCP: `drip` send a request line and then one header
 * byte a second; `silent` connect and send nothing; `slowBody` send a
 * complete POST head announcing 4 KiB and then one body byte a second.
 */
async function slowClients(d, { drip = 0, silent = 0, slowBody = 0 } = {}) {
  const all = [];
  const open = async (kind, first) => {
    const s = await RawWs.open(d, '/', { connectOnly: true });
    s.kind = kind;
    if (first) s.send(first);
    all.push(s);
  };
  const jobs = [];
  for (let i = 0; i < drip; i++) jobs.push(() => open('drip', `GET /healthz HTTP/1.1\r\nHost: ${d.host}\r\nX-Slow: `));
  for (let i = 0; i < silent; i++) jobs.push(() => open('silent', null));
  for (let i = 0; i < slowBody; i++) {
    jobs.push(() => open('slowBody', `POST /api/events HTTP/1.1\r\nHost: ${d.host}\r\nContent-Type: application/json\r\nContent-Length: 4096\r\n\r\n{"event":"`));
  }
  await pool(50, jobs);
  const timer = setInterval(() => {
    for (const s of all) if (!s.ended && s.kind !== 'silent') s.send('a');
  }, 1000);
  return {
    all,
    allEnded: () => all.every((s) => s.ended),
    stop: () => clearInterval(timer),
    destroy: () => { clearInterval(timer); for (const s of all) s.destroy(); },
    figures(t0) {
      const out = {};
      for (const kind of ['drip', 'silent', 'slowBody']) {
        const ks = all.filter((s) => s.kind === kind);
        if (!ks.length) continue;
        const ends = ks.filter((s) => s.ended).map((s) => (s.ended - t0) / 1000);
        out[kind] = {
          n: ks.length, closedByDaemon: ends.length,
          closedAfterS: ends.length ? [Math.min(...ends), Math.max(...ends)] : null,
          answered: [...new Set(ks.filter((s) => s.status !== null).map((s) => s.status))],
        };
      }
      return out;
    },
  };
}

/** Two raw peers joined in one fresh room. */
async function rawPair(d) {
  const room = roomId();
  const a = await RawWs.joined(d, room);
  const b = await RawWs.joined(d, room);
  assert.deepEqual(await a.next(), { type: 'peer-joined', id: b.id });
  return [a, b];
}

// ---------------------------------------------------------------------------

describe('abuse', { concurrency: true }, () => {
  // -------------------------------------------------------------------------
  describe('main daemon: frames, floods, queues, origin, churn', { concurrency: false }, () => {
    const MAX_MSG = 32768;
    const RATE = 1000;   // the control room sends 200 a second per peer
    const BURST = 1000;
    const MAX_QUEUED = 65536;
    let d;
    before(async () => {
      d = await startDaemon({
        limits: {
          max_message_bytes: MAX_MSG, max_queued_bytes: MAX_QUEUED,
          messages_per_second: RATE, message_burst: BURST,
        },
      });
    });
    after(() => stopClean(d));

    // A frame whose header declares more than max_message_bytes could be
    // refused from its header (lws_remaining_packet_payload() tells the
    // length on the first chunk). The daemon does not: it buffers up to the
    // limit, then refuses. Kept as a TODO so the suite says so every run.
    test('oversize single frame: closed 1009 from its header, without the rest being sent', async (t) => {
      await underControl(t, d, 'oversize-single-frame-header-only', async () => {
        const fig = {};
        await Promise.all([MAX_MSG + 1, 1024 * 1024 * 1024, 2 ** 53].map(async (declared, i) => {
          const ws = i % 2 ? await RawWs.joined(d) : await RawWs.upgrade(d);
          ws.send(frame({ opcode: OP.TEXT, payload: Buffer.alloc(300, 0x5b), declaredLength: declared }));
          const close = await ws.waitClose(1500).catch(() => null);
          fig[`declared ${declared}, 300 bytes sent`] = close ? close.code : 'open after 1.5 s';
          ws.destroy();
        }));
        for (const [k, v] of Object.entries(fig)) assert.equal(v, 1009, `${k}: ${v}`);
        return fig;
      }, { settle: true });
    });

    test('oversize single frame: too-large and closed 1009 once max_message_bytes of it arrived, never later', async (t) => {
      await underControl(t, d, 'oversize-single-frame', async () => {
        const fig = {};
        await Promise.all([MAX_MSG + 1, 1024 * 1024 * 1024, 2 ** 53].map(async (declared, i) => {
          const ws = i % 2 ? await RawWs.joined(d) : await RawWs.upgrade(d);
          const key = randomBytes(4);
          // the header and the first 1,000 bytes, then 1,000 more at a time (masked as one frame)
          // never past the declared length: what follows would be parsed as the next frame
          const size = Math.min(declared, MAX_MSG + 4096);
          const whole = frame({ opcode: OP.TEXT, payload: Buffer.alloc(size, 0x5b), declaredLength: declared, maskKey: key });
          const headLen = whole.length - size;
          let off = headLen + 1000;
          ws.send(whole.subarray(0, off));
          while (ws.isOpen && off < whole.length) {
            await sleep(5);
            ws.send(whole.subarray(off, off + 1000));
            off = Math.min(whole.length, off + 1000);
          }
          const close = await ws.waitClose(3000);
          const sent = off - headLen;
          const errs = ws.msgs.filter((m) => m.type === 'error').map((m) => m.code);
          fig[`declared ${declared}`] = { code: close.code, errors: errs, payloadBytesSentBeforeClose: sent };
          assert.equal(close.code, 1009, JSON.stringify(fig));
          assert.deepEqual(errs, ['too-large']);
          ws.destroy();
        }));
        return fig;
      }, { settle: true });
    });

    test('oversize fragmented messages: closed 1009 too-large once the fragments pass the limit', async (t) => {
      await underControl(t, d, 'oversize-fragmented', async () => {
        const fig = {};
        const [a, b] = await rawPair(d);
        // fragments of 4000 bytes, each well under the limit
        const text = Buffer.from(JSON.stringify({ type: 'signal', to: b.id, data: 'z'.repeat(MAX_MSG * 2) }));
        let sent = 0, off = 0;
        a.send(frame({ opcode: OP.TEXT, fin: false, payload: text.subarray(0, 4000) }));
        off = sent = 4000;
        while (a.isOpen && off < text.length - 4000 && sent < MAX_MSG + 8000) {
          a.send(frame({ opcode: OP.CONT, fin: false, payload: text.subarray(off, off + 4000) }));
          off += 4000; sent += 4000;
          await sleep(5);
        }
        await a.expectError('too-large');
        const close = await a.waitClose();
        fig.fragmented = close.code;
        fig.bytesSentBeforeClose = sent;
        assert.equal(close.code, 1009);
        assert.deepEqual(await b.next(), { type: 'peer-left', id: a.id });
        assert.deepEqual(await b.sync(), [], 'nothing of it was relayed');
        // many tiny fragments (1 byte each) of a message that never ends
        const c = await RawWs.upgrade(d);
        c.send(frame({ opcode: OP.TEXT, fin: false, payload: '[' }));
        const bulk = [];
        for (let i = 0; i < MAX_MSG + 10; i++) bulk.push(frame({ opcode: OP.CONT, fin: false, payload: '[' }));
        c.send(Buffer.concat(bulk));
        await c.expectError('too-large');
        fig.tinyFragments = (await c.waitClose()).code;
        assert.equal(fig.tinyFragments, 1009);
        b.destroy(); c.destroy();
        return fig;
      }, { settle: true });
    });

    test('10,000-deep nested JSON: bad-json, the connection stays open, nothing relayed', async (t) => {
      await underControl(t, d, 'deep-json', async () => {
        const [a, b] = await rawPair(d);
        const N = 10000;
        const deep = `${'['.repeat(N)}${']'.repeat(N)}`;
        const deepObj = `${'{"a":'.repeat(N / 2)}1${'}'.repeat(N / 2)}`;
        const bodies = [
          `{"type":"signal","to":"${b.id}","data":${deep}}`,
          `{"type":"signal","to":"${b.id}","data":${deepObj}}`,
          `{"type":"ping","id":${deep}}`,
          deep,
          `{"type":"signal","to":"${b.id}","data":${'['.repeat(N)}}`, // unbalanced
        ];
        for (const body of bodies) {
          assert.ok(Buffer.byteLength(body) <= MAX_MSG);
          a.sendText(body);
          await a.expectError('bad-json');
        }
        // and before join
        const w = await RawWs.upgrade(d);
        w.sendText(deep);
        await w.expectError('bad-json');
        assert.deepEqual(await w.sync(), []);
        assert.ok(w.isOpen);
        assert.deepEqual(await a.sync(), []);
        assert.ok(a.isOpen, 'still open');
        assert.deepEqual(await b.sync(), [], 'nothing reached the peer');
        for (const x of [a, b, w]) x.destroy();
        return { errors: 'bad-json x6', open: true };
      }, { settle: true });
    });

    test('invalid UTF-8: closed 1007 (waiting, joined, split across fragments, at the end)', async (t) => {
      await underControl(t, d, 'invalid-utf8', async () => {
        const bad = {
          'lone continuation': Buffer.from([0x80]),
          'truncated 2-byte': Buffer.from([0xc3, 0x28]),
          'overlong /': Buffer.from([0xc0, 0xaf]),
          'surrogate D800': Buffer.from([0xed, 0xa0, 0x80]),
          'above U+10FFFF': Buffer.from([0xf4, 0x90, 0x80, 0x80]),
          'byte FF': Buffer.from([0xff]),
        };
        const codes = {};
        await Promise.all(Object.entries(bad).map(async ([name, bytes], i) => {
          const ws = i % 2 ? await RawWs.joined(d) : await RawWs.upgrade(d);
          ws.send(textFrame(Buffer.concat([Buffer.from('{"type":"ping","id":"'), bytes, Buffer.from('"}')])));
          codes[name] = (await ws.waitClose()).code;
          ws.destroy();
        }));
        // a message whose last fragment ends in the middle of a character
        const ws = await RawWs.joined(d);
        ws.send(frame({ opcode: OP.TEXT, fin: false, payload: '{"type":"ping","id":"' }));
        ws.send(frame({ opcode: OP.CONT, fin: true, payload: Buffer.from([0xe2, 0x82]) }));
        codes['ends mid-character'] = (await ws.waitClose()).code;
        ws.destroy();
        for (const [k, v] of Object.entries(codes)) assert.equal(v, 1007, `${k}: ${v}`);
        return codes;
      }, { settle: true });
    });

    // RFC 6455 5.1: a server MUST close on an unmasked client frame. lws
    // 4.1.6 never looks at the mask bit's absence (ops-ws.c takes
    // this_frame_masked as it comes), so the frame is acted on.
    test('unmasked client frames are closed (RFC 6455 5.1: 1002 expected)', {
      todo: 'libwebsockets 4.1.6 accepts unmasked client frames: the daemon answers them and stays open',
    }, async (t) => {
      await underControl(t, d, 'unmasked', async () => {
        const fig = {};
        await Promise.all([false, true].map(async (joined) => {
          const ws = joined ? await RawWs.joined(d) : await RawWs.upgrade(d);
          ws.send(frame({ opcode: OP.TEXT, payload: JSON.stringify({ type: 'ping', id: 'unmasked' }), mask: false }));
          const close = await ws.waitClose(2000).catch(() => null);
          const answered = ws.msgs.filter((m) => m.type === 'pong').length > 0;
          fig[joined ? 'joined' : 'waiting'] = close ? { code: close.code, answered } : { code: 'not closed within 2 s', answered };
          ws.destroy();
        }));
        assert.equal(fig.waiting.code, 1002, JSON.stringify(fig));
        assert.equal(fig.joined.code, 1002, JSON.stringify(fig));
        return fig;
      }, { settle: true });
    });

    test('reserved opcodes 0x3-0x7, 0xB-0xF and RSV1-3 bits: closed 1002', async (t) => {
      await underControl(t, d, 'reserved-opcodes-rsv', async () => {
        const codes = {};
        const payload = JSON.stringify({ type: 'ping', id: 1 });
        const variants = [
          ...[3, 4, 5, 6, 7, 0xb, 0xc, 0xd, 0xe, 0xf].map((op) => [`opcode 0x${op.toString(16)}`, { opcode: op, payload }]),
          ['RSV1', { opcode: OP.TEXT, rsv: 4, payload }],
          ['RSV2', { opcode: OP.TEXT, rsv: 2, payload }],
          ['RSV3', { opcode: OP.TEXT, rsv: 1, payload }],
          ['RSV1 on a ping', { opcode: OP.PING, rsv: 4, payload: 'p' }],
          ['continuation without a start', { opcode: OP.CONT, payload }],
        ];
        await pool(8, variants.map(([name, f], i) => async () => {
          const ws = i % 2 ? await RawWs.joined(d) : await RawWs.upgrade(d);
          ws.send(frame(f));
          codes[name] = (await ws.waitClose()).code;
          assert.ok(!ws.msgs.some((m) => m.type === 'pong'), `${name}: the message was acted on`);
          ws.destroy();
        }));
        for (const [k, v] of Object.entries(codes)) assert.equal(v, 1002, `${k}: ${v}`);
        return codes;
      }, { settle: true });
    });

    test('fragmented control frames and control frames over 125 bytes: closed 1002', async (t) => {
      await underControl(t, d, 'bad-control-frames', async () => {
        const codes = {};
        const variants = [
          ['ping with FIN=0', [frame({ opcode: OP.PING, fin: false, payload: 'a' }), frame({ opcode: OP.CONT, payload: 'b' })]],
          ['close with FIN=0', [frame({ opcode: OP.CLOSE, fin: false, payload: Buffer.from([3, 232]) })]],
          ['ping of 126 bytes (16-bit length)', [frame({ opcode: OP.PING, payload: Buffer.alloc(126, 0x61) })]],
          ['ping of 70000 bytes (64-bit length)', [frame({ opcode: OP.PING, payload: Buffer.alloc(70000, 0x61) })]],
          ['ping of 10 bytes in 16-bit form', [frame({ opcode: OP.PING, payload: Buffer.alloc(10, 0x61), lengthBits: 16 })]],
          ['close of 200 bytes', [frame({ opcode: OP.CLOSE, payload: Buffer.concat([Buffer.from([3, 232]), Buffer.alloc(198, 0x61)]) })]],
          ['pong of 126 bytes', [frame({ opcode: OP.PONG, payload: Buffer.alloc(126, 0x61) })]],
          ['ping FIN=0 inside a fragmented text message', [
            frame({ opcode: OP.TEXT, fin: false, payload: '{"type":' }),
            frame({ opcode: OP.PING, fin: false, payload: 'x' }),
          ]],
        ];
        await pool(8, variants.map(([name, frames], i) => async () => {
          const ws = i % 2 ? await RawWs.joined(d) : await RawWs.upgrade(d);
          for (const f of frames) ws.send(f);
          const c = await ws.waitClose();
          codes[name] = c.code;
          ws.destroy();
        }));
        // a legal ping of 125 bytes between fragments is answered and does not close
        const ok = await RawWs.joined(d);
        ok.send(frame({ opcode: OP.TEXT, fin: false, payload: '{"type":"ping",' }));
        ok.send(frame({ opcode: OP.PING, payload: Buffer.alloc(125, 0x62) }));
        ok.send(frame({ opcode: OP.CONT, payload: '"id":"frag"}' }));
        assert.deepEqual(await ok.next(), { type: 'pong', id: 'frag' });
        await ok._until(() => ok.pongs.length, 2000, 'the pong of a 125-byte ping');
        assert.equal(ok.pongs[0].length, 125);
        ok.destroy();
        // RFC 6455 7.1.7: fail the connection, SHOULD with a close frame (1002).
        // lws sends 1002 for fragmented control frames; for an extended
        // length on a control frame it drops the TCP connection without a
        // close frame (ops-ws.c illegal_ctl_length), seen here as 1006.
        for (const [k, v] of Object.entries(codes)) {
          if (/FIN=0/.test(k)) assert.equal(v, 1002, `${k}: ${v}`);
          else assert.ok([1002, 1006].includes(v), `${k}: ${v}`);
        }
        return codes;
      }, { settle: true });
    });

    test('WebSocket ping flood: answered or dropped, the daemon stays responsive', async (t) => {
      await underControl(t, d, 'ws-ping-flood', async () => {
        const ws = await RawWs.joined(d);
        const N = 5000;
        const t0 = performance.now();
        for (let k = 0; k < N; k += 500) {
          const batch = [];
          for (let i = k; i < k + 500; i++) batch.push(frame({ opcode: OP.PING, payload: `p${i}` }));
          ws.send(Buffer.concat(batch));
          await sleep(2);
        }
        // the app still answers on the same connection, right after the flood
        const rtt0 = performance.now();
        const before = await ws.sync(5000);
        const rtt = performance.now() - rtt0;
        assert.deepEqual(before, []);
        await sleep(200);
        const pongs = ws.pongs.length;
        assert.ok(pongs >= 1, 'some pings were answered');
        assert.ok(pongs <= N);
        // every pong echoes the payload of one of our pings
        assert.ok(ws.pongs.every((p) => /^p\d+$/.test(p.toString())));
        assert.ok(ws.isOpen, 'a ping flood alone does not close the connection');
        // a lone ping after the flood is answered
        const n0 = ws.pongs.length;
        ws.send(frame({ opcode: OP.PING, payload: 'after' }));
        await ws._until(() => ws.pongs.length > n0, 2000, 'a pong after the flood');
        assert.equal(ws.pongs.at(-1).toString(), 'after');
        const hz = await timedHealthz(d);
        ws.destroy();
        return { pings: N, pongs, floodMs: Math.round(rtt0 - t0), appRttAfterMs: Math.round(rtt), healthzMs: Math.round(hz.ms) };
      }, { settle: true });
    });

    test('app-level ping flood: rate-limited (at most one error a second), then closed 1008', async (t) => {
      await underControl(t, d, 'app-ping-flood', async () => {
        const ws = await RawWs.joined(d);
        const t0 = Date.now();
        let sent = 0;
        const one = textFrame('{"type":"ping","id":1}');
        const batch = Buffer.concat(Array.from({ length: 30 }, () => one));
        // 30 every 10 ms: about 3,000 a second, three times the refill, for at most 8 s
        while (ws.isOpen && Date.now() - t0 < 8000) {
          ws.send(batch);
          sent += 30;
          await sleep(10);
        }
        const close = await ws.waitClose(3000);
        const secs = (close.at - t0) / 1000;
        const pongs = ws.msgs.filter((m) => m.type === 'pong').length;
        const errors = ws.msgs.filter((m) => m.type === 'error');
        assert.equal(close.code, 1008);
        // Not before two seconds of drops; and while the flood went on (a
        // loaded machine sends the flood slower, so how long it takes to
        // gather three seconds of drops varies: the flood's 8 s bound it).
        assert.ok(secs >= 1.8 && secs <= 8.5, `closed after ${secs} s`);
        assert.ok(errors.length >= 1 && errors.every((m) => m.code === 'rate-limited'), JSON.stringify(errors.slice(0, 3)));
        assert.ok(errors.length <= Math.ceil(secs) + 1, `${errors.length} errors in ${secs} s`);
        // the bucket was full when the flood began; secs (until we saw the close) is an upper bound
        assert.ok(pongs <= BURST + RATE * secs, `${pongs} pongs in ${secs} s exceeds the bucket`);
        assert.ok(pongs < sent);
        ws.destroy();
        return { sent, pongs, errors: errors.length, closedAfterS: secs, code: close.code };
      }, { settle: true });
    });

    test('signal flood: rate-limited, never relayed beyond the bucket, closed 1008 after 3 seconds of drops', async (t) => {
      await underControl(t, d, 'signal-flood', async () => {
        const [a, b] = await rawPair(d);
        const one = textFrame(JSON.stringify({ type: 'signal', to: b.id, data: { n: 0 } }));
        const batch = Buffer.concat(Array.from({ length: 30 }, () => one));
        const t0 = Date.now();
        let sent = 0;
        while (a.isOpen && Date.now() - t0 < 8000) {
          a.send(batch);
          sent += 30;
          await sleep(10);
        }
        const close = await a.waitClose(3000);
        const secs = (close.at - t0) / 1000;
        const left = await b._until(() => b.msgs.find((m) => m.type === 'peer-left'), 3000, 'peer-left');
        assert.equal(left.id, a.id);
        const relayed = b.msgs.filter((m) => m.type === 'signal').length;
        const errors = a.msgs.filter((m) => m.type === 'error');
        assert.equal(close.code, 1008);
        // Not before two seconds of drops; and while the flood went on (a
        // loaded machine sends the flood slower, so how long it takes to
        // gather three seconds of drops varies: the flood's 8 s bound it).
        assert.ok(secs >= 1.8 && secs <= 8.5, `closed after ${secs} s`);
        assert.ok(errors.length >= 1 && errors.every((m) => m.code === 'rate-limited'), JSON.stringify(errors.slice(0, 3)));
        assert.ok(errors.length <= Math.ceil(secs) + 1, `${errors.length} errors in ${secs} s`);
        const bucket = BURST + RATE * secs;
        assert.ok(relayed <= bucket, `${relayed} relayed in ${secs} s, bucket allows ${bucket}`);
        assert.ok(relayed < sent, 'some were dropped');
        assert.ok(relayed >= BURST, `the burst got through (${relayed})`);
        assert.ok(b.isOpen);
        b.destroy();
        return { sent, relayed, bucketBound: Math.round(bucket), errors: errors.length, closedAfterS: secs, code: close.code };
      }, { settle: true });
    });

    test('a peer that never reads is culled (1008) once its queue passes max_queued_bytes', async (t) => {
      await underControl(t, d, 'never-reader', async () => {
        const [a, b] = await rawPair(d);
        b.sock.pause();
        const data = 'q'.repeat(MAX_MSG - 200);
        const f = textFrame(JSON.stringify({ type: 'signal', to: b.id, data }));
        const t0 = Date.now();
        let sent = 0;
        // at most 3,000 x 16 KiB = 48 MiB, at most 10 s, under the rate limit
        while (sent < 3000 && Date.now() - t0 < 10000 && !a.msgs.some((m) => m.type === 'peer-left')) {
          for (let i = 0; i < 20; i++) a.send(f);
          sent += 20;
          await sleep(25);
        }
        const left = await a._until(() => a.msgs.find((m) => m.type === 'peer-left'), 5000, 'peer-left');
        const culledAfterMs = Date.now() - t0;
        assert.equal(left.id, b.id);
        assert.ok(a.isOpen, 'the sender stays');
        // signals already on their way when b went are unknown-peer, nothing else
        const errs = a.msgs.filter((m) => m.type === 'error');
        assert.ok(errs.every((m) => m.code === 'unknown-peer'), JSON.stringify(errs.slice(0, 3)));
        assert.deepEqual((await a.sync()).filter((m) => m.type !== 'peer-left' && m.code !== 'unknown-peer'), []);
        b.sock.resume();
        const close = await b.waitClose(10000);
        // the close frame can only arrive if the server still writes it after the backlog
        assert.ok([1008, 1006].includes(close.code), `close ${close.code}`);
        a.destroy(); b.destroy();
        return { signalsSent: sent, bytesSent: sent * f.length, culledAfterMs, readerClose: close.code };
      }, { settle: true });
    });

    test('bad Origin: 403 before the upgrade', async (t) => {
      await underControl(t, d, 'bad-origin', async () => {
        const statuses = {};
        for (const origin of ['http://evil.example', 'null', `https://${d.host}`, `http://${d.host}.evil.example`]) {
          const ws = await RawWs.open(d, `/ws/${roomId()}`, { headers: { Origin: origin } });
          await ws.waitEnd(3000).catch(() => {});
          statuses[origin] = ws.status;
          assert.equal(ws.status, 403, origin);
          assert.equal(JSON.parse(ws.body.toString()).error, 'forbidden-origin');
          assert.ok(!ws.headers['sec-websocket-accept']);
          ws.destroy();
        }
        const ok = await RawWs.upgrade(d, roomId(), { headers: { Origin: `http://${d.host}` } });
        statuses.own = ok.status;
        ok.destroy();
        return statuses;
      }, { settle: true });
    });

    test('10,000 connect/join/close in batches of 200: back to the control room alone, RSS flat', async (t) => {
      const TOTAL = 10000;
      const CONC = 200;
      const BUDGET_MS = 40000;
      await underControl(t, d, 'churn', async () => {
        const pid = d.proc.pid;
        await waitFor(async () => (await metrics(d)).get('xroom_connections') === 2, { what: 'only the control room' });
        const rss0 = vmRssKb(pid);
        const t0 = Date.now();
        let done = 0, failed = 0, firstErr = null;
        const ids = new Set();
        let rssWarm = null;
        const one = () => new Promise((res) => {
          const sock = net.connect({ host: '127.0.0.1', port: d.port });
          let buf = Buffer.alloc(0), state = 0, settled = false;
          const key = randomBytes(16).toString('base64');
          const finish = (ok, why) => {
            if (settled) return;
            settled = true;
            clearTimeout(timer);
            if (ok) done++; else { failed++; firstErr ??= why; }
            sock.destroy();
            res();
          };
          const timer = setTimeout(() => finish(false, `no welcome/close within 10 s (state ${state})`), 10000);
          sock.on('error', (e) => finish(false, e.message));
          sock.on('close', () => finish(state === 2, `closed in state ${state}`));
          sock.on('connect', () => {
            // the upgrade and the join in one write
            sock.write(Buffer.concat([
              Buffer.from(upgradeText(d, `/ws/${roomId()}`, { key })),
              textFrame('{"type":"join"}'),
            ]));
          });
          sock.on('data', (c) => {
            buf = Buffer.concat([buf, c]);
            if (state === 0) {
              const i = buf.indexOf('\r\n\r\n');
              if (i < 0) return;
              if (!buf.subarray(0, 12).toString().startsWith('HTTP/1.1 101')) { finish(false, buf.subarray(0, 40).toString()); return; }
              buf = buf.subarray(i + 4);
              state = 1;
            }
            // the welcome: one unmasked text frame (7- or 16-bit length)
            if (state === 1 && buf.length >= 2) {
              const len = buf[1] === 126 ? (buf.length >= 4 ? buf.readUInt16BE(2) : Infinity) : buf[1];
              const off = buf[1] === 126 ? 4 : 2;
              if (buf.length < off + len) return;
              let m = null;
              try { m = JSON.parse(buf.subarray(off, off + len).toString()); } catch { /* below */ }
              if (buf[0] !== 0x81 || m?.type !== 'welcome' || !PEER_ID_RE.test(m.id)) {
                finish(false, `not a welcome: ${buf.subarray(0, 60).toString()}`);
                return;
              }
              ids.add(m.id);
              state = 2;
              sock.write(closeFrame(1000));
              sock.end();
            }
          });
        });
        for (let k = 0; k < TOTAL && Date.now() - t0 < BUDGET_MS; k += CONC) {
          await Promise.all(Array.from({ length: Math.min(CONC, TOTAL - k) }, one));
          if (k + CONC === 1000) rssWarm = vmRssKb(pid);
        }
        const churnMs = Date.now() - t0;
        const settle = await waitFor(async () => {
          const m = await metrics(d);
          const h = await healthz(d);
          return m.get('xroom_connections') === 2 && h.peers === 2 && h.rooms === 1 ? { m, h } : false;
        }, { timeout: 10000, what: 'connections back to the control room' });
        const rss1 = vmRssKb(pid);
        const fig = {
          connections: done, distinctPeerIds: ids.size, failed, firstErr, churnMs, perSecond: Math.round(done / (churnMs / 1000)),
          rssBeforeKb: rss0, rssAfterWarmupKb: rssWarm, rssAfterKb: rss1,
          growthKb: rss1 - rss0, growthSinceWarmupKb: rss1 - rssWarm,
          healthz: settle.h, connectionsMetric: settle.m.get('xroom_connections'),
        };
        assert.equal(failed, 0, JSON.stringify(fig));
        assert.equal(done, TOTAL, `only ${done} of ${TOTAL} within ${BUDGET_MS} ms`);
        assert.equal(ids.size, TOTAL, 'every join got a fresh peer id');
        // ASan's quarantine keeps freed memory resident: only a plain build is held to "a few MB"
        const bound = IS_ASAN ? 256 * 1024 : 6 * 1024;
        assert.ok(rss1 - rss0 <= bound, `RSS grew ${rss1 - rss0} kB: ${JSON.stringify(fig)}`);
        return fig;
      });
    });
  });

  // -------------------------------------------------------------------------
  describe('slow daemon: slowloris and half-open handshakes', { concurrency: true }, () => {
    let d, slowFig, slowDone;
    const slowDonePromise = new Promise((res) => { slowDone = res; });
    before(async () => { d = await startDaemon({}); });
    after(() => stopClean(d));

    test('slowloris: 200 header drips, 50 silent TCP connections, 20 slow POST bodies; healthz and relay unaffected; all closed by the daemon', async (t) => {
      const WAIT_MS = 26000;
      await underControl(t, d, 'slowloris', async () => {
        const t0 = Date.now();
        const slow = await slowClients(d, { drip: 200, silent: 50, slowBody: 20 });
        let worst = 0, checks = 0;
        try {
          while (Date.now() - t0 < WAIT_MS && !slow.allEnded()) {
            const r = await timedGet(d, '/healthz', 5000);
            assert.equal(r.status, 200);
            assert.ok(JSON.parse(r.body).peers >= 2, 'the control room is there');
            worst = Math.max(worst, r.ms);
            checks++;
            await sleep(500);
          }
        } finally { slow.stop(); }
        const fig = { ...slow.figures(t0), healthzChecks: checks, worstHealthzMs: Math.round(worst) };
        slowFig = fig;
        slow.destroy();
        assert.ok(worst < HEALTHZ_MAX_MS, `healthz took ${worst} ms`);
        for (const kind of ['drip', 'silent']) {
          assert.equal(fig[kind].closedByDaemon, fig[kind].n, `${kind} connections still open after ${WAIT_MS / 1000} s: ${JSON.stringify(fig)}`);
        }
        return fig;
      }).finally(() => slowDone());
    });

    // lws re-arms PENDING_TIMEOUT_HTTP_CONTENT (timeout_secs, 20 s) on every
    // body chunk (ops-h1.c); http.c therefore keeps its own 10 s deadline
    // for a whole body, so a body dripped a byte at a time is cut off.
    test('slow POST bodies (one byte a second) are closed by the daemon within 25 s', async () => {
      await Promise.race([slowDonePromise, sleep(40000, undefined, { ref: false })]);
      assert.ok(slowFig, 'the slowloris case ran');
      assert.equal(slowFig.slowBody.closedByDaemon, slowFig.slowBody.n, JSON.stringify(slowFig.slowBody));
    });

    test('half-open handshakes: an unfinished upgrade is dropped; an upgrade without join is closed 1008 at 10 s', async (t) => {
      await underControl(t, d, 'half-open', async () => {
        const t0 = Date.now();
        // upgrade requests without the blank line that ends them
        const unfinished = await Promise.all(Array.from({ length: 20 }, () => RawWs.open(d, `/ws/${roomId()}`, { blankLine: false })));
        // complete upgrades that never join
        const silent = await Promise.all(Array.from({ length: 20 }, () => RawWs.upgrade(d)));
        const closes = await Promise.all(silent.map((s) => s.waitClose(14000)));
        const after = closes.map((c) => (c.at - t0) / 1000);
        for (const c of closes) assert.equal(c.code, 1008);
        for (const s of after) assert.ok(s >= 9.5 && s <= 12.5, `closed after ${s} s`);
        // None of the 20 silent upgrades is left. (Control rooms of cases
        // running beside this one may be starting or ending: at most theirs.)
        const m = await metrics(d);
        assert.ok(m.get('xroom_connections') <= controlConns(d),
          `only control rooms are left: ${m.get('xroom_connections')} connections, control rooms hold ${controlConns(d)}`);
        const unfinishedEnds = await Promise.all(unfinished.map((s) => s.waitEnd(25000 - (Date.now() - t0)).then(
          (at) => (at - t0) / 1000, () => null)));
        const fig = {
          silentClose: closes[0].code, silentClosedS: [Math.min(...after), Math.max(...after)],
          unfinishedClosedS: unfinishedEnds.every((x) => x !== null) ? [Math.min(...unfinishedEnds), Math.max(...unfinishedEnds)] : unfinishedEnds,
          unfinishedAnswered: unfinished.filter((s) => s.status !== null).map((s) => s.status),
        };
        for (const s of [...silent, ...unfinished]) s.destroy();
        assert.ok(unfinishedEnds.every((x) => x !== null), `unfinished upgrades still open at 25 s: ${JSON.stringify(fig)}`);
        return fig;
      });
    });
  });

  // -------------------------------------------------------------------------
  // lws serves at most max_http_header_pool (4096, server.c) requests whose
  // headers are still arriving; the rest wait for one to free up, and a
  // header drip holds one for timeout_secs_ah_idle (10 s, the lws default).
  describe('pool daemon: slowloris beyond the lws header pool', { concurrency: false }, () => {
    const N = 1100;
    let d, fig;
    before(async () => { d = await startDaemon({}); });
    after(() => stopClean(d));

    test(`${N} header drips: joined peers keep relaying; new requests are served again once the daemon drops the drips`, async (t) => {
      fig = await underControl(t, d, 'slowloris-pool', async () => {
        const t0 = Date.now();
        const slow = await slowClients(d, { drip: N });
        const samples = [];
        try {
          // drips that waited for a header table get theirs at ~10 s and lose it at ~20 s
          while (Date.now() - t0 < 24000) {
            const at = (Date.now() - t0) / 1000;
            const r = await timedGet(d, '/healthz', 6000).catch((e) => ({ error: e.message }));
            samples.push({ at, ms: r.ms ? Math.round(r.ms) : null, status: r.status ?? r.error });
            if (slow.allEnded() && r.status === 200 && r.ms < 1000) break;
            await sleep(500);
          }
        } finally { slow.stop(); }
        const f = {
          ...slow.figures(t0), healthzChecks: samples.length,
          worstHealthzMs: Math.max(...samples.map((x) => (x.ms === null ? 6000 : x.ms))),
          healthzOver100ms: samples.filter((x) => x.ms === null || x.ms > 100),
        };
        slow.destroy();
        assert.ok(slow.allEnded(), `drips still open: ${JSON.stringify(f.drip)}`);
        assert.equal(samples.at(-1).status, 200, 'served again once the drips are gone');
        return f;
      });
    });

    test(`${N} header drips: /healthz is still answered (within ${HEALTHZ_MAX_MS / 1000} s)`, () => {
      assert.ok(fig, 'the measuring test ran');
      assert.ok(fig.worstHealthzMs < HEALTHZ_MAX_MS, `worst /healthz ${fig.worstHealthzMs} ms: ${JSON.stringify(fig.healthzOver100ms)}`);
    });

    const NB = 1030;
    let bodyFig;
    test(`${NB} slow POST bodies: joined peers keep relaying; the daemon serves again once they go`, async (t) => {
      bodyFig = await underControl(t, d, 'slow-post-pool', async () => {
        const t0 = Date.now();
        const slow = await slowClients(d, { slowBody: NB });
        const samples = [];
        try {
          // 6 s of it, then the clients go (the daemon would not drop them for hours)
          while (Date.now() - t0 < 6000) {
            const r = await timedGet(d, '/healthz', 2500).catch((e) => ({ error: e.message }));
            samples.push({ at: (Date.now() - t0) / 1000, ms: r.ms ? Math.round(r.ms) : null, status: r.status ?? r.error });
            await sleep(500);
          }
        } finally { slow.stop(); }
        const stillOpen = slow.all.filter((s) => !s.ended).length;
        slow.destroy();
        const t1 = Date.now();
        const back = await waitFor(() => timedGet(d, '/healthz', 1000).then((r) => r.status === 200 && r), { timeout: 5000, what: '/healthz after the slow clients left' });
        return {
          slowBodies: NB, stillOpenAfter6s: stillOpen, healthz: samples,
          worstHealthzMs: Math.max(...samples.map((x) => (x.ms === null ? 2500 : x.ms))),
          servedAgainAfterMs: Date.now() - t1, lastHealthzMs: Math.round(back.ms),
        };
      });
    });

    test(`${NB} slow POST bodies: /healthz is still answered (within ${HEALTHZ_MAX_MS / 1000} s)`, () => {
      assert.ok(bodyFig, 'the measuring test ran');
      assert.ok(bodyFig.worstHealthzMs < HEALTHZ_MAX_MS, `worst /healthz ${bodyFig.worstHealthzMs} ms: ${JSON.stringify(bodyFig.healthz)}`);
    });
  });

  // -------------------------------------------------------------------------
  describe('limit daemon: every global limit reached', { concurrency: false }, () => {
    const MAX_CONN = 50;
    const MAX_ROOMS = 4;
    const MAX_PEERS = 3;
    let d;
    before(async () => {
      d = await startDaemon({ limits: { max_connections: MAX_CONN }, rooms: { max_rooms: MAX_ROOMS, max_peers: MAX_PEERS } });
    });
    after(() => stopClean(d));

    test('room full: room-full 1008; max_rooms: server-busy 1013; max_connections: server-busy 1013', async (t) => {
      await underControl(t, d, 'global-limits', async () => {
        const fig = {};
        const held = [];
        try {
          // room full: the third peer fills it, the fourth is refused
          const room = roomId();
          for (let i = 0; i < MAX_PEERS; i++) held.push(await RawWs.joined(d, room));
          const extra = await RawWs.upgrade(d, room);
          extra.sendJson({ type: 'join' });
          await extra.expectError('room-full');
          fig.roomFull = (await extra.waitClose()).code;
          assert.equal(fig.roomFull, 1008);
          extra.destroy();
          // rooms: the control room and `room` exist; fill up to MAX_ROOMS, then one more
          for (let i = 2; i < MAX_ROOMS; i++) held.push(await RawWs.joined(d));
          let h = await healthz(d);
          assert.equal(h.rooms, MAX_ROOMS);
          const busy = await RawWs.upgrade(d);
          busy.sendJson({ type: 'join' });
          await busy.expectError('server-busy');
          fig.maxRooms = (await busy.waitClose()).code;
          assert.equal(fig.maxRooms, 1013);
          busy.destroy();
          // joining an existing room is still fine
          const ok = await RawWs.joined(d, held[MAX_PEERS].room);
          assert.deepEqual(ok.welcome.peers, [held[MAX_PEERS].id]);
          held.push(ok);
          // connections: fill to MAX_CONN with waiting sockets, then one more
          await waitFor(async () => (await metrics(d)).get('xroom_connections') === 2 + held.length, { what: 'settled connection count' });
          const waiting = [];
          while (2 + held.length + waiting.length < MAX_CONN) waiting.push(await RawWs.upgrade(d));
          const over = await RawWs.upgrade(d);
          await over.expectError('server-busy');
          fig.maxConnections = (await over.waitClose()).code;
          assert.equal(fig.maxConnections, 1013);
          over.destroy();
          fig.connectionsAtLimit = (await metrics(d)).get('xroom_connections');
          const hz = await timedGet(d, '/healthz', 2000);
          assert.equal(hz.status, 200, 'HTTP is still served at the connection limit');
          fig.healthzAtLimitMs = Math.round(hz.ms);
          // all the held ones still work
          for (const w of waiting.slice(0, 3)) assert.deepEqual(await w.sync(), []);
          for (const w of waiting) w.destroy();
          h = await healthz(d);
          fig.healthzAtEnd = h;
          // once freed, a new connection and room are possible again
          await waitFor(async () => (await metrics(d)).get('xroom_connections') === 2 + held.length, { what: 'waiting sockets gone' });
          for (const x of held.splice(MAX_PEERS)) x.destroy();
          const again = await waitFor(async () => {
            const w = await RawWs.upgrade(d);
            w.sendJson({ type: 'join' });
            const m = await w.next();
            if (m.type === 'welcome') return w;
            w.destroy();
            return false;
          }, { what: 'a free room slot' });
          again.destroy();
          return fig;
        } finally {
          for (const x of held) x.destroy();
        }
      }, { settle: true });
    });
  });
});
