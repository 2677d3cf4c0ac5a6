// Plugins on the daemon's side (spec/plugins.md, src/features/plugin.c): the list at
// /api/plugins (bundled and the operator's), every plugin file served under
// /plugins/<id>/ with the plugin CSP, CORS for module scripts and no cookie,
// nothing outside a plugin's folder; and the start refused, naming the
// folder and the rule, for a plugin without a privacy policy, one asking
// for an unknown permission, a missing folder or a bad config member.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WEB_ROOT, XROOMD, request, startDaemon } from './harness.mjs';

const PLUGIN_CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; font-src 'self'; "
  + "media-src 'self'; connect-src 'none'; form-action 'none'; frame-ancestors 'self'; base-uri 'none'; sandbox allow-scripts";

let dir;
before(() => { dir = mkdtempSync(join(tmpdir(), 'xroom-plugins-it-')); });
after(() => rmSync(dir, { recursive: true, force: true }));

/** A plugin folder under the test's directory. */
function folder(name, manifest, files = {}) {
  const p = join(dir, name);
  mkdirSync(p, { recursive: true });
  writeFileSync(join(p, 'manifest.json'), typeof manifest === 'string' ? manifest : JSON.stringify(manifest));
  for (const [f, text] of Object.entries({ 'index.html': '<!doctype html><title>p</title>', ...files })) writeFileSync(join(p, f), text);
  return p;
}

const manifest = (over = {}) => ({
  id: 'third', name: 'Third party', version: '1.2.3', author: 'Someone else', description: 'A test plugin.',
  entry: 'index.html', permissions: ['messages', 'peers'], privacy_policy: 'PRIVACY.md', ...over,
});

/** Runs the daemon with `config` and expects it to refuse to start. */
function refused(config) {
  const cfg = join(dir, `c-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(cfg, JSON.stringify(config));
  const r = spawnSync(XROOMD, ['--config', cfg, '--listen', '127.0.0.1:0', '--web-root', WEB_ROOT,
    '--state-dir', join(dir, 'state')], { encoding: 'utf8', timeout: 10000 });
  assert.notEqual(r.status, 0, 'it must not start');
  assert.notEqual(r.status, null, 'it exits by itself');
  return r.stderr;
}

describe('serving plugins', () => {
  let d;
  before(async () => {
    const p = folder('third', manifest(), { 'PRIVACY.md': 'We keep nothing.', 'main.js': 'export {};', 'style.css': 'p{}' });
    d = await startDaemon({ plugins: [p] });
  });
  after(async () => { await d?.stop(); });

  test('/api/plugins lists the bundled plugins and the operator\'s, as published', async () => {
    const r = await request(d, { path: '/api/plugins' });
    assert.equal(r.status, 200);
    assert.match(r.headers['content-type'], /application\/json/);
    const { plugins } = JSON.parse(r.body);
    const byId = Object.fromEntries(plugins.map((p) => [p.id, p]));
    assert.equal(byId.whiteboard?.bundled, true);
    assert.equal(byId.poll?.bundled, true);
    assert.equal(byId._shared, undefined);
    assert.deepEqual(byId.third, { ...manifest(), bundled: false });
    assert.equal((await request(d, { method: 'DELETE', path: '/api/plugins' })).status, 405);
  });

  test('plugin files carry the plugin CSP, CORS for module scripts, and no cookie', async () => {
    for (const path of ['/plugins/third/index.html', '/plugins/third/main.js', '/plugins/third/style.css',
      '/plugins/third/PRIVACY.md', '/plugins/whiteboard/index.html']) {
      const r = await request(d, { path });
      assert.equal(r.status, 200, path);
      assert.equal(r.headers['content-security-policy'], PLUGIN_CSP, path);
      // No WebRTC from a plugin page (Chromium; CSP does not cover it).
      assert.equal(r.headers['connection-allowlist'], '(response-origin);webrtc=block', path);
      assert.equal(r.headers['access-control-allow-origin'], '*', path);
      assert.equal(r.headers['cross-origin-resource-policy'], 'cross-origin', path);
      assert.equal(r.headers['set-cookie'], undefined, path);
      assert.equal(r.headers['x-content-type-options'], 'nosniff', path);
    }
    assert.match((await request(d, { path: '/plugins/third/main.js' })).headers['content-type'], /text\/javascript/);
    // What the bundled plugins share is served the same way, and is no plugin.
    const shared = await request(d, { path: '/plugins/_shared/bridge.js' });
    assert.equal(shared.status, 200);
    assert.equal(shared.headers['content-security-policy'], PLUGIN_CSP);
    assert.equal(shared.headers['access-control-allow-origin'], '*');
    assert.equal((await request(d, { path: '/plugins/_shared/missing.js' })).status, 404);
    // The app's own pages keep theirs.
    const app = await request(d, { path: '/' });
    assert.match(app.headers['content-security-policy'], /frame-ancestors 'none'/);
    assert.equal(app.headers['cross-origin-resource-policy'], 'same-origin');
    assert.equal(app.headers['access-control-allow-origin'], undefined);
  });

  test('a plugin page asked for as a top-level page is refused, sandboxed; in a frame it is served', async () => {
    for (const path of ['/plugins/third/index.html', '/plugins/whiteboard/index.html', '/plugins/_shared/webrtc-probe.html']) {
      for (const dest of ['document', 'empty', 'object', 'embed']) {
        const r = await request(d, { path, headers: { 'sec-fetch-dest': dest } });
        assert.equal(r.status, 403, `${path} as ${dest}`);
        assert.match(String(r.headers['content-security-policy']), /(^|[,;]\s*)sandbox($|[,;])/);
        assert.match(r.text, /only inside an xroom call/);
        assert.doesNotMatch(r.text, /<script/i);
      }
      for (const dest of ['iframe', 'frame']) {
        const r = await request(d, { path, headers: { 'sec-fetch-dest': dest } });
        assert.equal(r.status, 200, `${path} as ${dest}`);
        assert.equal(r.headers['content-security-policy'], PLUGIN_CSP);
      }
    }
    // Any other file of a plugin opened as a page (an SVG would run scripts) is refused too.
    for (const dest of ['document', 'object', 'embed']) {
      const r = await request(d, { path: '/plugins/third/main.js', headers: { 'sec-fetch-dest': dest } });
      assert.equal(r.status, 403, `main.js as ${dest}`);
    }
    // Its scripts and styles load as they always did.
    assert.equal((await request(d, { path: '/plugins/third/main.js', headers: { 'sec-fetch-dest': 'script' } })).status, 200);
    assert.equal((await request(d, { path: '/plugins/third/style.css', headers: { 'sec-fetch-dest': 'style' } })).status, 200);
  });

  test('nothing outside a plugin\'s folder, no unknown plugin, no folder listing', async () => {
    for (const path of ['/plugins/third/../../../etc/passwd', '/plugins/third/%2e%2e/manifest.json', '/plugins/nope/index.html',
      '/plugins/third/', '/plugins/third', '/plugins/', '/plugins/third/.hidden', '/plugins/third/missing.js']) {
      const r = await request(d, { path });
      assert.equal(r.status, 404, path);
    }
    // A miss under /plugins/ is sandboxed too (a second CSP: both apply).
    for (const path of ['/plugins/nope/index.html', '/plugins/third/', '/plugins/', '/plugins/third/.hidden', '/plugins/third/missing.js',
      '/plugins/_shared/missing.js']) {
      const r = await request(d, { path });
      assert.equal(r.status, 404, path);
      assert.match(String(r.headers['content-security-policy']), /(^|[,;]\s*)sandbox($|[,;])/, path);
      assert.doesNotMatch(r.text, /<script/i, path);
    }
  });
});

describe('refused at start', () => {
  test('a plugin not bundled without a privacy policy', () => {
    const m = manifest({ id: 'nopolicy' });
    delete m.privacy_policy;
    const p = folder('nopolicy', m);
    const err = refused({ plugins: [p] });
    assert.match(err, new RegExp(`plugin folder ${p}: "privacy_policy" is required`));
  });

  test('a manifest asking for an unknown permission', () => {
    const p = folder('camera', manifest({ id: 'camera', permissions: ['messages', 'camera'] }), { 'PRIVACY.md': 'x' });
    assert.match(refused({ plugins: [p] }), new RegExp(`plugin folder ${p}: permission "camera" is unknown`));
  });

  test('an entry outside the folder, a duplicate id, a missing folder, a bad member', () => {
    const out = folder('escape', manifest({ id: 'escape', entry: '../index.html' }), { 'PRIVACY.md': 'x' });
    assert.match(refused({ plugins: [out] }), /"entry" must name a file inside the folder/);
    const dup = folder('dup', manifest({ id: 'whiteboard' }), { 'PRIVACY.md': 'x' });
    assert.match(refused({ plugins: [dup] }), /"id" "whiteboard" is already used/);
    assert.match(refused({ plugins: [join(dir, 'absent')] }), /plugin folder .*absent: not a readable folder/);
    assert.match(refused({ plugins: 'one-folder' }), /plugins: must be an array of strings/);
  });
});
