#!/usr/bin/env node
// join-timeline.mjs: where the time of a join goes, step by step, so that
// the next person knows what to make faster. Real daemon, real headless
// Chromium (fake camera), loopback, E2EE on as always. One person waits
// in the room; a newcomer opens the link (warm: the page was loaded once
// before in the same browser profile, so the files come from its cache),
// waits for the pre-join screen, clicks Join and waits for the first
// decoded frame of the other. Nothing in web/ is changed for this: an init
// script wraps getUserMedia, WebSocket and RTCPeerConnection in the page
// and notes when each step happens (performance.now(), from the start of
// the navigation). Prints the median of each step over N runs (default 10)
// and the runs of the two figures issue 19 sets targets for.
//   run from tests/: node bench/join-timeline.mjs [runs]

import { joinPage, launch, roomLink, startDaemon, PATIENCE } from '../browser/util.mjs';
import { median, ms } from './figures.mjs';

const RUNS = Number(process.argv[2] ?? 10);

/** Runs in the page before its scripts: notes the first time of each step in window.__tl. */
function instrument() {
  if (self.origin === 'null' || window.top !== window) return;
  const tl = /** @type {Record<string, number>} */ ({});
  /** @type {any} */ (window).__tl = tl;
  const mark = (/** @type {string} */ k) => { if (!(k in tl)) tl[k] = performance.now(); };

  const md = navigator.mediaDevices;
  const gum = md.getUserMedia.bind(md);
  md.getUserMedia = async (c) => {
    mark('camera asked');
    const s = await gum(c);
    mark('camera');
    return s;
  };

  const WS = window.WebSocket;
  window.WebSocket = class extends WS {
    constructor(/** @type {any[]} */ ...a) {
      super(...a);
      mark('socket created');
      this.addEventListener('open', () => mark('socket open'));
      this.addEventListener('message', (e) => {
        if (typeof e.data === 'string' && e.data.slice(0, 30).includes('"welcome"')) mark('welcome');
      });
    }

    send(/** @type {any} */ d) {
      if (typeof d === 'string' && d.slice(0, 30).includes('"join"')) mark('join sent');
      super.send(d);
    }
  };

  const PC = window.RTCPeerConnection;
  window.RTCPeerConnection = class extends PC {
    constructor(/** @type {any[]} */ ...a) {
      super(...a);
      mark('peer connection');
      this.addEventListener('icecandidate', (e) => { if (e.candidate) mark('first local candidate'); });
      this.addEventListener('iceconnectionstatechange', () => mark(`ice ${this.iceConnectionState}`));
      this.addEventListener('connectionstatechange', () => mark(`dtls ${this.connectionState}`));
      this.addEventListener('track', () => mark('remote track'));
    }

    async setLocalDescription(/** @type {any[]} */ ...a) {
      const r = await super.setLocalDescription(...a);
      mark(`sent ${this.localDescription?.type}`);
      return r;
    }

    async setRemoteDescription(/** @type {any[]} */ ...a) {
      mark(`got ${a[0]?.type}`);
      return super.setRemoteDescription(...a);
    }
  };

  // When our end-to-end transforms run in the worker, and when a sender gets its track.
  const W = window.Worker;
  window.Worker = class extends W {
    constructor(/** @type {any[]} */ ...a) {
      super(...a);
      this.addEventListener('message', (e) => { if (e.data?.op === 'attached') mark('a transform runs'); });
    }
  };
  const replace = RTCRtpSender.prototype.replaceTrack;
  RTCRtpSender.prototype.replaceTrack = function (track) {
    if (track) mark(`${track.kind} on a sender`);
    return replace.call(this, track);
  };

  // The pre-join screen is ready when Join can be pressed and the preview plays.
  const ready = () => {
    const join = /** @type {HTMLButtonElement | null} */ (document.getElementById('join'));
    const preview = /** @type {HTMLVideoElement | null} */ (document.getElementById('preview'));
    if (join && !join.disabled && join.offsetParent !== null && preview && preview.readyState >= 2) mark('pre-join ready');
    else requestAnimationFrame(ready);
  };
  requestAnimationFrame(ready);
  document.addEventListener('click', (e) => {
    if (e.target instanceof Element && e.target.closest('#join')) mark('join click');
  }, true);
}

/**
 * In the page: polls the test hook until the first decoded frame from the
 * other, noting on the way when its media key arrived and when the worker
 * first decrypted a video frame from it.
 */
function firstFrame(page) {
  return page.evaluate(async () => {
    const hook = /** @type {any} */ (window).xroomTest;
    const tl = /** @type {any} */ (window).__tl;
    for (;;) {
      const [s, k] = await Promise.all([hook.stats(), hook.e2ee()]);
      const them = Object.values(k.peers ?? {});
      if (them.some((/** @type {any} */ p) => p.recvId >= 0) && !('their key' in tl)) tl['their key'] = performance.now();
      const note = (/** @type {string} */ k, /** @type {boolean} */ yes) => { if (yes && !(k in tl)) tl[k] = performance.now(); };
      note('first audio packet', s.peers.some((/** @type {any} */ p) => p.audioPackets > 0));
      note('first video frame in', s.peers.some((/** @type {any} */ p) => p.framesReceived > 0));
      note('first audio decrypted', them.some((/** @type {any} */ p) => p.counters?.decAudio > 0));
      note('first frame decrypted', them.some((/** @type {any} */ p) => p.counters?.decVideo > 0));
      note('a frame without its key', them.some((/** @type {any} */ p) => p.counters?.noKey > 0));
      note('a frame refused', them.some((/** @type {any} */ p) => p.counters?.authFailed > 0));
      if (s.peers.some((/** @type {any} */ p) => p.framesDecoded > 0)) return performance.now();
      await new Promise((r) => setTimeout(r, 5));
    }
  });
}

async function run(browser, daemon) {
  const link = roomLink();
  const host = await joinPage(browser, daemon, link, { name: 'Host', init: instrument });
  // The host's steps are noted from the newcomer's Join click on.
  await host.page.evaluate(() => { for (const k of Object.keys(/** @type {any} */ (window).__tl)) delete /** @type {any} */ (window).__tl[k]; });
  const context = await browser.newContext({ viewport: { width: 1280, height: 720 } });
  context.setDefaultTimeout(PATIENCE);
  await context.addInitScript(() => {
    if (self.origin === 'null' || window.top !== window) return;
    if (!localStorage.getItem('xroom.profile')) localStorage.setItem('xroom.profile', JSON.stringify({ name: 'New' }));
  });
  await context.addInitScript(instrument);
  const page = await context.newPage();
  // Once to warm the cache (another room, so that nobody joins there) ...
  await page.goto(`${daemon.origin}${roomLink()}`);
  await page.waitForFunction(() => 'pre-join ready' in (/** @type {any} */ (window).__tl ?? {}));
  // ... then the measured load.
  await page.goto(`${daemon.origin}${link}`);
  await page.waitForFunction(() => 'pre-join ready' in (/** @type {any} */ (window).__tl ?? {}));
  // The host's side of it: when it first encodes and seals video for the newcomer.
  const watching = host.page.evaluate(async () => {
    const hook = /** @type {any} */ (window).xroomTest;
    const tl = /** @type {any} */ (window).__tl;
    const note = (/** @type {string} */ k, /** @type {boolean} */ yes) => { if (yes && !(k in tl)) tl[k] = performance.now(); };
    for (let i = 0; i < 2000 && !('first video sealed' in tl); i++) {
      const [st, k] = await Promise.all([hook.stats(), hook.e2ee()]);
      note('first video frame encoded', st.peers.some((/** @type {any} */ p) => p.framesEncoded > 0));
      note('first video sealed', Object.values(k.peers ?? {}).some((/** @type {any} */ p) => p.counters?.encVideo > 0));
      await new Promise((r) => setTimeout(r, 5));
    }
  });
  await page.getByRole('button', { name: 'Join', exact: true }).click();
  const frame = await firstFrame(page);
  await watching;
  const tl = await page.evaluate(() => {
    const nav = /** @type {PerformanceNavigationTiming} */ (performance.getEntriesByType('navigation')[0]);
    return { 'page response': nav.responseEnd, 'page DOM ready': nav.domContentLoadedEventEnd, ...(/** @type {any} */ (window).__tl) };
  });
  tl['first remote frame'] = frame;
  // The host's marks, moved onto the newcomer's clock (both pages run on this machine).
  const origin = await page.evaluate(() => performance.timeOrigin);
  const theirs = await host.page.evaluate(() => ({ origin: performance.timeOrigin, tl: /** @type {any} */ (window).__tl }));
  for (const [k, t] of Object.entries(theirs.tl)) tl[`host: ${k}`] = theirs.origin + t - origin;
  await context.close();
  await host.context.close();
  return tl;
}


const daemon = await startDaemon({});
const browser = await launch();
try {
  const runs = [];
  for (let i = 0; i < RUNS; i++) runs.push(await run(browser, daemon));
  // Steps in the order of their median time; each from the start of the navigation and from the Join click.
  const keys = [...new Set(runs.flatMap((r) => Object.keys(r)))];
  const rows = keys.map((k) => {
    const at = runs.filter((r) => k in r);
    return { k, n: at.length, t: median(at.map((r) => r[k])), fromJoin: median(at.map((r) => r[k] - r['join click'])) };
  }).sort((a, b) => a.t - b.t);
  console.log(`join timeline, 2 peers, warm page, median of ${RUNS} (from the navigation's start | from the Join click):`);
  for (const r of rows) {
    console.log(`  ${r.k.padEnd(30)} ${ms(r.t).padStart(8)} | ${ms(r.fromJoin).padStart(8)}${r.n < RUNS ? `  (in ${r.n} of ${RUNS} runs)` : ''}`);
  }
  const pre = runs.map((r) => r['pre-join ready']);
  const joinToFrame = runs.map((r) => r['first remote frame'] - r['join click']);
  console.log(`page opened -> pre-join ready: median ${ms(median(pre))} (runs: ${pre.map(ms).join(', ')})`);
  console.log(`Join -> the other on screen: median ${ms(median(joinToFrame))} (runs: ${joinToFrame.map(ms).join(', ')})`);
} finally {
  await browser.close();
  await daemon.stop();
}
