// Plugins (web/js/features/plugins.js) without a browser: manifests as published,
// and the port API's checks with a fake data link, a fake port and a
// memory store: permissions, sizes, the storage quota, the rate limit,
// and messages only between pages that run the same plugin.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_DATA, MAX_STORE, Plugins, entryOf, jsonBytes, parseManifest, policyOf, starterOf } from '../../web/js/features/plugins.js';

const manifest = (over = {}) => ({
  id: 'wb', name: 'W', version: '1', author: 'a', description: '', entry: 'index.html',
  permissions: ['messages', 'peers', 'names', 'storage'], privacy_policy: 'PRIVACY.md', bundled: false, ...over,
});

test('manifests: what the server published is checked again', () => {
  assert.deepEqual(parseManifest(manifest()), manifest());
  for (const bad of [null, manifest({ id: 'Bad' }), manifest({ entry: '../x.html' }), manifest({ entry: '/x.html' }),
    manifest({ permissions: ['camera'] }), manifest({ name: 5 })]) {
    assert.equal(parseManifest(bad), null);
  }
  assert.deepEqual(policyOf(manifest()), { kind: 'file', href: '/plugins/wb/PRIVACY.md' });
  assert.deepEqual(policyOf(manifest({ privacy_policy: 'https://x.example/p' })), { kind: 'url', href: 'https://x.example/p' });
  assert.equal(policyOf(manifest({ privacy_policy: undefined })).kind, 'none');
  assert.equal(jsonBytes({ a: 'é' }), 10);
  assert.equal(jsonBytes(undefined), -1);
  const cyclic = {};
  cyclic.self = cyclic;
  assert.equal(jsonBytes(cyclic), -1);
});

/** A Plugins with a fake link to peers `tabs` (all open), one plugin running with `granted`. */
function setup(granted) {
  const sent = [];
  const handlers = new Map();
  const link = {
    handle: (t, fn) => handlers.set(t, fn),
    openListeners: new Set(),
    openTabs: () => ['P1', 'P2'],
    send: (tab, v) => { sent.push({ tab, v }); return true; },
  };
  const mem = new Map();
  const storage = { getItem: (k) => mem.get(k) ?? null, setItem: (k, v) => mem.set(k, v) };
  const p = new Plugins(link, { tab: 'ME', name: (t) => `name-${t}`, peers: () => ['P1', 'P2'], storage });
  p.available.set('wb', manifest({ permissions: granted }));
  p.loaded = true;
  const out = [];
  p.running.set('wb', { manifest: manifest({ permissions: granted }), granted, port: { postMessage: (m) => out.push(m), close() {} },
    by: 'ME', tokens: 200, refill: performance.now() });
  const ask = (id, method, params) => { p.request('wb', { id, method, params }); return out.at(-1); };
  return { p, sent, handlers, out, ask, mem };
}

test('a method outside the granted permissions is forbidden; malformed requests are bad requests', () => {
  const { ask } = setup(['messages']);
  assert.equal(ask(1, 'peers', {}).error.code, 'forbidden');
  assert.equal(ask(2, 'storage.set', { key: 'k', value: 1 }).error.code, 'forbidden');
  assert.equal(ask(3, 'keys', {}).error.code, 'bad-request');
  assert.equal(ask(null, 'send', {}).error.code, 'bad-request');
  assert.equal(ask(4, 'send', {}).error.code, 'bad-request', 'no data');
  assert.equal(ask(5, 'send', { data: 'x'.repeat(MAX_DATA) }).error.code, 'too-large');
});

test('send goes only to peers that run the plugin; messages come only from them', () => {
  const { p, sent, handlers, out, ask } = setup(['messages', 'peers', 'names']);
  assert.deepEqual(ask(1, 'send', { data: { a: 1 } }).result, { sent: 0 }, 'nobody runs it yet');
  handlers.get('plugin-on')('P1', { id: 'wb', by: 'P1' });
  assert.deepEqual(out.at(-1), { event: 'peer-joined', data: { id: 'P1', name: 'name-P1' } });
  assert.ok(sent.some((s) => s.tab === 'P1' && s.v.t === 'plugin-on'), 'told P1 that we run it too');
  assert.deepEqual(ask(2, 'peers', {}).result, [{ id: 'P1', name: 'name-P1' }]);
  assert.deepEqual(ask(3, 'send', { data: { a: 1 } }).result, { sent: 1 });
  assert.deepEqual(sent.at(-1), { tab: 'P1', v: { t: 'plugin-msg', id: 'wb', data: { a: 1 } } });
  assert.equal(ask(4, 'send', { data: 1, to: 'P2' }).error.code, 'bad-request', 'P2 does not run it');
  const n = out.length;
  handlers.get('plugin-msg')('P2', { id: 'wb', data: 'spoof' });
  assert.equal(out.length, n, 'nothing from a peer that does not run it');
  handlers.get('plugin-msg')('P1', { id: 'wb', data: 'hi' });
  assert.deepEqual(out.at(-1), { event: 'message', data: { from: 'P1', data: 'hi' } });
  handlers.get('plugin-off')('P1', { id: 'wb' });
  assert.deepEqual(out.at(-1), { event: 'peer-left', data: { id: 'P1', name: 'name-P1' } });
  assert.equal(p.runners('wb').length, 0);
});

test('without names, peers carry ids only', () => {
  const { handlers, ask } = setup(['peers']);
  handlers.get('plugin-on')('P2', { id: 'wb' });
  assert.deepEqual(ask(1, 'peers', {}).result, [{ id: 'P2' }]);
});

test('storage: per plugin, 64 KiB in all, null deletes', () => {
  const { ask, mem } = setup(['storage']);
  assert.equal(ask(1, 'storage.get', { key: 'a' }).result, null);
  assert.equal(ask(2, 'storage.set', { key: 'a', value: { n: 1 } }).result, true);
  assert.deepEqual(ask(3, 'storage.get', { key: 'a' }).result, { n: 1 });
  assert.ok(mem.has('xroom.plugin.wb'));
  assert.equal(ask(4, 'storage.set', { key: 'big', value: 'x'.repeat(MAX_STORE) }).error.code, 'too-large');
  assert.deepEqual(ask(5, 'storage.get', { key: 'a' }).result, { n: 1 }, 'a refused write changes nothing');
  assert.equal(ask(6, 'storage.set', { key: 'a', value: null }).result, true);
  assert.equal(ask(7, 'storage.get', { key: 'a' }).result, null);
  assert.equal(ask(8, 'storage.get', { key: 5 }).error.code, 'bad-request');
});

test('a plugin that floods is slowed down', () => {
  const { ask, p } = setup(['storage']);
  let refused = 0;
  for (let i = 0; i < 400; i++) if (ask(i + 1, 'storage.get', { key: 'a' }).error) refused += 1;
  assert.ok(refused >= 150, `refused ${refused} of 400 sent at once`);
  assert.ok(p.counters.refused >= 150);
});

test('run, connect, evict, stop: the frame the view made gets one port; a plugin that navigates is stopped', async () => {
  const { p, sent } = setup(['messages']);
  p.running.clear();
  const events = [];
  for (const e of ['changed', 'stopped', 'evicted']) p.on(e, (ev) => events.push([e, ev.id ?? '']));
  const m = p.run('wb');
  assert.equal(m?.id, 'wb');
  assert.equal(entryOf(m), '/plugins/wb/index.html');
  assert.equal(p.run('wb'), null, 'runs already');
  assert.equal(p.run('nope'), null);
  assert.deepEqual(sent.filter((s) => s.v.t === 'plugin-on').map((s) => s.tab), ['P1', 'P2']);
  const posted = [];
  const frame = { postMessage: (msg, origin, transfer) => posted.push({ msg, origin, transfer }) };
  p.connect('wb', frame);
  p.connect('wb', frame);
  assert.equal(posted.length, 1, 'one port, once');
  assert.deepEqual(posted[0].msg, { type: 'xroom:init', api: 1, permissions: ['messages'] });
  assert.equal(posted[0].origin, '*');
  assert.equal(posted[0].transfer.length, 1);
  const warn = console.warn;
  console.warn = () => {};
  try { p.evict('wb'); } finally { console.warn = warn; }
  posted[0].transfer[0].close();
  assert.ok(!p.running.has('wb'));
  assert.equal(p.counters.evicted, 1);
  assert.deepEqual(events.slice(1), [['stopped', 'wb'], ['changed', ''], ['evicted', 'wb']]);
  assert.deepEqual(sent.filter((s) => s.v.t === 'plugin-off').map((s) => s.tab), ['P1', 'P2']);
  p.evict('wb');
  assert.equal(p.counters.evicted, 1, 'not running: nothing to evict');
});


test('plugin-on.by is checked against the sender: never us, never a tab not heard to run it', () => {
  const runners = new Map([['tab-c', 'tab-c']]);
  assert.equal(starterOf('tab-b', 'tab-b', 'tab-a', runners), 'tab-b', 'the sender itself');
  assert.equal(starterOf('tab-c', 'tab-b', 'tab-a', runners), 'tab-c', 'a tab that said it runs it');
  assert.equal(starterOf('tab-a', 'tab-b', 'tab-a', runners), 'tab-b', 'not us: "You started" is never a peer\'s word');
  assert.equal(starterOf('tab-z', 'tab-b', 'tab-a', runners), 'tab-b', 'not a tab never heard from');
  assert.equal(starterOf(42, 'tab-b', 'tab-a', runners), 'tab-b');
  assert.equal(starterOf(undefined, 'tab-b', 'tab-a', runners), 'tab-b');
});
