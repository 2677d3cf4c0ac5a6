// Chromium and Firefox in the same call, end-to-end encryption on: Debian's
// Firefox ESR headless through puppeteer-core over WebDriver BiDi
// (firefox-util.mjs), next to Debian's Chromium through playwright-core
// (util.mjs), one daemon on loopback. Each browser joins first in turn:
// video and audio decoded both ways through the frame transforms, the
// same safety code on both sides, chat both ways, a Chromium screen share
// decoded in Firefox, and a page with wrong media keys that decodes
// nothing and whose frames nobody decodes. Two
// Chromiums and a Firefox: the full mesh decodes everywhere. A failed
// connection recovering from either side. VP9, and AV1, when both prefer it. A Firefox without RTCRtpScriptTransform gets the
// "cannot encrypt" screen.
//
// Firefox gathers host candidates on the machine's non-loopback interface
// (it gathers none on loopback): run on a network with one, as CI does.
// Skipped with a message when /usr/bin/firefox-esr is absent, except in
// CI (CI=true), where that fails.

import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join as joinPath } from 'node:path';
import { joinPage, launch, roomLink, startDaemon, stats, tab, waitFor, waitMediaFlowing, PATIENCE } from './util.mjs';
import {
  chatText, firefoxSkip, joinFirefoxPage, launchFirefox, noEncodedTransforms, openFirefoxPage, preferCodec, say, wrongMediaKeys,
} from './firefox-util.mjs';

const skip = firefoxSkip();
const e2ee = (p) => p.page.evaluate(() => window.xroomTest.e2ee());

/**
 * A 16 MiB random file from `from` to `to` through the real UI (file
 * input, Send, Accept), checked by SHA-256 of what `to` stored: the same
 * bytes Save would give.
 */
async function fileReaches(from, to) {
  const dir = mkdtempSync(joinPath(tmpdir(), 'xroom-ff-file-'));
  try {
    const data = randomBytes(16 * 1024 * 1024);
    const name = `ff-${randomBytes(4).toString('hex')}.bin`;
    const path = joinPath(dir, name);
    writeFileSync(path, data);
    if (from.browser === 'firefox') await (await from.page.$('#file-input')).uploadFile(path);
    else await from.page.setInputFiles('#file-input', path);
    await waitFor(() => from.page.evaluate(() => document.getElementById('send-dialog').open), { what: 'the send dialog' });
    await from.page.evaluate(() => document.getElementById('send-go').click());
    await waitFor(() => to.page.evaluate((n) => {
      const b = [...document.querySelectorAll('.file-actions button')].find((x) => x.getAttribute('aria-label') === `Accept ${n}`);
      if (b) b.click();
      return !!b;
    }, name), { timeout: PATIENCE, what: `${to.name}: the offer of ${name}` });
    const digest = await waitFor(() => to.page.evaluate(() => window.xroomTest.receivedDigest()),
      { timeout: PATIENCE + Math.ceil(data.length / 128), interval: 500, what: `${to.name}: ${name} received and checked` }); // 128 KiB/s: a stuck transfer, not a slow machine
    assert.equal(digest, createHash('sha256').update(data).digest('hex'), `${from.browser} → ${to.browser}: same bytes`);
    assert.equal((await to.page.evaluate(() => window.xroomTest.files())).store, 'disk',
      `${to.browser} streamed it to its Origin Private File System (the disk worker), not to memory`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('Chromium and Firefox in one call', { skip: skip || false }, () => {
  let daemon;
  let chromium;
  let firefox;
  /** the pages of the running test, closed when it ends */
  const pages = [];
  before(async () => {
    firefox = await launchFirefox(); // first: without it (in CI) nothing else is started
    [daemon, chromium] = await Promise.all([startDaemon({}), launch()]);
  });
  after(async () => {
    await firefox?.close();
    await chromium?.close();
    await daemon?.stop();
  });

  /** Joins `link` in the browser `kind` ('chromium' or 'firefox'). */
  async function join(kind, link, name, opts = {}) {
    const p = kind === 'firefox'
      ? await joinFirefoxPage(firefox, daemon, link, { name, ...opts })
      : { ...await joinPage(chromium, daemon, link, { name, ...opts }), browser: 'chromium' };
    pages.push(p);
    return p;
  }

  // Each test's pages close when it ends, passed or not: pages left
  // running would load the two cores under the next test.
  afterEach(async () => {
    for (const p of pages.splice(0).reverse()) await p.context.close().catch(() => {});
  });

  /**
   * Both pages decode each other's video and hear each other's audio, every
   * frame through the frame transforms: sealed on one side, opened on the
   * other, none refused; the codecs the frames carried; locks secure, and
   * the same safety code on both sides.
   */
  async function assertEncryptedBothWays(a, b, video = 'video/vp8') {
    await waitMediaFlowing([a, b], { timeout: PATIENCE, what: `${a.browser} and ${b.browser} decode each other` });
    const [ta, tb] = [await tab(a.page), await tab(b.page)];
    const [ka, kb] = await waitFor(async () => {
      const k = [await e2ee(a), await e2ee(b)];
      return k.every((x) => Object.values(x.peers).every((q) => q.lock === 'secure')) && k;
    }, { what: 'both locks secure' });
    assert.equal(ka.mode, 'script', `${a.browser} uses RTCRtpScriptTransform`);
    assert.equal(kb.mode, 'script', `${b.browser} uses RTCRtpScriptTransform`);
    for (const [k, other, who] of [[ka, tb, a.browser], [kb, ta, b.browser]]) {
      const c = k.peers[other].counters;
      assert.ok(c.encVideo > 0 && c.encAudio > 0, `${who} sealed audio and video (${JSON.stringify(c)})`);
      assert.ok(c.decVideo > 0 && c.decAudio > 0, `${who} opened audio and video (${JSON.stringify(c)})`);
      assert.equal(c.authFailed, 0, `${who}: no frame refused`);
      assert.deepEqual([...c.codecs].sort(), ['audio/opus', video], 'the codecs of the frames, from their metadata');
    }
    for (const p of [a, b]) assert.deepEqual(p.log.errors, [], `no error in the ${p.browser} page`);
    assert.match(ka.peers[tb].safety, /^\d{5} \d{5} \d{5} \d{5} \d{5}$/);
    assert.equal(ka.peers[tb].safety, kb.peers[ta].safety, 'the same safety code on both sides');
  }

  /** `p` decodes new video frames from `from` (two samples apart). */
  async function decodingFrom(p, from) {
    const t = await tab(from.page);
    const frames = async () => (await stats(p.page)).peers.find((q) => q.tab === t)?.framesDecoded ?? 0;
    const start = await frames();
    await waitFor(async () => await frames() > start, { timeout: PATIENCE, what: `${p.browser} decodes ${from.browser}` });
  }

  /** Chat from `from` reaches `to`, and `from` sees it delivered. */
  async function chatReaches(from, to) {
    const text = `${from.browser} says ${randomBytes(6).toString('hex')}`;
    await say(from, text);
    await waitFor(async () => (await chatText(to)).includes(text), { what: `${to.browser} reads the message from ${from.browser}` });
    await waitFor(() => from.page.evaluate(() => [...document.querySelectorAll('.chat-msg.mine .chat-state')].pop()?.textContent === 'Sent to all'),
      { what: `${from.browser}: sent to all` });
  }

  /**
   * `bad` (wrong media keys) is connected to `good` pages and exchanges
   * sealed frames with them, yet decodes nothing of theirs, and they
   * nothing of its; each refuses and counts the frames; the good pages'
   * locks for it turn red, and they go on decoding each other.
   */
  async function assertWrongKeyDecodesNothing(bad, good) {
    const tBad = await tab(bad.page);
    const tGood = await Promise.all(good.map((p) => tab(p.page)));
    await waitFor(async () => {
      const kb = await e2ee(bad);
      const ks = await Promise.all(good.map(e2ee));
      return tGood.every((t) => (kb.peers[t]?.counters?.authFailed ?? 0) > 20) &&
        ks.every((k) => (k.peers[tBad]?.counters?.authFailed ?? 0) > 20);
    }, { timeout: PATIENCE, what: `${bad.browser} with wrong keys: frames refused both ways` });
    const sBad = await stats(bad.page);
    assert.equal(sBad.peers.length, good.length);
    for (const q of sBad.peers) {
      assert.equal(q.connectionState, 'connected', 'the call itself connects');
      assert.equal(q.framesDecoded, 0, `${bad.browser} with wrong keys decoded no video`);
    }
    const kb = await e2ee(bad);
    for (const t of tGood) assert.equal(kb.peers[t].counters.decVideo + kb.peers[t].counters.decAudio, 0);
    for (const p of good) {
      const q = (await stats(p.page)).peers.find((x) => x.tab === tBad);
      assert.equal(q.framesDecoded, 0, `${p.browser} decoded nothing from the page with wrong keys`);
      const k = (await e2ee(p)).peers[tBad];
      assert.equal(k.counters.decVideo + k.counters.decAudio, 0);
    }
    await waitFor(async () => {
      const locks = await Promise.all(good.map(async (p) => (await e2ee(p)).peers[tBad]?.lock));
      return locks.every((l) => l === 'alert');
    }, { what: 'the good pages show an encryption problem for it' });
  }

  for (const first of ['firefox', 'chromium']) {
    const second = first === 'firefox' ? 'chromium' : 'firefox';
    test(`${first} joins first, then ${second}: video both ways with E2EE, chat both ways, a 16 MiB file each way, a wrong key decodes nothing`, async () => {
      const link = roomLink();
      const a = await join(first, link, `First ${first}`);
      const b = await join(second, link, `Second ${second}`);
      await assertEncryptedBothWays(a, b);
      // Chromium leaves the clear audio level out of what it offers and
      // answers, so the answer in force has none, whoever offers (Firefox
      // 153 offers it; it cannot take it out).
      const chr = a.browser === 'chromium' ? a : b;
      const fox = chr === a ? b : a;
      const d = await chr.page.evaluate((t) => window.xroomTest.negotiated(t), await tab(fox.page));
      assert.ok(d.answer.includes('m=audio') && !/ssrc-audio-level/.test(d.answer), `no audio level in the answer, ${first} first`);
      await chatReaches(a, b);
      await chatReaches(b, a);
      // A 16 MiB file each way.
      await fileReaches(a, b);
      await fileReaches(b, a);
      if (first === 'firefox') {
        // Chromium shares its (fake) screen; Firefox decodes it, sealed
        // like the camera. (Headless Firefox has no screen to share:
        // getDisplayMedia there fails with NotFoundError.)
        const [fox, chr] = [a, b];
        await chr.page.locator('#btn-screen').click();
        const tChr = await tab(chr.page);
        await waitFor(async () => (await stats(fox.page)).peers.find((q) => q.tab === tChr)?.remote.screen,
          { what: 'Firefox sees that Chromium shares its screen' });
        await decodingFrom(fox, chr);
        await chr.page.locator('#btn-screen').click();
      }
      // A page of the first browser with the wrong media keys.
      const bad = await join(first, link, `Wrong ${first}`, { init: wrongMediaKeys });
      await assertWrongKeyDecodesNothing(bad, [a, b]);
      await decodingFrom(a, b);
      await decodingFrom(b, a);
    });
  }

  test('two Chromiums and a Firefox: the full mesh decodes everywhere, encrypted', async () => {
    const link = roomLink();
    const c1 = await join('chromium', link, 'Chromium one');
    const f = await join('firefox', link, 'Firefox');
    const c2 = await join('chromium', link, 'Chromium two');
    const all = await waitMediaFlowing([c1, f, c2], { timeout: PATIENCE, what: 'every page decodes both others' });
    for (const s of all) assert.equal(s.peers.length, 2);
    for (const p of [c1, f, c2]) {
      const k = await e2ee(p);
      for (const [t, q] of Object.entries(k.peers)) {
        assert.ok(q.counters.decVideo > 0, `${p.browser} opened video from ${t}`);
        assert.equal(q.counters.authFailed, 0, `${p.browser} refused frames from ${t}: ${JSON.stringify(q.counters)}; ` +
          `its senders: ${JSON.stringify(await Promise.all([c1, f, c2].map(async (o) => (await stats(o.page)).peers.map((r) => ({ tab: r.tab, bypasses: r.bypasses, unsealed: r.unsealed })))))}`);
      }
    }
  });

  test('a failed connection recovers from either side: Firefox restarts ICE; Chromium\'s restart is rebuilt', async () => {
    const link = roomLink();
    const c = await join('chromium', link, 'Chromium restarts');
    const f = await join('firefox', link, 'Firefox restarts');
    await waitMediaFlowing([c, f], { timeout: PATIENCE });
    const [tc, tf] = [await tab(c.page), await tab(f.page)];
    // Firefox restarts ICE; Chromium answers keeping its DTLS role: the
    // same connection with new ICE credentials.
    const before = (await stats(f.page)).peers[0];
    await f.page.evaluate((x) => window.xroomTest.forceIceFailure(x), tc);
    const after = await waitFor(async () => {
      const q = (await stats(f.page)).peers[0];
      if (q.badge === 'direct' && q.descUfrag !== before.descUfrag && q.signalingState === 'stable') return q;
      throw new Error(`badge ${q.badge}, ufrag ${before.descUfrag} -> ${q.descUfrag}, ${q.signalingState}, ${q.connectionState}`);
    }, { timeout: PATIENCE, what: 'Firefox: an ICE restart with new credentials, back to direct' });
    assert.equal(after.iceRestarts, before.iceRestarts + 1);
    assert.equal(after.gen, before.gen, 'restarted, not rebuilt');
    await waitMediaFlowing([c, f], { timeout: PATIENCE, what: 'media after Firefox\'s restart' });
    // Chromium restarts ICE; Firefox answers with a DTLS role change that
    // Chromium refuses: the connection is rebuilt on both sides instead of
    // staying stuck, and media comes back.
    const cBefore = (await stats(c.page)).peers[0];
    await c.page.evaluate((x) => window.xroomTest.forceIceFailure(x), tf);
    await waitMediaFlowing([c, f], { timeout: PATIENCE, what: 'media after Chromium\'s restart' });
    // Media may come back before the last offer of the rebuild is answered:
    // wait for both sides to settle (a side stuck half negotiated fails here).
    const [qc] = await waitFor(async () => {
      const q = [(await stats(c.page)).peers[0], (await stats(f.page)).peers[0]];
      if (q.every((x) => x?.signalingState === 'stable' && x.connectionState === 'connected') && q[0].gen === q[1].gen) return q;
      throw new Error(q.map((x) => `gen ${x?.gen} ${x?.signalingState}/${x?.connectionState}`).join(' | '));
    }, { timeout: PATIENCE, what: 'both sides stable and connected, on the same generation' });
    assert.ok(qc.gen > cBefore.gen || qc.descUfrag !== cBefore.descUfrag, 'restarted or rebuilt');
    await waitMediaFlowing([c, f], { timeout: PATIENCE, what: 'media once settled' });
    await waitFor(async () => (await e2ee(c)).peers[tf]?.lock === 'secure' && (await e2ee(f)).peers[tc]?.lock === 'secure',
      { what: 'both locks secure again' });
  });

  for (const codec of ['video/vp9', 'video/av1']) {
    test(`${codec} negotiated (both prefer it): decoded both ways, sealed under its own rule`, async () => {
      const link = roomLink();
      const init = preferCodec(codec);
      const c = await join('chromium', link, `Chromium ${codec}`, { init });
      const f = await join('firefox', link, `Firefox ${codec}`, { init });
      await assertEncryptedBothWays(c, f, codec);
    });
  }

  test('plugins: Chromium keeps them off WebRTC and runs them; Firefox cannot, so it runs none, says why, and a plugin page opened on its own is refused', async () => {
    const link = roomLink();
    const c = await join('chromium', link, 'Chromium plugins');
    const f = await join('firefox', link, 'Firefox plugins');
    const containment = (p) => p.page.evaluate(() => window.xroomTest.plugins()?.containment);
    // Nothing checks before plugins come up: the Plugins dialog starts it.
    assert.equal(await containment(c), 'pending');
    await c.page.getByRole('button', { name: 'Plugins', exact: true }).click();
    await f.page.evaluate(() => document.getElementById('btn-plugins').click());
    await waitFor(async () => await containment(c) === 'contained' && await containment(f) === 'open',
      { what: 'the WebRTC check: contained in Chromium, open in Firefox' });
    // Firefox: the consent dialog says why, and Run stays disabled.
    await f.page.evaluate(() => [...document.querySelectorAll('#plugins-list button')].find((b) => /Whiteboard/.test(b.getAttribute('aria-label') ?? '')).click());
    await f.page.waitForSelector('#consent-dialog[open]');
    const said = await f.page.$eval('#consent-body .consent-check', (el) => el.textContent);
    assert.match(said, /Plugins are off in this browser/);
    assert.equal(await f.page.$eval('#consent-run', (b) => b.disabled), true, 'Run it stays disabled');
    assert.equal(await f.page.$$eval('iframe[data-plugin]', (l) => l.length), 0, 'no plugin frame');
    // Chromium: the same dialog lets it run.
    await c.page.getByRole('dialog', { name: 'Plugins' }).getByRole('button', { name: /^(Start|Run) Whiteboard/ }).click();
    const ask = c.page.getByRole('dialog', { name: 'Run Whiteboard?' });
    await ask.getByRole('button', { name: 'Run it' }).click({ noWaitAfter: true });
    await c.page.locator('iframe[data-plugin="whiteboard"]').waitFor();
    // A plugin page opened as a tab of its own is refused in both browsers.
    for (const p of [c, f]) {
      const r = await p.page.goto(`${daemon.origin}/plugins/whiteboard/index.html`);
      assert.equal(r?.status(), 403, `${p.browser}: refused`);
    }
  });

  test('a Firefox without RTCRtpScriptTransform gets the "cannot encrypt" screen, never a call', async () => {
    const p = await openFirefoxPage(firefox, daemon, roomLink(), { init: noEncodedTransforms });
    pages.push(p);
    await p.page.waitForSelector('#screen-message', { visible: true });
    assert.equal(await p.page.$eval('#message-h', (el) => el.textContent), 'This browser cannot encrypt the call');
    assert.equal(await p.page.$eval('#screen-prejoin', (el) => el.hidden), true);
  });
});
