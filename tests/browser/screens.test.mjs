// The screens around the call, real daemon and real Chromium: the start
// page, the link's key (never sent, only its derived auth), the pre-join
// screen, and the clear screens for room-full, forbidden, server-busy, a
// refused camera and microphone, a browser without WebRTC, a broken link.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { hkdfSync, randomBytes } from 'node:crypto';
import {
  CHROMIUM, CHROMIUM_ARGS, artifactPath, foreignRequests, joinPage, launch, openPage, roomLink, sleep,
  startDaemon, stats, waitFor, waitMediaFlowing, PATIENCE } from './util.mjs';
import { chromium } from 'playwright-core';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

/** The heading of the message screen, once it shows. */
async function messageOf(page) {
  await page.locator('#screen-message').waitFor({ state: 'visible', timeout: PATIENCE });
  return page.locator('#message-h').textContent();
}

describe('start page and link', () => {
  let daemon;
  before(async () => { daemon = await startDaemon({}); });
  after(async () => { await daemon?.stop(); });

  test('one button makes a room: a 128-bit id and a 256-bit key in the fragment', async () => {
    const { page, context, log } = await openPage(browser, daemon, '/');
    assert.ok(await page.getByRole('heading', { name: /What stays private/ }).isVisible());
    assert.ok(await page.getByText(/no cookies/i).isVisible());
    await page.screenshot({ path: artifactPath('start.png'), fullPage: true });
    await page.getByRole('button', { name: 'Start a room' }).click();
    await page.waitForURL(/\/r\//);
    const u = new URL(page.url());
    assert.match(u.pathname, /^\/r\/[A-Za-z0-9_-]{22}$/);
    assert.match(u.hash, /^#[A-Za-z0-9_-]{43}$/);
    assert.equal(Buffer.from(u.hash.slice(1), 'base64url').length, 32);
    await page.getByRole('button', { name: 'Join', exact: true }).waitFor();
    assert.deepEqual(log.errors, []);
    assert.deepEqual(log.csp, []);
    assert.deepEqual(foreignRequests(log, daemon.origin), []);
    await context.close();
  });

  test('a pasted link opens its room; other text is explained', async () => {
    const { page, context } = await openPage(browser, daemon, '/');
    const input = page.getByLabel('Have a link? Paste it here');
    await input.fill('hello');
    await page.getByRole('button', { name: 'Open' }).click();
    assert.match(await page.getByRole('alert').textContent(), /not a room link|does not look like a link/);
    assert.equal(await input.getAttribute('aria-invalid'), 'true');
    const id = randomBytes(16).toString('base64url');
    await input.fill(`${daemon.origin}/r/${id}`);
    await page.getByRole('button', { name: 'Open' }).click();
    assert.match(await page.getByRole('alert').textContent(), /lacks its key/);
    await input.fill('https://elsewhere.example/r/abc#' + 'k'.repeat(43));
    await page.getByRole('button', { name: 'Open' }).click();
    assert.match(await page.getByRole('alert').textContent(), /another server/);
    const key = randomBytes(32).toString('base64url');
    await input.fill(`  ${daemon.origin}/r/${id}#${key} `);
    await page.getByRole('button', { name: 'Open' }).click();
    await page.waitForURL(`${daemon.origin}/r/${id}#${key}`);
    await context.close();
  });

  test('the key never leaves the page: the join carries only its HKDF-derived auth', async () => {
    const id = randomBytes(16).toString('base64url');
    const key = randomBytes(32).toString('base64url');
    const frames = [];
    const context = await browser.newContext();
    const page = await context.newPage();
    const requests = [];
    page.on('request', (r) => requests.push(r.url() + JSON.stringify(r.headers())));
    page.on('websocket', (ws) => ws.on('framesent', (f) => frames.push(String(f.payload))));
    await page.goto(`${daemon.origin}/r/${id}?test=1#${key}`);
    await page.getByLabel('Your name').fill('Key Keeper');
    await page.getByRole('button', { name: 'Join', exact: true }).click();
    await page.locator('#screen-call').waitFor();
    const join = JSON.parse(frames.find((f) => f.includes('"join"')));
    const expected = Buffer.from(hkdfSync('sha256', Buffer.from(key, 'base64url'), Buffer.alloc(0), 'xroom/v1/auth', 16)).toString('base64url');
    assert.equal(join.auth, expected);
    for (const text of [...frames, ...requests]) assert.ok(!text.includes(key), `the key leaked: ${text.slice(0, 200)}`);
    const storage = await page.evaluate(() => JSON.stringify({ ...localStorage, ...sessionStorage }));
    assert.ok(!storage.includes(key), 'the key is not stored');
    assert.ok(!storage.includes(id), 'nor the room id');
    assert.deepEqual(JSON.parse(await page.evaluate(() => localStorage.getItem('xroom.profile'))), { name: 'Key Keeper' });
    // The name comes back on the next visit.
    await page.goto(`${daemon.origin}/r/${id}?test=1#${key}`);
    assert.equal(await page.getByLabel('Your name').inputValue(), 'Key Keeper');
    assert.equal(await page.evaluate(() => document.cookie), '');
    await context.close();
  });

  test('the pre-join screen: preview, device pickers, switches, level meter', async () => {
    const { page, context } = await openPage(browser, daemon, roomLink(), { name: 'Pre' });
    await page.locator('#preview').waitFor({ state: 'visible' });
    await waitFor(() => page.evaluate(() => {
      const v = /** @type {HTMLVideoElement} */ (document.getElementById('preview'));
      return v.videoWidth > 0 && !v.paused;
    }), { what: 'the camera preview plays' });
    assert.ok(await page.getByLabel('Camera', { exact: true }).locator('option').count() >= 1);
    assert.ok(await page.getByLabel('Microphone', { exact: true }).locator('option').count() >= 1);
    assert.ok((await page.getByLabel('Camera', { exact: true }).locator('option').first().textContent()).length > 0);
    await page.screenshot({ path: artifactPath('prejoin.png') });
    await page.getByRole('button', { name: 'Camera' }).click();
    await page.locator('#preview-off').waitFor({ state: 'visible' });
    assert.equal(await page.locator('#pre-cam').getAttribute('aria-pressed'), 'false');
    // The camera is released, not just hidden.
    assert.equal((await stats(page)).local.cam, false);
    await page.getByRole('button', { name: 'Microphone' }).click();
    assert.equal(await page.locator('#pre-mic').getAttribute('aria-pressed'), 'false');
    // The switches are remembered.
    const devices = JSON.parse(await page.evaluate(() => localStorage.getItem('xroom.devices')));
    assert.equal(devices.camOn, false);
    assert.equal(devices.micOn, false);
    await page.setViewportSize({ width: 390, height: 800 });
    await page.getByRole('button', { name: 'Camera' }).click();
    await page.locator('#preview').waitFor({ state: 'visible' });
    await sleep(400);
    await page.screenshot({ path: artifactPath('prejoin-phone.png') });
    await context.close();
  });

  test('a link without its key gets a clear screen', async () => {
    const { page, context } = await openPage(browser, daemon, `/r/${randomBytes(16).toString('base64url')}`);
    assert.equal(await messageOf(page), 'This link is incomplete');
    await context.close();
  });

  test('a browser without WebRTC gets a clear screen', async () => {
    const { page, context } = await openPage(browser, daemon, roomLink(), {
      init: () => { delete window.RTCPeerConnection; delete window.webkitRTCPeerConnection; },
    });
    assert.equal(await messageOf(page), 'This browser cannot make video calls');
    await context.close();
  });
});

describe('refusals', () => {
  let daemon;
  before(async () => { daemon = await startDaemon({ rooms: { max_peers: 2, max_rooms: 2 } }); });
  after(async () => { await daemon?.stop(); });

  test('room-full: one more than max_peers sees the room-full screen', async () => {
    const link = roomLink();
    const a = await joinPage(browser, daemon, link, { name: 'One' });
    const b = await joinPage(browser, daemon, link, { name: 'Two' });
    const c = await openPage(browser, daemon, link, { name: 'Three' });
    await c.page.getByRole('button', { name: 'Join', exact: true }).click();
    assert.equal(await messageOf(c.page), 'This room is full');
    assert.ok(await c.page.getByRole('button', { name: 'Try again' }).isVisible());
    assert.equal((await stats(c.page)).local.cam, false, 'the camera is released');
    await c.page.screenshot({ path: artifactPath('room-full.png') });
    // The two inside are not disturbed.
    await waitMediaFlowing([a, b]);
    for (const p of [a, b, c]) await p.context.close();
  });

  test('forbidden: the same room id with another key is refused', async () => {
    const id = randomBytes(16).toString('base64url');
    const a = await joinPage(browser, daemon, `/r/${id}?test=1#${randomBytes(32).toString('base64url')}`);
    const b = await openPage(browser, daemon, `/r/${id}?test=1#${randomBytes(32).toString('base64url')}`);
    await b.page.getByRole('button', { name: 'Join', exact: true }).click();
    assert.equal(await messageOf(b.page), 'This link does not open this room');
    assert.equal((await stats(a.page)).peers.length, 0);
    for (const p of [a, b]) await p.context.close();
  });

  test('server-busy: past max_rooms the server-busy screen shows', async () => {
    const a = await joinPage(browser, daemon, roomLink());
    const b = await joinPage(browser, daemon, roomLink());
    const c = await openPage(browser, daemon, roomLink());
    await c.page.getByRole('button', { name: 'Join', exact: true }).click();
    assert.equal(await messageOf(c.page), 'The server is busy');
    for (const p of [a, b, c]) await p.context.close();
  });
});

describe('camera and microphone refused', () => {
  let daemon;
  let denying;
  before(async () => {
    daemon = await startDaemon({});
    // Without --use-fake-ui-for-media-stream, headless Chromium refuses the prompt.
    denying = await chromium.launch({
      executablePath: CHROMIUM, headless: true,
      args: CHROMIUM_ARGS.filter((a) => a !== '--use-fake-ui-for-media-stream'),
    });
  });
  after(async () => {
    await denying?.close();
    await daemon?.stop();
  });

  test('a clear screen, then joining to watch and listen only', async () => {
    const link = roomLink();
    const host = await joinPage(browser, daemon, link, { name: 'Host' });
    const p = await openPage(denying, daemon, link, { name: 'Watcher' });
    assert.equal(await messageOf(p.page), 'xroom may not use your camera or microphone');
    await p.page.screenshot({ path: artifactPath('denied.png') });
    await p.page.getByRole('button', { name: 'Join without camera and microphone' }).click();
    await p.page.getByRole('button', { name: 'Join', exact: true }).click();
    await p.page.locator('#screen-call').waitFor();
    // The watcher receives the host; the host sees a muted, camera-off tile.
    await waitFor(async () => {
      const s = await stats(p.page);
      return s.peers.length === 1 && s.peers[0].framesDecoded > 0 && s.peers[0].audioPackets > 0;
    }, { what: 'the watcher receives media' });
    const tile = host.page.locator('.tile:not([data-self])');
    await waitFor(async () => (await tile.getAttribute('data-mic')) === 'off' && (await tile.getAttribute('data-cam')) === 'off',
      { what: 'the host sees a muted, camera-off watcher' });
    assert.equal(await tile.locator('.tile-name').textContent(), 'Watcher');
    await host.context.close();
    await p.context.close();
  });
});
