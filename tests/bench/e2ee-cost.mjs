#!/usr/bin/env node
// e2ee-cost.mjs: what end-to-end encryption costs, in one run. Two daemons
// on loopback: one serves web/ as shipped (E2EE), the other a throw-away
// copy of it where js/e2ee/e2ee.js is tests/bench/plain/e2ee.js (no frame
// transform, signals in clear), which no shipped link can load. Runs
// alternate between the two. Each run: two people in a room, a third opens
// the link; measured: from the link's navigation start to frames decoded
// from both others ("time to all frames"), then the CPU time of every
// Chromium renderer process (CDP SystemInfo.getProcessInfo) over 10 s of
// the 3-person call, and the browser's total, with the frames decoded in
// that window (the browser lowers resolution under CPU load, so the two
// variants' CPU is only comparable at similar frame rates). Medians of N
// runs each
// (default 5). Run from tests/: node bench/e2ee-cost.mjs [runs]

import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Daemon, WEB_ROOT, joinPage, launch, openPage, roomLink, sleep, waitMediaFlowing } from '../browser/util.mjs';
import { median } from './figures.mjs';

const RUNS = Number(process.argv[2] ?? 5);
const CPU_WINDOW_MS = 10_000;
const here = dirname(fileURLToPath(import.meta.url));

/** A web root like web/ but without E2EE; removed at the end. */
function plainWebRoot() {
  const dir = mkdtempSync(join(tmpdir(), 'xroom-plain-web-'));
  cpSync(WEB_ROOT, dir, { recursive: true });
  cpSync(join(here, 'plain', 'e2ee.js'), join(dir, 'js', 'e2ee', 'e2ee.js'));
  return dir;
}

/** In the page: polls until `n` peers each have a decoded frame; returns performance.now(). */
function framesFrom(page, n) {
  return page.evaluate(async (count) => {
    for (;;) {
      const s = await window.xroomTest.stats();
      if (s.peers.length >= count && s.peers.every((p) => p.framesDecoded > 0)) return performance.now();
      await new Promise((r) => setTimeout(r, 10));
    }
  }, n);
}

/** CPU seconds so far: renderers summed, and every process of the browser. */
async function cpu(cdp) {
  const { processInfo } = await cdp.send('SystemInfo.getProcessInfo');
  let renderers = 0;
  let all = 0;
  for (const p of processInfo) {
    all += p.cpuTime;
    if (p.type === 'renderer') renderers += p.cpuTime;
  }
  return { renderers, all };
}

async function run(browser, cdp, daemon) {
  const link = roomLink();
  const present = [];
  for (let i = 0; i < 2; i++) present.push(await joinPage(browser, daemon, link, { name: `P${i}` }));
  await waitMediaFlowing(present);
  const p = await openPage(browser, daemon, link, { name: 'New' });
  await p.page.getByRole('button', { name: 'Join', exact: true }).click();
  const all = await framesFrom(p.page, 2);
  const pages = [...present, p];
  await waitMediaFlowing(pages);
  const mode = (await p.page.evaluate(() => window.xroomTest.e2ee()))?.mode;
  await sleep(2000); // let bandwidth estimation settle
  const decoded = async () => (await Promise.all(pages.map((q) => q.page.evaluate(() => window.xroomTest.stats()))))
    .flatMap((s) => s.peers).reduce((n, q) => n + q.framesDecoded, 0);
  const f0 = await decoded();
  const c0 = await cpu(cdp);
  const t0 = Date.now();
  await sleep(CPU_WINDOW_MS);
  const c1 = await cpu(cdp);
  const secs = (Date.now() - t0) / 1000;
  const fps = (await decoded() - f0) / secs;
  const last = await Promise.all(pages.map((q) => q.page.evaluate(() => window.xroomTest.stats())));
  const height = last.flatMap((s) => s.peers.map((q) => q.frameHeight)).reduce((a, b) => Math.max(a, b), 0);
  for (const q of pages) await q.context.close();
  return {
    mode,
    all,
    renderersPct: ((c1.renderers - c0.renderers) / secs) * 100,
    allPct: ((c1.all - c0.all) / secs) * 100,
    height,
    fps,
  };
}


const plainRoot = plainWebRoot();
const daemons = { e2ee: await new Daemon({}).start(), plain: await new Daemon({}, { webRoot: plainRoot }).start() };
const browser = await launch();
const cdp = await browser.newBrowserCDPSession();
const results = { e2ee: [], plain: [] };
try {
  for (let i = 0; i < RUNS; i++) {
    for (const variant of i % 2 ? ['plain', 'e2ee'] : ['e2ee', 'plain']) {
      const r = await run(browser, cdp, daemons[variant]);
      if ((variant === 'e2ee') !== (r.mode === 'script' || r.mode === 'streams')) {
        throw new Error(`the ${variant} page reports mode ${r.mode}`);
      }
      results[variant].push(r);
      console.log(`run ${i + 1} ${variant.padEnd(5)}: all frames ${Math.round(r.all)} ms, renderers ${r.renderersPct.toFixed(0)}% ` +
        `of a core, whole browser ${r.allPct.toFixed(0)}%, ${r.fps.toFixed(0)} frames/s decoded in all, ` +
        `largest frame height ${r.height}`);
    }
  }
  console.log(`\n3 peers, ${RUNS} runs each, medians (${CPU_WINDOW_MS / 1000} s CPU windows):`);
  for (const v of ['plain', 'e2ee']) {
    const rs = results[v];
    console.log(`${v.padEnd(5)}: link -> frames from both others ${Math.round(median(rs.map((r) => r.all)))} ms; ` +
      `renderer CPU ${median(rs.map((r) => r.renderersPct)).toFixed(0)}% of a core (3 renderers); ` +
      `whole browser ${median(rs.map((r) => r.allPct)).toFixed(0)}%; ${median(rs.map((r) => r.fps)).toFixed(0)} frames/s decoded`);
  }
} finally {
  await browser.close();
  for (const d of Object.values(daemons)) await d.stop();
  rmSync(plainRoot, { recursive: true, force: true });
}
