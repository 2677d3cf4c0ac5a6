// TURN with a real coturn (Debian's), started and stopped by this test on
// loopback with use-auth-secret and the daemon's secret; loopback peers are
// allowed for this test only (never in production: docs/self-hosting.md).
// Two pages with "hide my address" (iceTransportPolicy "relay") must see
// each other's frames through the relay; with a wrong secret the call must
// fail with a clear message on the tile, never a silent black tile.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { callOf, joinPage, launch, startDaemon, stats, waitFor, waitMediaFlowing, PATIENCE } from './util.mjs';

const TURNSERVER = '/usr/bin/turnserver';
const SECRET = randomBytes(18).toString('base64url');

function freePort() {
  return new Promise((res, rej) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
    s.on('error', rej);
  });
}

async function startCoturn() {
  const dir = mkdtempSync(join(tmpdir(), 'xroom-turn-'));
  const port = await freePort();
  const args = [
    '-n', '--listening-ip=127.0.0.1', '--relay-ip=127.0.0.1', `--listening-port=${port}`,
    '--min-port=49152', '--max-port=65535', '--use-auth-secret', `--static-auth-secret=${SECRET}`,
    '--realm=xroom.test', '--allow-loopback-peers', '--no-cli', '--no-tls', '--no-dtls',
    '--fingerprint', '--no-multicast-peers', '--log-file=stdout', '--simple-log',
    `--pidfile=${join(dir, 'turn.pid')}`, `--userdb=${join(dir, 'turndb')}`,
  ];
  const proc = spawn(TURNSERVER, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  proc.stdout.setEncoding('utf8').on('data', (s) => { log += s; });
  proc.stderr.setEncoding('utf8').on('data', (s) => { log += s; });
  await waitFor(() => /Total General servers/i.test(log) || proc.exitCode !== null,
    { timeout: 10000, what: 'coturn listening' });
  if (proc.exitCode !== null) throw new Error(`coturn exited:\n${log}`);
  return {
    port,
    get log() { return log; },
    async stop() {
      if (proc.exitCode === null) {
        const gone = new Promise((r) => proc.once('exit', r));
        proc.kill('SIGTERM');
        const t = setTimeout(() => proc.kill('SIGKILL'), 3000);
        await gone;
        clearTimeout(t);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const HIDE = () => { if (self.origin !== 'null') localStorage.setItem('xroom.privacy', JSON.stringify({ hideAddress: true })); };

function room() {
  return `/r/${randomBytes(16).toString('base64url')}?test=1#${randomBytes(32).toString('base64url')}`;
}

describe('TURN with coturn', () => {
  let browser;
  let turn;
  before(async () => {
    assert.ok(existsSync(TURNSERVER), 'coturn is installed (.ci/deps test installs it)');
    browser = await launch();
    turn = await startCoturn();
  });
  after(async () => {
    await browser?.close();
    await turn?.stop();
  });

  test('relay only: frames flow through coturn, and the selected pair is relayed', async () => {
    const d = await startDaemon({ ice: { turn: { urls: [`turn:127.0.0.1:${turn.port}?transport=udp`], secret: SECRET, ttl_s: 600 } } });
    try {
      const link = room();
      const [a, b] = await callOf(browser, d, link, ['Hidden A', 'Hidden B'], { init: HIDE });
      for (const p of [a, b]) {
        const q = await waitFor(async () => {
          const s = (await stats(p.page)).peers[0];
          return s?.route === 'relayed' && s;
        }, { timeout: PATIENCE, what: 'a relayed route' });
        assert.equal(q.relayOnly, true);
        assert.equal(q.badge, 'relayed');
        assert.deepEqual(Object.keys(q.candidatesSent).filter((t) => t !== 'relay'), [], 'only relay candidates were sent');
        assert.equal(await p.page.locator('[data-badge="relayed"]').first().isVisible(), true, 'the tile says relayed');
      }
      assert.match(turn.log, /session|allocation|ALLOCATE/i, 'coturn saw the allocations');
      for (const p of [a, b]) await p.context.close();
    } finally {
      await d.stop();
    }
  });

  test('short-lived credentials are renewed by a quiet rejoin before they expire; the relayed call goes on', async () => {
    const d = await startDaemon({ ice: { turn: { urls: [`turn:127.0.0.1:${turn.port}?transport=udp`], secret: SECRET, ttl_s: 60 } } });
    try {
      const link = room();
      const [a, b] = await callOf(browser, d, link, ['Hidden A', 'Hidden B'], { init: HIDE });
      const before = await Promise.all([a, b].map((p) => stats(p.page)));
      const t0 = Date.now();
      // Each page rejoins once, before its credentials expire, and gets new ones.
      const renewed = await waitFor(async () => {
        const all = await Promise.all([a, b].map((p) => stats(p.page)));
        return all.every((s, i) => s.renewals >= 1 && s.signaling === 'joined' && s.peerId !== before[i].peerId &&
          s.turnExpiry > before[i].turnExpiry && s.peers[0]?.peerId) && all;
      }, { timeout: 60_000 + PATIENCE, what: 'both pages renewed their credentials' });
      const renewedAt = Date.now();
      console.log(`# renewed ${renewedAt - t0} ms after the call was up; credentials ${before.map((s) => Math.round((s.turnExpiry - t0) / 1000))} s from expiry then`);
      for (const [i, s] of renewed.entries()) {
        assert.ok(renewedAt < before[i].turnExpiry, 'renewed before the old ones expired');
        assert.equal(s.tiles, 2, 'nobody left the call');
        assert.equal(s.peers[0].gen, before[i].peers[0].gen, 'the same connection');
        assert.equal(s.signalsRejected, 0);
      }
      const after = await waitMediaFlowing([a, b], { timeout: PATIENCE, what: 'media after the renewal' });
      for (const s of after) assert.equal(s.peers[0].route, 'relayed');
      for (const p of [a, b]) {
        assert.equal(await p.page.locator('#banner').isVisible(), false, 'no banner: the rejoin is quiet');
        await p.context.close();
      }
    } finally {
      await d.stop();
    }
  });

  test('a wrong TURN secret fails with a clear message on the tile, not a black tile', async () => {
    const d = await startDaemon({ ice: { turn: { urls: [`turn:127.0.0.1:${turn.port}?transport=udp`], secret: 'not-the-secret', ttl_s: 600 } } });
    try {
      const link = room();
      const a = await joinPage(browser, d, link, { name: 'Hidden A', init: HIDE });
      const b = await joinPage(browser, d, link, { name: 'Hidden B', init: HIDE });
      for (const p of [a, b]) {
        await p.page.locator('[data-badge="failed"]').first().waitFor({ timeout: PATIENCE });
        const tile = p.page.locator('.tile[data-badge="failed"]').first();
        const text = await tile.innerText();
        assert.match(text, /relay|TURN|connect/i, `the tile explains: ${text}`);
        const s = (await stats(p.page)).peers[0];
        assert.equal(s.framesDecoded ?? 0, 0);
      }
      for (const p of [a, b]) await p.context.close();
    } finally {
      await d.stop();
    }
  });
});
