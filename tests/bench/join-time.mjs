#!/usr/bin/env node
// join-time.mjs: how long from opening a room link to seeing the others.
// Real daemon, real headless Chromium (fake camera and microphone), all on
// loopback. For a newcomer to a room of 1 and of 3, measures from the
// navigation's start (performance.timeOrigin) to the first decoded frame
// of one peer, and of every peer; also from the Join click. Median of N
// runs (default 5). Run from tests/: node bench/join-time.mjs [runs]

import { joinPage, launch, openPage, roomLink, startDaemon, waitMediaFlowing } from '../browser/util.mjs';
import { median, ms } from './figures.mjs';

const RUNS = Number(process.argv[2] ?? 5);

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

/** One newcomer into a room that already has `others` people talking. */
async function run(browser, daemon, others) {
  const link = roomLink();
  const present = [];
  for (let i = 0; i < others; i++) present.push(await joinPage(browser, daemon, link, { name: `P${i}` }));
  if (others > 1) await waitMediaFlowing(present);
  const p = await openPage(browser, daemon, link, {
    name: 'New',
    init: () => {
      document.addEventListener('click', (e) => {
        if (e.target instanceof Element && e.target.closest('#join')) window.__joinAt = performance.now();
      }, true);
    },
  });
  await p.page.getByRole('button', { name: 'Join', exact: true }).click();
  const first = framesFrom(p.page, 1);
  const all = framesFrom(p.page, others);
  const [tFirst, tAll] = await Promise.all([first, all]);
  const joinAt = await p.page.evaluate(() => window.__joinAt);
  for (const q of [...present, p]) await q.context.close();
  return { first: tFirst, all: tAll, firstFromJoin: tFirst - joinAt, allFromJoin: tAll - joinAt };
}


const daemon = await startDaemon({});
const browser = await launch();
try {
  for (const others of [1, 3]) {
    const results = [];
    for (let i = 0; i < RUNS; i++) results.push(await run(browser, daemon, others));
    const label = others === 1 ? '2 peers' : `${others + 1} peers`;
    const pick = (k) => results.map((r) => r[k]);
    console.log(`${label}: link -> first remote frame: median ${ms(median(pick('first')))} ` +
      `(runs: ${pick('first').map(ms).join(', ')}); from Join: ${ms(median(pick('firstFromJoin')))}`);
    if (others > 1) {
      console.log(`${label}: link -> frames from all ${others}: median ${ms(median(pick('all')))} ` +
        `(runs: ${pick('all').map(ms).join(', ')}); from Join: ${ms(median(pick('allFromJoin')))}`);
    }
  }
} finally {
  await browser.close();
  await daemon.stop();
}
