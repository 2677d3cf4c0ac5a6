// TLS served by the daemon itself: HTTPS and WSS with HSTS, HTTP/1.1 only,
// modern protocol versions, a clear start-up error for a wrong path or a
// key that does not match, and a certificate swapped on SIGHUP (certbot)
// without dropping an open connection.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { after, before, describe, test } from 'node:test';
import { WebSocket, roomId, runCli, sleep, startDaemon, tempFile } from './harness.mjs';

const dir = mkdtempSync(join(tmpdir(), 'xroom-tls-'));

function makeCert(name, cn) {
  const cert = join(dir, `${name}-cert.pem`);
  const key = join(dir, `${name}-key.pem`);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1',
    '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', `/CN=${cn}`], { stdio: 'ignore' });
  return { cert, key };
}

function get(d, path) {
  return new Promise((res, rej) => {
    const req = https.get({ host: '127.0.0.1', port: d.port, path, rejectUnauthorized: false }, (r) => {
      const chunks = [];
      r.on('data', (c) => chunks.push(c));
      r.on('end', () => res({ status: r.statusCode, headers: r.headers, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', rej);
  });
}

function peerCN(d, opts = {}) {
  return new Promise((res, rej) => {
    const s = tls.connect({ host: '127.0.0.1', port: d.port, rejectUnauthorized: false, ...opts }, () => {
      res({ cn: s.getPeerCertificate().subject.CN, alpn: s.alpnProtocol, version: s.getProtocol() });
      s.end();
    });
    s.on('error', rej);
  });
}

/** A WSS client whose messages queue up until read (none is lost). */
function wss(d, room) {
  return new Promise((res, rej) => {
    const ws = new WebSocket(`wss://127.0.0.1:${d.port}/ws/${room}`, 'xroom.v1', { rejectUnauthorized: false });
    ws.queue = [];
    ws.waiters = [];
    ws.on('message', (m) => {
      ws.queue.push(JSON.parse(m.toString()));
      ws.waiters.splice(0).forEach((f) => f());
    });
    ws.once('open', () => res(ws));
    ws.once('error', rej);
  });
}

async function next(ws, ms = 5000) {
  const end = Date.now() + ms;
  while (!ws.queue.length) {
    if (Date.now() > end) throw new Error('no message within 5 s');
    await new Promise((r) => { ws.waiters.push(r); setTimeout(r, 100); });
  }
  return ws.queue.shift();
}

describe('TLS', () => {
  let a;
  let b;
  let live;
  before(() => {
    a = makeCert('a', 'first.test');
    b = makeCert('b', 'second.test');
    live = { cert: join(dir, 'live-cert.pem'), key: join(dir, 'live-key.pem') };
    copyFileSync(a.cert, live.cert);
    copyFileSync(a.key, live.key);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('HTTPS and WSS with HSTS; HTTP/1.1 only; TLS 1.0 and 1.1 refused; SIGHUP swaps the certificate and keeps connections', async () => {
    const d = await startDaemon({ tls: live });
    try {
      assert.equal(d.scheme, 'https');
      const r = await get(d, '/healthz');
      assert.equal(r.status, 200);
      assert.match(r.headers['strict-transport-security'], /max-age=\d{7,}/);
      assert.equal(r.headers['set-cookie'], undefined);
      const first = await peerCN(d, { ALPNProtocols: ['h2', 'http/1.1'] });
      assert.equal(first.cn, 'first.test');
      assert.equal(first.alpn, 'http/1.1');
      await assert.rejects(peerCN(d, { maxVersion: 'TLSv1.1', minVersion: 'TLSv1' }));

      // a call over WSS stays up across a certificate renewal
      const room = roomId();
      const x = await wss(d, room);
      x.send('{"type":"join"}');
      const wx = await next(x);
      assert.equal(wx.type, 'welcome');
      const y = await wss(d, room);
      y.send('{"type":"join"}');
      const wy = await next(y);
      assert.equal((await next(x)).type, 'peer-joined');

      copyFileSync(b.cert, live.cert);
      copyFileSync(b.key, live.key);
      d.signal('SIGHUP');
      await sleep(700);
      assert.equal((await peerCN(d)).cn, 'second.test', 'new connections get the renewed certificate');
      x.send(JSON.stringify({ type: 'signal', to: wy.id, data: 'still here' }));
      const m = await next(y);
      assert.deepEqual([m.type, m.data], ['signal', 'still here'], 'the open WSS connections survived');
      assert.match(d.stderr, /certificate/);

      // a broken renewal is refused and the running certificate stays
      copyFileSync(a.key, live.key); // b's cert with a's key
      d.signal('SIGHUP');
      await sleep(700);
      assert.match(d.stderr, /does not match/);
      assert.equal((await peerCN(d)).cn, 'second.test');
      x.close();
      y.close();
    } finally {
      await d.stop();
    }
  });

  test('a wrong path or a mismatched key is a clear start-up error', async () => {
    for (const [t, want] of [
      [{ cert: join(dir, 'missing.pem'), key: a.key }, /tls\.cert .*missing\.pem: No such file/],
      [{ cert: a.cert, key: join(dir, 'missing.pem') }, /tls\.key .*missing\.pem: No such file/],
      [{ cert: a.cert, key: b.key }, /does not match the certificate/],
    ]) {
      await assert.rejects(startDaemon({ tls: t }), (e) => {
        assert.match(e.message, want);
        return true;
      });
    }
    // --check-config checks the structure: both members are required
    const r = runCli(['--check-config', tempFile(JSON.stringify({ tls: { cert: a.cert } }))]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /tls\.key: is required/);
  });
});
