// Deployment guards: the shipped systemd unit keeps its hardening (and
// allows the netlink socket the daemon needs, see below); the daemon
// refuses to start when it cannot list the network interfaces, because
// libwebsockets 4.1.6 would then listen on every address instead of the
// one configured (shown with an LD_PRELOAD that makes getifaddrs() fail, as
// a sandbox without AF_NETLINK does). The .deb itself is tested by
// tests/package/test-deb.sh.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { REPO_ROOT, WEB_ROOT, XROOMD } from './harness.mjs';

const UNIT = join(REPO_ROOT, 'docs', 'deploy', 'xroomd.service');

describe('the systemd unit', () => {
  const text = readFileSync(UNIT, 'utf8');
  const values = (key) => text.split('\n').filter((l) => l.startsWith(`${key}=`)).map((l) => l.slice(key.length + 1));

  test('runs the packaged binary with the config under /etc, reloads with SIGHUP', () => {
    assert.deepEqual(values('ExecStart'), ['/usr/bin/xroomd --config /etc/xroom/xroomd.json']);
    assert.deepEqual(values('ExecReload'), ['/bin/kill -HUP $MAINPID']);
    assert.deepEqual(values('Restart'), ['on-failure']);
  });

  test('keeps every hardening setting', () => {
    const want = {
      DynamicUser: 'yes', StateDirectory: 'xroom', ProtectSystem: 'strict', ProtectHome: 'yes',
      NoNewPrivileges: 'yes', PrivateTmp: 'yes', PrivateDevices: 'yes', LimitNOFILE: '65536',
      CapabilityBoundingSet: '', AmbientCapabilities: '',
    };
    for (const [k, v] of Object.entries(want)) assert.deepEqual(values(k), [v], k);
    assert.ok(values('SystemCallFilter').includes('@system-service'));
    const fam = values('RestrictAddressFamilies')[0].split(/\s+/).sort();
    assert.deepEqual(fam, ['AF_INET', 'AF_INET6', 'AF_NETLINK', 'AF_UNIX']);
  });
});

describe('listening where it was told to', () => {
  test('refuses to start when the interfaces cannot be listed, instead of listening everywhere', (t) => {
    const cc = spawnSync('sh', ['-c', 'command -v cc'], { encoding: 'utf8' });
    if (cc.status !== 0) {
      t.skip('no C compiler to build the getifaddrs() shim');
      return;
    }
    const dir = mkdtempSync(join(tmpdir(), 'xroomd-ifa-'));
    try {
      writeFileSync(join(dir, 'shim.c'), `#include <errno.h>
#include <ifaddrs.h>
int getifaddrs(struct ifaddrs **ifap) { (void)ifap; errno = EAFNOSUPPORT; return -1; }
`);
      const b = spawnSync('cc', ['-shared', '-fPIC', '-o', join(dir, 'shim.so'), join(dir, 'shim.c')], { encoding: 'utf8' });
      assert.equal(b.status, 0, b.stderr);
      const run = (listen) => spawnSync(XROOMD, ['--listen', listen, '--state-dir', join(dir, 'state'),
        '--web-root', WEB_ROOT], {
        encoding: 'utf8',
        timeout: 1500,
        killSignal: 'SIGTERM',
        // an ASan build wants its runtime first; the shim is harmless to it
        env: { ...process.env, LD_PRELOAD: join(dir, 'shim.so'), ASAN_OPTIONS: 'verify_asan_link_order=0:detect_leaks=0' },
      });
      const r = run('127.0.0.1:0');
      assert.equal(r.status, 1, `exit status; stderr:\n${r.stderr}`);
      assert.match(r.stderr, /libwebsockets would listen on every address instead of 127\.0\.0\.1/);
      assert.doesNotMatch(r.stderr, /listening on/);
      // asked for every address, it may start: it is what was asked (stopped by the timeout)
      const any = run('0.0.0.0:0');
      assert.match(any.stderr, /listening on http:\/\/0\.0\.0\.0:/, any.stderr);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
