// The call itself, real daemon and real Chromium: media flows between 2
// and 4 pages, mute / camera off / screen share are seen by the others,
// leaving removes the tile, and the bandwidth governor follows the room.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  REPO_ROOT, artifactPath, foreignRequests, joinPage, launch, roomLink, sleep, startDaemon, stats, tab,
  waitFor, waitMediaFlowing, PATIENCE } from './util.mjs';

let daemon;
let browser;
before(async () => {
  daemon = await startDaemon({});
  browser = await launch();
});
after(async () => {
  await browser?.close();
  await daemon?.stop();
});

/** Stats of `page` about the peer whose tab is `t`. */
async function peerOf(page, t) {
  const s = await stats(page);
  const p = s.peers.find((q) => q.tab === t);
  assert.ok(p, `no peer ${t} on this page: ${JSON.stringify(s.peers.map((q) => q.tab))}`);
  return p;
}

/** How much of `field` arrives from peer `t` on `page` over `ms`. */
async function delta(page, t, field, ms = 2000) {
  const a = (await peerOf(page, t))[field];
  await sleep(ms);
  return (await peerOf(page, t))[field] - a;
}

describe('two peers', () => {
  let a;
  let b;
  let tabA;
  let tabB;
  before(async () => {
    const link = roomLink();
    a = await joinPage(browser, daemon, link, { name: 'Alice' });
    b = await joinPage(browser, daemon, link, { name: 'Bob' });
    tabA = await tab(a.page);
    tabB = await tab(b.page);
  });
  after(async () => {
    await a?.context.close();
    await b?.context.close();
  });

  test('video and audio flow both ways over a direct connection', async () => {
    const [sa, sb] = await waitMediaFlowing([a, b]);
    assert.equal(sa.peers[0].tab, tabB);
    assert.equal(sb.peers[0].tab, tabA);
    for (const s of [sa, sb]) {
      const p = s.peers[0];
      assert.equal(p.connectionState, 'connected');
      assert.equal(p.transceivers, 4, 'two receiving and two sending transceivers');
      assert.ok(p.frameWidth > 0 && p.frameHeight > 0);
    }
    await waitFor(async () => (await peerOf(a.page, tabB)).badge === 'direct', { what: 'badge direct' });
    // Audio carries sound, not only packets (the fake microphone beeps).
    assert.ok(await delta(a.page, tabB, 'audioEnergy', 2500) > 0, 'audio energy arrives');
    // Each tile is named and carries its badge.
    const tile = a.page.locator(`.tile[data-tab="${tabB}"]`);
    await assert.doesNotReject(tile.getByText('Bob', { exact: true }).waitFor());
    assert.equal(await tile.locator('.badge').textContent(), 'direct');
    await waitFor(async () => (await tile.getAttribute('data-lock')) === 'secure', { what: 'the lock' });
    const code = await tile.locator('.tile-sec-code').textContent();
    assert.match(code, /^\d{5} \d{5} \d{5} \d{5} \d{5}$/, 'the safety code on the tile');
    assert.equal(await b.page.locator(`.tile[data-tab="${tabA}"] .tile-sec-code`).textContent(), code, 'the same code on both sides');
    assert.match(await tile.getAttribute('aria-label'), new RegExp(`^Bob, connection direct, encrypted, safety code ${code}$`));
    assert.equal(await a.page.locator('.tile[data-self] .tile-name').textContent(), 'Alice (you)');
    for (const p of [a, b]) {
      assert.deepEqual(p.log.errors, []);
      assert.deepEqual(p.log.csp, []);
      assert.deepEqual(foreignRequests(p.log, daemon.origin), []);
    }
  });

  test('the governor caps the one sender at the one-peer row', async () => {
    const p = await peerOf(a.page, tabB);
    assert.equal(p.sending.maxBitrate, 1_500_000);
    assert.equal(p.sending.maxFramerate, 30);
    assert.equal(p.sending.scaleResolutionDownBy, 1, '720p camera, 720p cap');
  });

  test('mute is seen by the other, and what arrives is silence', async () => {
    await a.page.keyboard.press('m');
    const tile = b.page.locator(`.tile[data-tab="${tabA}"]`);
    await waitFor(async () => (await tile.getAttribute('data-mic')) === 'off', { what: 'muted tile' });
    assert.match(await tile.getAttribute('aria-label'), /Alice, muted/);
    assert.equal(await a.page.locator('#btn-mic').getAttribute('aria-pressed'), 'false');
    await sleep(1000);
    const muted = await delta(b.page, tabA, 'audioEnergy', 2500);
    assert.ok(muted < 1e-6, `no sound while muted (energy ${muted})`);
    await a.page.getByRole('button', { name: 'Microphone' }).click();
    await waitFor(async () => (await tile.getAttribute('data-mic')) === 'on', { what: 'unmuted tile' });
    await sleep(500);
    assert.ok(await delta(b.page, tabA, 'audioEnergy', 2500) > 0, 'sound again');
  });

  test('camera off is seen by the other: avatar instead of video, no frames', async () => {
    const negotiations = (await peerOf(b.page, tabA)).negotiations;
    await a.page.keyboard.press('v');
    const tile = b.page.locator(`.tile[data-tab="${tabA}"]`);
    await waitFor(async () => (await tile.getAttribute('data-cam')) === 'off', { what: 'camera-off tile' });
    assert.equal(await tile.getAttribute('data-video'), 'off');
    assert.ok(await tile.locator('.avatar').isVisible());
    assert.equal(await tile.locator('.avatar').textContent(), 'A');
    assert.equal((await stats(a.page)).local.cam, false);
    await sleep(500);
    assert.equal(await delta(b.page, tabA, 'framesDecoded', 1500), 0, 'no frames while the camera is off');
    await a.page.getByRole('button', { name: 'Camera' }).click();
    await waitFor(async () => (await tile.getAttribute('data-video')) === 'on', { what: 'video back' });
    assert.ok(await delta(b.page, tabA, 'framesDecoded', 1500) > 0);
    assert.equal((await peerOf(b.page, tabA)).negotiations, negotiations, 'no renegotiation');
  });

  test('screen share replaces the camera track without renegotiating; frames keep flowing', async () => {
    const before = [(await peerOf(a.page, tabB)).negotiations, (await peerOf(b.page, tabA)).negotiations];
    const camLabel = (await peerOf(a.page, tabB)).sending.video;
    await a.page.keyboard.press('s');
    const tile = b.page.locator(`.tile[data-tab="${tabA}"]`);
    await waitFor(async () => (await tile.getAttribute('data-screen')) === 'on', { what: 'screen tile' });
    const p = await peerOf(a.page, tabB);
    assert.notEqual(p.sending.video, camLabel, 'the sender carries another track');
    assert.equal(p.sending.video, (await stats(a.page)).local.video);
    assert.equal((await stats(a.page)).local.source, 'screen');
    await waitFor(async () => (await peerOf(a.page, tabB)).sending.maxFramerate === 15,
      { what: 'the screen row of the governor' });
    assert.equal(await a.page.locator('#btn-screen').getAttribute('aria-pressed'), 'true');
    assert.ok(await delta(b.page, tabA, 'framesDecoded', 1500) > 0, 'frames flow while sharing');
    assert.match(await tile.getAttribute('aria-label'), /sharing the screen/);
    // Stop sharing: the camera comes back on the same sender.
    await a.page.keyboard.press('s');
    await waitFor(async () => (await tile.getAttribute('data-screen')) === 'off', { what: 'screen share ended' });
    await waitFor(async () => (await peerOf(a.page, tabB)).sending.video === camLabel, { what: 'camera back on the sender' });
    assert.ok(await delta(b.page, tabA, 'framesDecoded', 1500) > 0);
    const afterN = [(await peerOf(a.page, tabB)).negotiations, (await peerOf(b.page, tabA)).negotiations];
    assert.deepEqual(afterN, before, 'no renegotiation for screen sharing');
  });

  test('copy link puts the whole link, key included, on the clipboard', async () => {
    await a.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: daemon.origin });
    await a.page.getByRole('button', { name: 'Copy link' }).click();
    await a.page.getByText(/Link copied/).waitFor();
    const text = await a.page.evaluate(() => navigator.clipboard.readText());
    assert.equal(text, await a.page.evaluate(() => location.origin + location.pathname + location.hash), 'the link, without the query string');
    assert.match(text, /#[A-Za-z0-9_-]{43}$/);
  });

  test('leave removes the tile on the other at once: by its goodbye, not by the lost-peer timeout', async () => {
    const t0 = Date.now();
    await b.page.getByRole('button', { name: 'Leave' }).click();
    await b.page.getByRole('heading', { name: 'You left the call' }).waitFor();
    await a.page.locator(`.tile[data-tab="${tabB}"]`).waitFor({ state: 'detached' });
    console.log(`# the tile went ${Date.now() - t0} ms after Leave`);
    // Why it went, not how fast: a lost goodbye would show as "lost" after
    // the lost-peer timeout (8 s), a goodbye as "left".
    const history = await a.page.evaluate(async () => (await window.xroomTest.e2ee()).history);
    assert.equal(history.at(-1).reason, `left:${tabB}`, 'removed by its goodbye');
    const s = await stats(a.page);
    assert.equal(s.peers.length, 0);
    assert.equal(s.tiles, 1);
    // The one who left has released the camera and microphone.
    const sb = await stats(b.page);
    assert.equal(sb.local.cam, false);
    assert.equal(sb.local.mic, false);
  });
});

describe('four peers', () => {
  const pages = [];
  after(async () => {
    for (const p of pages) await p.context.close();
  });

  test('every page decodes video and receives audio from every other; a 3-peer screenshot', async () => {
    const link = roomLink();
    for (const name of ['Ada Lovelace', 'Grace Hopper', 'Alan Turing']) {
      pages.push(await joinPage(browser, daemon, link, { name }));
    }
    await waitMediaFlowing(pages);
    // Grace mutes, Alan turns his camera off: everyone else sees it.
    await pages[1].page.keyboard.press('m');
    await pages[2].page.keyboard.press('v');
    const [tGrace, tAlan] = [await tab(pages[1].page), await tab(pages[2].page)];
    for (const p of [pages[0], pages[2]]) {
      await waitFor(async () => (await p.page.locator(`.tile[data-tab="${tGrace}"]`).getAttribute('data-mic')) === 'off', { what: 'Grace muted' });
    }
    for (const p of [pages[0], pages[1]]) {
      await waitFor(async () => (await p.page.locator(`.tile[data-tab="${tAlan}"]`).getAttribute('data-video')) === 'off', { what: 'Alan without camera' });
    }
    // Let the pictures settle (bandwidth estimation ramps up), then a screenshot.
    await sleep(2000);
    const shot = artifactPath('call-3-peers.png');
    await pages[0].page.screenshot({ path: shot });
    if (process.env.XROOM_UPDATE_SCREENSHOT) copyFileSync(shot, join(REPO_ROOT, 'docs', 'screenshot.png'));
    await pages[0].page.setViewportSize({ width: 390, height: 800 });
    await sleep(500);
    await pages[0].page.screenshot({ path: artifactPath('call-3-peers-phone.png') });
    await pages[0].page.setViewportSize({ width: 1280, height: 720 });
    await pages[1].page.keyboard.press('m');
    await pages[2].page.keyboard.press('v');

    pages.push(await joinPage(browser, daemon, link, { name: 'Edsger Dijkstra' }));
    const all = await waitMediaFlowing(pages, { timeout: PATIENCE });
    for (const s of all) {
      assert.equal(s.peers.length, 3);
      assert.equal(s.tiles, 4);
      for (const p of s.peers) assert.equal(p.connectionState, 'connected');
    }
    // Every tile is named.
    const names = await pages[3].page.locator('.tile .tile-name').allTextContents();
    assert.deepEqual(names.sort(), ['Ada Lovelace', 'Alan Turing', 'Edsger Dijkstra (you)', 'Grace Hopper']);
  });

  test('the governor follows the peer count: three peers, the three-peer row', async () => {
    for (const p of pages) {
      const s = await stats(p.page);
      for (const peer of s.peers) {
        assert.equal(peer.sending.maxBitrate, 700_000);
        assert.equal(peer.sending.scaleResolutionDownBy, 1.5, '720p camera scaled to 480p');
      }
    }
    await waitFor(async () => {
      const s = await stats(pages[0].page);
      return s.peers.every((p) => p.sentFrameHeight > 0 && p.sentFrameHeight <= 480);
    }, { what: 'sent frames at most 480 lines high' });
  });

  test('when one leaves, the others drop to the two-peer row', async () => {
    const gone = pages.pop();
    // L asks first; Enter (on Leave) leaves.
    await gone.page.keyboard.press('l');
    await gone.page.getByRole('dialog', { name: 'Leave the call?' }).waitFor();
    await gone.page.keyboard.press('Enter');
    await gone.page.getByRole('heading', { name: /left the call/i }).waitFor();
    await gone.context.close();
    await waitFor(async () => {
      const all = await Promise.all(pages.map((p) => stats(p.page)));
      return all.every((s) => s.peers.length === 2 && s.tiles === 3 &&
        s.peers.every((q) => q.sending.maxBitrate === 1_000_000));
    }, { what: 'three left with the two-peer caps' });
  });
});
