#!/usr/bin/env node
// firefox-first-frame.mjs: time to first frame between Chromium and
// Firefox, end-to-end encryption on. Real daemon on loopback, Debian's
// headless Chromium (playwright-core) and Firefox ESR (puppeteer-core
// over WebDriver BiDi), fake cameras and microphones.
//   Chromium -> Firefox: a Chromium page is in the room; a Firefox page
//     opens the link and joins; until it decodes the first frame from it.
//   Firefox -> Chromium: the same with the browsers swapped.
// Measured in the newcomer's page, from its navigation start
// (performance.timeOrigin) and from its Join click, to the first decoded
// (so decrypted) remote frame. Median of N runs each (default 5), the two
// directions alternating. Run from tests/: node bench/firefox-first-frame.mjs [runs]

import { joinPage, launch, openPage, roomLink, startDaemon } from '../browser/util.mjs';
import { joinFirefoxPage, launchFirefox, openFirefoxPage } from '../browser/firefox-util.mjs';
import { median, ms } from './figures.mjs';

const RUNS = Number(process.argv[2] ?? 5);

/** In the page: notes when Join is clicked. */
function markJoin() {
  document.addEventListener('click', (e) => {
    if (e.target instanceof Element && e.target.closest('#join')) window.__joinAt = performance.now();
  }, true);
}

/** In the page: polls until a peer's video has a decoded frame; returns performance.now() then, and the Join time. */
function firstFrame(page) {
  return page.evaluate(async () => {
    for (;;) {
      const s = await window.xroomTest.stats();
      if (s.peers.some((p) => p.framesDecoded > 0)) return { at: performance.now(), joinAt: window.__joinAt };
      await new Promise((r) => setTimeout(r, 10));
    }
  });
}

/** `from` is in the room; a page of `to` joins and waits for its first frame. */
async function run(browsers, daemon, from, to) {
  const link = roomLink();
  const present = from === 'firefox'
    ? await joinFirefoxPage(browsers.firefox, daemon, link, { name: 'There' })
    : await joinPage(browsers.chromium, daemon, link, { name: 'There' });
  let p;
  if (to === 'firefox') {
    p = await openFirefoxPage(browsers.firefox, daemon, link, { name: 'New', init: markJoin });
    await p.page.waitForSelector('#join', { visible: true });
    await p.page.click('#join');
  } else {
    p = await openPage(browsers.chromium, daemon, link, { name: 'New', init: markJoin });
    await p.page.getByRole('button', { name: 'Join', exact: true }).click();
  }
  const { at, joinAt } = await firstFrame(p.page);
  for (const q of [p, present]) await q.context.close();
  return { link: at, join: at - joinAt };
}


const daemon = await startDaemon({});
const browsers = { chromium: await launch(), firefox: await launchFirefox() };
try {
  const dirs = [['chromium', 'firefox'], ['firefox', 'chromium']];
  /** @type {Record<string, {link: number, join: number}[]>} */
  const results = {};
  for (let i = 0; i < RUNS; i++) {
    for (const [from, to] of dirs) (results[`${from}->${to}`] ??= []).push(await run(browsers, daemon, from, to));
  }
  for (const [from, to] of dirs) {
    const r = results[`${from}->${to}`];
    const name = (b) => (b === 'firefox' ? 'Firefox' : 'Chromium');
    console.log(`${name(from)} -> ${name(to)}: link -> first frame: median ${ms(median(r.map((x) => x.link)))} ` +
      `(runs: ${r.map((x) => ms(x.link)).join(', ')}); from Join: median ${ms(median(r.map((x) => x.join)))} ` +
      `(runs: ${r.map((x) => ms(x.join)).join(', ')})`);
  }
} finally {
  await browsers.firefox.close();
  await browsers.chromium.close();
  await daemon.stop();
}
