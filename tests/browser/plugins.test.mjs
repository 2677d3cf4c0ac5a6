// Plugins (web/js/features/plugins.js, views/plugins-view.js; daemon: src/plugin.c) with
// the real daemon and Chromium: the bundled whiteboard and poll among
// three pages (consent first, a late joiner gets the board), and a hostile
// plugin that tries every way out of its sandbox while a listener on
// another loopback address waits for anything at all.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { createServer } from 'node:http';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { channelsOpen, daemonForSuite, joinPage, launch, pressControl, roomLink, startDaemon, waitFor, waitMediaFlowing, PATIENCE } from './util.mjs';

const here = dirname(fileURLToPath(import.meta.url));
let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

const pluginsOf = (page) => page.evaluate(() => window.xroomTest.plugins());

/** Opens the Plugins dialog, starts `name`, reads the consent dialog, runs it. */
async function startPlugin(page, name) {
  await pressControl(page, 'Plugins');
  const list = page.getByRole('dialog', { name: 'Plugins' });
  await list.getByRole('button', { name: new RegExp(`^(Start|Run) ${name}`) }).click();
  return consent(page, name);
}

/** Answers the consent dialog for `name` with Run it; returns its text. */
async function consent(page, name) {
  const dialog = page.getByRole('dialog', { name: `Run ${name}?` });
  await dialog.waitFor();
  // The policy is read once it is there (Run it stays disabled until then).
  await dialog.locator('[aria-busy="true"]').waitFor({ state: 'detached' });
  const text = await dialog.innerText();
  assert.doesNotMatch(text, /Loading…/);
  // The click starts the plugin's frame: its load is waited for by state
  // (data-ready) where the test needs it, not by the click, whose wait for
  // "navigations" would count the frame's load against the click's timeout.
  await dialog.getByRole('button', { name: 'Run it' }).click({ noWaitAfter: true });
  await dialog.waitFor({ state: 'hidden' });
  return text;
}

/** The notice someone else's start shows: Run <name>… then consent. */
async function joinPlugin(page, name) {
  await page.getByRole('button', { name: `Run ${name}…` }).click({ timeout: PATIENCE });
  return consent(page, name);
}

describe('bundled plugins: whiteboard and poll among three', () => {
  const suite = daemonForSuite();

  test('the daemon lists them, each asks first, strokes and votes reach everyone, a late joiner gets the board', async () => {
    const list = await suite.daemon.json('/api/plugins');
    const ids = list.plugins.map((p) => p.id);
    assert.ok(ids.includes('whiteboard') && ids.includes('poll'), `bundled plugins listed: ${ids}`);
    const link = roomLink();
    const join = (name) => suite.join(browser, link, { name });
    const a = await join('Ada');
    const b = await join('Brian');
    const c = await join('Cleo');
    await Promise.all([a, b, c].map((p) => channelsOpen(p, 2)));

    // A starts the whiteboard: the consent dialog shows what it may do.
    const text = await startPlugin(a.page, 'Whiteboard');
    assert.match(text, /comes with xroom/);
    assert.match(text, /Send messages to the same plugin/);
    assert.match(text, /Privacy policy/);
    // B and C are told who started it, and each decides.
    for (const p of [b, c]) {
      await p.page.getByText('Ada started Whiteboard.').waitFor({ timeout: PATIENCE });
      await joinPlugin(p.page, 'Whiteboard');
    }
    const board = (p) => p.page.frameLocator('iframe[data-plugin="whiteboard"]');
    for (const p of [a, b, c]) {
      await waitFor(async () => (await board(p).locator('body').getAttribute('data-ready')) === '1', { what: `${p.name}: whiteboard ready` });
      assert.match(await p.page.locator('#plugin-chips').innerText(), /Whiteboard · started by (Ada|you)/);
    }
    // A draws a stroke; it appears on B and C.
    const canvas = board(a).locator('canvas').first();
    const box = await canvas.boundingBox();
    await a.page.mouse.move(box.x + box.width * 0.2, box.y + box.height * 0.3);
    await a.page.mouse.down();
    for (let i = 1; i <= 10; i++) await a.page.mouse.move(box.x + box.width * (0.2 + i * 0.04), box.y + box.height * (0.3 + i * 0.02));
    await a.page.mouse.up();
    for (const p of [a, b, c]) {
      await waitFor(async () => Number(await board(p).locator('body').getAttribute('data-strokes')) >= 1, { what: `${p.name}: one stroke` });
    }
    // A late joiner who runs it gets the board from a peer.
    const d = await join('Dana');
    await d.page.getByText(/started Whiteboard\./).waitFor({ timeout: PATIENCE });
    await joinPlugin(d.page, 'Whiteboard');
    await waitFor(async () => Number(await board(d).locator('body').getAttribute('data-strokes')) >= 1,
      { timeout: PATIENCE, what: 'Dana: the board so far' });

    // The poll: A asks, B declines to run it and sees nothing of it; A and C vote.
    await startPlugin(a.page, 'Poll');
    await b.page.getByRole('button', { name: 'Decline Poll' }).click({ timeout: PATIENCE });
    await joinPlugin(c.page, 'Poll');
    const poll = (p) => p.page.frameLocator('iframe[data-plugin="poll"]');
    for (const p of [a, c]) await waitFor(async () => (await poll(p).locator('body').getAttribute('data-ready')) === '1', { what: `${p.name}: poll ready` });
    const pa = poll(a);
    await pa.getByLabel(/question/i).fill('Lunch?');
    await pa.getByLabel(/option 1/i).fill('Pizza');
    await pa.getByLabel(/option 2/i).fill('Salad');
    await pa.getByRole('button', { name: /create|ask/i }).click();
    for (const p of [a, c]) await poll(p).getByRole('button', { name: 'Vote for Pizza' }).waitFor({ timeout: PATIENCE });
    await pa.getByRole('button', { name: 'Vote for Pizza' }).click();
    await poll(c).getByRole('button', { name: 'Vote for Salad' }).click();
    for (const p of [a, c]) {
      await waitFor(async () => {
        const counts = await poll(p).locator('[data-count]').evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-count'))));
        return counts.length >= 2 && counts.reduce((x, y) => x + y, 0) === 2 && counts.filter((n) => n === 1).length === 2;
      }, { what: `${p.name}: tally 1 and 1` });
    }
    assert.equal(await b.page.locator('iframe[data-plugin="poll"]').count(), 0, 'B declined: no poll frame');
    assert.deepEqual((await pluginsOf(b.page)).declined, ['poll']);
  });
});

describe('a hostile plugin', () => {
  let daemon;
  let listener;
  let dir;
  const hits = [];
  let connections = 0;
  const pages = [];
  /** UDP datagrams that reached the STUN/TURN listener, from anyone. */
  const datagrams = [];
  let udp;
  before(async () => {
    udp = createSocket('udp4');
    udp.on('message', (m, from) => datagrams.push(`${from.address}:${from.port} ${m.length} B`));
    await new Promise((r) => udp.bind(0, '127.0.0.2', r));
    listener = createServer((req, res) => { hits.push(`${req.method} ${req.url}`); res.end('ok'); });
    listener.on('connection', () => { connections += 1; });
    listener.on('upgrade', (req, sock) => { hits.push(`UPGRADE ${req.url}`); sock.destroy(); });
    await new Promise((r) => listener.listen(0, '127.0.0.2', r));
    const origin = `http://127.0.0.2:${listener.address().port}`;
    dir = mkdtempSync(join(tmpdir(), 'xroom-hostile-'));
    cpSync(join(here, 'plugins', 'hostile'), dir, { recursive: true });
    writeFileSync(join(dir, 'main.js'), readFileSync(join(dir, 'main.js.in'), 'utf8').replace('@LISTENER@', origin)
      .replace('@UDP@', `127.0.0.2:${udp.address().port}`));
    daemon = await startDaemon({ plugins: [dir] });
  });
  after(async () => {
    for (const p of pages) await p.context.close();
    await daemon?.stop();
    listener?.close();
    udp?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('every way out fails inside the plugin, nothing reaches a listener or the daemon, the call goes on', async () => {
    const link = roomLink();
    const a = await joinPage(browser, daemon, link, { name: 'Ada' });
    const b = await joinPage(browser, daemon, link, { name: 'Brian' });
    pages.push(a, b);
    await waitMediaFlowing([a, b]);
    const daemonRequests = [];
    // A request the browser refuses (CSP) still shows as a request event; a
    // response is what shows it reached a server.
    a.page.on('response', (r) => { if (r.url().includes('exfil')) daemonRequests.push(r.url()); });
    const blocked = [];
    a.page.on('requestfailed', (r) => { if (r.url().includes('exfil')) blocked.push(r.failure()?.errorText ?? ''); });
    const reported = new Promise((res) => a.page.on('console', (m) => { if (m.text().startsWith('HOSTILE ')) res(JSON.parse(m.text().slice(8))); }));

    // Its privacy policy is held back: the consent cannot be given unread.
    let release;
    const held = new Promise((r) => { release = r; });
    await a.page.route('**/plugins/hostile/PRIVACY.md', async (route) => { await held; await route.continue(); });
    await pressControl(a.page, 'Plugins');
    await a.page.getByRole('dialog', { name: 'Plugins' }).getByRole('button', { name: /^(Start|Run) Hostile test plugin/ }).click();
    const ask = a.page.getByRole('dialog', { name: 'Run Hostile test plugin?' });
    await ask.getByText('Loading…').waitFor();
    assert.equal(await ask.getByRole('button', { name: 'Run it' }).isDisabled(), true, 'Run it waits for the policy');
    release();
    const text = await consent(a.page, 'Hostile test plugin');
    assert.match(text, /not made by xroom/);
    assert.match(text, /tries to send data out of the call/, 'its privacy policy is shown');
    const r = await Promise.race([reported, new Promise((_, rej) => setTimeout(() => rej(new Error('no report from the plugin')), 60000))]);

    assert.deepEqual(r.permissions, ['messages']);
    for (const name of ['fetch-daemon', 'fetch-listener', 'xhr-daemon', 'xhr-listener', 'img-beacon', 'img-in-dom', 'stylesheet',
      'websocket', 'event-source', 'send-beacon', 'form-post', 'window-open', 'top-location', 'webrtc-stun', 'webrtc-turn',
      'parent-document', 'local-storage', 'cookie',
      'api-peers', 'api-storage', 'api-unknown', 'api-send-huge']) {
      assert.equal(r[name]?.ok, false, `${name} must fail inside the plugin: ${JSON.stringify(r[name])}`);
    }
    assert.match(r['api-peers'].error, /forbidden/);
    assert.match(r['api-storage'].error, /forbidden/);
    assert.match(r['api-unknown'].error, /bad-request/);
    assert.match(r['api-send-huge'].error, /too-large/);
    assert.equal(r['api-send'].ok, true, 'a granted method works');
    // Last it navigated its own frame to the listener: the app's frame-src
    // stops the navigation, and the app stops the plugin.
    await waitFor(async () => (await pluginsOf(a.page)).counters.evicted === 1, { what: 'the plugin stopped after navigating' });
    assert.equal(await a.page.locator('iframe[data-plugin="hostile"]').count(), 0, 'its frame is gone');
    await a.page.locator('#plugin-notice', { hasText: 'Hostile test plugin tried to leave its page and was stopped.' }).waitFor();
    await new Promise((res) => setTimeout(res, 1000));
    assert.deepEqual(hits, [], 'the listener received no request');
    // CSP does not govern WebRTC; the daemon's Connection-Allowlist does.
    assert.deepEqual(datagrams, [], 'no STUN or TURN packet reached the UDP listener');
    // Chromium opens a TCP connection for that navigation before its
    // frame-src check refuses it (no byte of a request follows): the one
    // connection allowed here is that one (docs/plugins.md, Known limits).
    assert.ok(connections <= 1, `at most the navigation's pre-connection: ${connections}`);
    assert.deepEqual(daemonRequests, [], 'no request from it got an answer from anyone');
    assert.ok(blocked.length >= 2 && blocked.every((e) => /csp|BLOCKED|ABORTED/i.test(e)), `refused by the browser: ${blocked}`);
    assert.ok(!/exfil/.test(daemon.stderr), 'the daemon logged nothing of it');
    assert.ok((await pluginsOf(a.page)).counters.refused >= 4, 'the refusals were counted');
    // The page is where it was and the call goes on.
    assert.match(a.page.url(), /\/r\//);
    assert.equal(await a.page.evaluate(() => localStorage.getItem('xroom.profile') !== null), true, 'the app’s storage is intact');
    await waitMediaFlowing([a, b]);
  });

  test('opened as a page of its own (a link in chat), it is refused: nothing of it runs, nothing gets out', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const said = [];
    page.on('console', (m) => said.push(m.text()));
    // The app's storage on this origin holds a card, as a user's would.
    await page.goto(`${daemon.origin}/`);
    await page.evaluate(() => localStorage.setItem('xroom.profile', JSON.stringify({ name: 'Victim' })));
    const before = datagrams.length;
    const r = await page.goto(`${daemon.origin}/plugins/hostile/index.html`);
    assert.equal(r?.status(), 403);
    assert.match(await page.locator('body').innerText(), /only inside an xroom call/);
    assert.equal(await page.evaluate(() => String(self.origin)), 'null', 'sandboxed: an opaque origin');
    await new Promise((res) => setTimeout(res, 3000));
    assert.ok(!said.some((t) => t.startsWith('HOSTILE-DIRECT')), `none of its script ran: ${said}`);
    assert.equal(datagrams.length, before, 'no packet reached the UDP listener');
    assert.deepEqual(hits, []);
    await context.close();
  });
});
