// screenshots.mjs: refreshes docs/screens/*.png, the main screens at a
// desktop (1280×800) and a phone (390×844) size, from the real daemon and
// Debian's Chromium with its fake camera. Run it after a UI change:
//   cd tests && XROOMD=../build/xroomd node bench/screenshots.mjs
// Not part of .ci/run (pictures are looked at, not asserted: the UI's
// behaviour is in browser/ux.test.mjs and browser/a11y.test.mjs).

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT, joinPage, launch, openPage, roomLink, startDaemon, waitFor, waitMediaFlowing } from '../browser/util.mjs';

const OUT = join(REPO_ROOT, 'docs', 'screens');
const SIZES = { desktop: { width: 1280, height: 800 }, phone: { width: 390, height: 844 } };

mkdirSync(OUT, { recursive: true });
const browser = await launch();
const daemon = await startDaemon({});
const shots = [];
try {
  for (const [size, viewport] of Object.entries(SIZES)) {
    const shot = async (page, name) => {
      const path = join(OUT, `${name}-${size}.png`);
      await page.screenshot({ path });
      shots.push(path);
    };
    const start = await openPage(browser, daemon, '/', { viewport, context: { colorScheme: 'light' } });
    await start.page.getByRole('heading', { level: 1 }).waitFor();
    await shot(start.page, 'start');
    await start.context.close();

    const link = roomLink();
    const a = await openPage(browser, daemon, link, { name: 'Ada', viewport, context: { colorScheme: 'light' } });
    await a.page.getByRole('button', { name: 'Join', exact: true }).waitFor();
    await shot(a.page, 'prejoin');
    await a.page.getByRole('button', { name: 'Join', exact: true }).click();
    await a.page.getByRole('region', { name: 'You\'re the only one here' }).waitFor();
    await shot(a.page, 'alone');
    const others = [await joinPage(browser, daemon, link, { name: 'Ben', viewport }), await joinPage(browser, daemon, link, { name: 'Cleo', viewport })];
    await waitMediaFlowing([a, ...others]);
    await waitFor(async () => (await a.page.locator('.tile[data-lock="secure"]').count()) === 2, { what: 'green locks' });
    await shot(a.page, 'call-of-three');
    await a.page.getByRole('button', { name: 'People' }).click();
    await a.page.getByRole('dialog', { name: 'People in the call' }).waitFor();
    await shot(a.page, 'people');
    await a.page.keyboard.press('Escape');
    await a.page.getByRole('button', { name: 'Chat' }).click();
    await a.page.getByRole('textbox', { name: 'Message' }).fill('Hello, everyone');
    await a.page.keyboard.press('Enter');
    await shot(a.page, 'chat');
    for (const p of [a, ...others]) await p.context.close();
  }
} finally {
  await browser.close();
  await daemon.stop();
}
console.log(shots.map((s) => `# ${s}`).join('\n'));
