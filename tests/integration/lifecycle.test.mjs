// The daemon as a process (config.md): --check-config exit codes and JSON
// paths, --version and --help, refusing to start on a bad config, SIGHUP
// reload (applied, or refused keeping the old config) and SIGTERM/SIGINT
// shutdown (1001 to every socket, exit 0 within 5 s).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  BASE_CONFIG, connect, deepMerge, joinPeer, roomId, runCli, sleep, startDaemon, tempFile,
  tryJoin, waitFor, XROOMD,
} from './harness.mjs';
import { spawn } from 'node:child_process';

const EXAMPLE = {
  listen: '0.0.0.0:8443',
  tls: { cert: '/etc/xroom/cert.pem', key: '/etc/xroom/key.pem' },
  web_root: '/usr/share/xroom/web',
  state_dir: '/var/lib/xroom',
  allowed_origins: ['https://rooms.example.org'],
  rooms: { max_peers: 6, max_rooms: 20000 },
  limits: {
    max_connections: 15000,
    max_message_bytes: 65536,
    max_queued_bytes: 1048576,
    messages_per_second: 50,
    message_burst: 200,
    idle_timeout_s: 60,
  },
  ice: {
    stun: ['stun:turn.example.org:3478'],
    turn: {
      urls: ['turn:turn.example.org:3478?transport=udp', 'turns:turn.example.org:5349?transport=tcp'],
      secret: 'shared-with-coturn',
      ttl_s: 86400,
    },
  },
  admin: { token_sha256: 'hex of the SHA-256 of the admin token' },
  experiments: [
    {
      name: 'start-button',
      variants: [
        { name: 'control', weight: 50, params: { cta: 'Start a room' } },
        { name: 'bold', weight: 50, params: { cta: 'Start a free, private room now' } },
      ],
      goals: ['room-created', 'call-connected'],
    },
  ],
};
const SHA256_HEX = 'a'.repeat(64);

function check(text) {
  return runCli(['--check-config', tempFile(typeof text === 'string' ? text : JSON.stringify(text))]);
}

describe('--check-config', () => {
  test('an empty object and a minimal config are valid (exit 0)', () => {
    for (const cfg of [{}, { rooms: { max_peers: 2 } }, { limits: {} }]) {
      const r = check(cfg);
      assert.equal(r.code, 0, `${JSON.stringify(cfg)}: ${r.output}`);
    }
  });

  test('the example from config.md validates once tls is removed', () => {
    const { tls, ...noTls } = EXAMPLE;
    const r = check({ ...noTls, admin: { token_sha256: SHA256_HEX } });
    assert.equal(r.code, 0, r.output);
  });

  test('the verbatim example either validates or names only tls, token or path members', () => {
    const r = check(EXAMPLE);
    assert.ok([0, 2].includes(r.code), `exit ${r.code}: ${r.output}`);
    if (r.code === 2) {
      assert.match(r.output, /tls|token_sha256|web_root|state_dir/, r.output);
      assert.doesNotMatch(r.output, /\b(rooms|limits|ice|experiments|allowed_origins|listen)\.?[a-z_.[\]0-9]*:/, r.output);
    }
  });

  const bad = [
    ['an unknown top-level member', { bogus: 1 }, /\bbogus\b/],
    ['an unknown nested member', { limits: { max_mesage_bytes: 2048 } }, /limits\.max_mesage_bytes/],
    ['an unknown member in rooms', { rooms: { max_peer: 2 } }, /rooms\.max_peer\b/],
    ['a wrong type (string for integer)', { limits: { max_message_bytes: '65536' } }, /limits\.max_message_bytes/],
    ['a wrong type (object for object member given a number)', { rooms: 5 }, /\brooms\b/],
    ['a wrong type (float for integer)', { rooms: { max_peers: 2.5 } }, /rooms\.max_peers/],
    ['a wrong type (boolean)', { limits: { idle_timeout_s: true } }, /limits\.idle_timeout_s/],
    ['a wrong type in allowed_origins', { allowed_origins: 'http://x' }, /allowed_origins/],
    ['a wrong element type in allowed_origins', { allowed_origins: [5] }, /allowed_origins/],
    ['max_message_bytes below range', { limits: { max_message_bytes: 1023 } },
      /limits\.max_message_bytes: must be an integer from 1024 to 1048576/],
    ['max_message_bytes above range', { limits: { max_message_bytes: 1048577 } },
      /limits\.max_message_bytes: must be an integer from 1024 to 1048576/],
    ['a negative value', { rooms: { max_rooms: -1 } }, /rooms\.max_rooms/],
    ['not JSON', 'this is { not json', /./],
    ['a JSON array', '[]', /./],
    ['trailing garbage', '{} {}', /./],
  ];
  for (const [name, cfg, re] of bad) {
    test(`${name} fails with exit 2 and names it`, () => {
      const r = check(cfg);
      assert.equal(r.code, 2, `exit ${r.code}: ${r.output}`);
      assert.match(r.output, re);
    });
  }

  test('a duplicate key is an error (exit 2)', () => {
    const r = check('{"rooms":{"max_peers":2,"max_peers":3}}');
    assert.equal(r.code, 2, r.output);
    assert.match(r.output, /max_peers|duplicate/i);
    const r2 = check('{"limits":{},"limits":{}}');
    assert.equal(r2.code, 2, r2.output);
  });

  const ranges = [
    ['limits', 'idle_timeout_s', 2, 3600],
    ['limits', 'messages_per_second', 1, 10000],
    ['limits', 'message_burst', 1, 100000],
    ['limits', 'max_connections', 1, 1000000],
    ['limits', 'max_queued_bytes', 4096, 268435456],
    ['limits', 'max_message_bytes', 1024, 1048576],
    ['rooms', 'max_peers', 1, 64],
    ['rooms', 'max_rooms', 1, 1000000],
  ];
  for (const [group, key, lo, hi] of ranges) {
    test(`${group}.${key} accepts ${lo}..${hi} and refuses ${lo - 1} and ${hi + 1}`, () => {
      for (const v of [lo, hi]) {
        const r = check({ [group]: { [key]: v } });
        assert.equal(r.code, 0, `${v}: ${r.output}`);
      }
      for (const v of [lo - 1, hi + 1]) {
        const r = check({ [group]: { [key]: v } });
        assert.equal(r.code, 2, `${v}: exit ${r.code} ${r.output}`);
        assert.match(r.output, new RegExp(`${group}\\.${key}`), r.output);
      }
    });
  }

  test('a missing file is an error', () => {
    const r = runCli(['--check-config', '/nonexistent/xroomd-config.json']);
    assert.notEqual(r.code, 0, r.output);
    assert.notEqual(r.code, null, 'exits by itself');
  });
});

describe('command line', () => {
  test('--version prints a version and exits 0', () => {
    const r = runCli(['--version']);
    assert.equal(r.code, 0, r.output);
    assert.match(r.output, /\d+\.\d+/);
  });

  test('--help prints usage naming the flags and exits 0', () => {
    const r = runCli(['--help']);
    assert.equal(r.code, 0, r.output);
    for (const flag of ['--config', '--listen', '--web-root', '--state-dir', '--log-level', '--check-config']) {
      assert.ok(r.output.includes(flag), `--help mentions ${flag}`);
    }
  });

  test('an unknown flag is an error', () => {
    const r = runCli(['--no-such-flag']);
    assert.notEqual(r.code, 0);
    assert.notEqual(r.code, null, 'exits by itself');
  });

  test('the daemon does not start on an invalid config and names the path', async () => {
    const p = tempFile(JSON.stringify({ rooms: { max_peers: 0 } }));
    const proc = spawn(XROOMD, ['--config', p, '--listen', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    proc.stdout.on('data', (s) => { out += s; });
    proc.stderr.on('data', (s) => { out += s; });
    const code = await new Promise((res) => {
      const t = setTimeout(() => { proc.kill('SIGKILL'); res('timeout'); }, 5000);
      proc.on('exit', (c) => { clearTimeout(t); res(c); });
    });
    assert.notEqual(code, 'timeout', 'it exits');
    assert.notEqual(code, 0);
    assert.match(out, /rooms\.max_peers/);
    assert.doesNotMatch(out, /listening on/);
  });
});

/** Poll with fresh rooms until welcome.maxPeers reads `n`. */
async function awaitMaxPeers(d, n) {
  return waitFor(async () => {
    const r = await tryJoin(d, roomId());
    r.client?.close();
    return r.welcome?.maxPeers === n;
  }, { timeout: 5000, what: `maxPeers ${n}` });
}

describe('SIGHUP', { concurrency: true }, () => {
  test('lowering rooms.max_peers applies to new joins; existing connections stay', async () => {
    const d = await startDaemon({ rooms: { max_peers: 3 } });
    try {
      const room = roomId();
      const a = await joinPeer(d, room);
      const b = await joinPeer(d, room);
      const w = await connect(d, roomId());
      await a.expect('peer-joined');
      assert.equal(a.welcome.maxPeers, 3);
      d.writeConfig(deepMerge(BASE_CONFIG, { rooms: { max_peers: 2 } }));
      d.signal('SIGHUP');
      await awaitMaxPeers(d, 2);
      const r = await tryJoin(d, room);
      assert.equal(r.error?.code, 'room-full', JSON.stringify(r.error ?? r.welcome));
      assert.equal(r.close?.code, 1008);
      for (const c of [a, b, w]) assert.ok(c.isOpen, 'no connection dropped by the reload');
      a.send({ type: 'signal', to: b.id, data: 'still here' });
      assert.deepEqual(await b.next(), { type: 'signal', from: a.id, data: 'still here' });
      assert.deepEqual(await w.sync(), []);
      await w.join();
      assert.equal(w.welcome.maxPeers, 2);
      for (const c of [a, b, w]) c.close();
    } finally { await d.stop(); }
  });

  test('a config that fails validation is refused and the old one stays', async () => {
    const d = await startDaemon({ rooms: { max_peers: 3 } });
    try {
      const a = await joinPeer(d, roomId());
      for (const text of ['{"rooms":{"max_peers":0}}', '{"bogus":true}', 'not json at all', '{"rooms":{"max_peers":2,"max_peers":2}}']) {
        d.writeConfig(text, { raw: true });
        d.signal('SIGHUP');
        await sleep(400);
        assert.ok(d.running, `daemon survives a bad reload (${text})`);
        const r = await tryJoin(d, roomId());
        assert.equal(r.welcome?.maxPeers, 3, `old config kept after ${text}`);
        r.client.close();
      }
      assert.ok(a.isOpen);
      // and a good file afterwards is applied
      d.writeConfig(deepMerge(BASE_CONFIG, { rooms: { max_peers: 4 } }));
      d.signal('SIGHUP');
      await awaitMaxPeers(d, 4);
      a.close();
    } finally { await d.stop(); }
  });

  test('limits change on reload (max_message_bytes) for new messages', async () => {
    const d = await startDaemon({ limits: { max_message_bytes: 65536 } });
    try {
      d.writeConfig(deepMerge(BASE_CONFIG, { limits: { max_message_bytes: 1024 }, rooms: { max_peers: 7 } }));
      d.signal('SIGHUP');
      await awaitMaxPeers(d, 7);
      const c = await connect(d, roomId());
      c.send({ type: 'ping', id: 'x'.repeat(2000) });
      await c.expectError('too-large');
      assert.equal((await c.waitClose()).code, 1009);
    } finally { await d.stop(); }
  });
});

describe('shutdown', { concurrency: true }, () => {
  for (const sig of ['SIGTERM', 'SIGINT']) {
    test(`${sig}: every socket is closed 1001 and the process exits 0 within 5 s`, async () => {
      const d = await startDaemon({});
      try {
        const room = roomId();
        const a = await joinPeer(d, room);
        const b = await joinPeer(d, room);
        const c = await joinPeer(d, roomId());
        const w = await connect(d, roomId());
        const t0 = Date.now();
        d.signal(sig);
        const closes = await Promise.all([a, b, c, w].map((x) => x.waitClose(5000)));
        assert.deepEqual(closes.map((x) => x.code), [1001, 1001, 1001, 1001]);
        const exit = await d.waitExit(5000);
        assert.ok(Date.now() - t0 <= 5000, 'within 5 s');
        assert.deepEqual(exit, { code: 0, signal: null });
      } finally { await d.stop(); }
    });
  }

  test('SIGTERM with no connections exits 0 promptly', async () => {
    const d = await startDaemon({});
    try {
      const t0 = Date.now();
      d.signal('SIGTERM');
      const exit = await d.waitExit(5000);
      assert.deepEqual(exit, { code: 0, signal: null });
      assert.ok(Date.now() - t0 < 5000);
    } finally { await d.stop(); }
  });
});
