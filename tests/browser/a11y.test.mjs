// Accessibility, real daemon and Chromium: axe-core (an npm dev
// dependency, run inside the page, nothing fetched) scans every screen
// at a desktop size (1280×800) and a phone size (390×844), each in the dark
// and the light colour scheme (the system's setting): the start page,
// the privacy page, a bad link, the daemon's own 404 pages (styled), the pre-join screen, the call alone, a call
// of two with the chat open, the reactions menu, the leave, shortcuts, settings and people dialogs, the plugins
// dialog, the screen after leaving, and the admin page. Zero violations
// of WCAG 2.x A and AA rules.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { daemonForSuite, joinPage, launch, openPage, pressControl, roomLink, waitFor } from './util.mjs';

const require = createRequire(import.meta.url);
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const SIZES = { desktop: { width: 1280, height: 800 }, phone: { width: 390, height: 844 } };
const TOKEN = 'a11y-admin-token';
const CONFIG = {
  admin: { token_sha256: createHash('sha256').update(TOKEN).digest('hex') },
  experiments: [{
    name: 'start-button',
    variants: [{ name: 'control', weight: 1, params: { cta: 'Start a room' } }, { name: 'bold', weight: 1, params: { cta: 'Start a private room' } }],
    goals: ['room-created'],
  }],
};

let browser;
before(async () => { browser = await launch(); });

after(async () => { await browser?.close(); });

/**
 * axe-core's violations on the page as it is now (evaluated through the
 * debugging protocol, so the page's CSP does not apply to it).
 * @param {import('playwright-core').Page} page
 */
async function violations(page) {
  if (!await page.evaluate(() => 'axe' in window)) await page.evaluate(AXE);
  return page.evaluate(async () => {
    // Plugin frames are sandboxed (an opaque origin): scanned on their own is
    // future work; the app around them is scanned here.
    const r = await window.axe.run({ exclude: [['iframe']] }, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] } });
    return r.violations.map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).slice(0, 4).join(' | ')}`);
  });
}

for (const [size, viewport] of Object.entries(SIZES)) for (const colorScheme of ['dark', 'light']) {
  describe(`every screen passes axe-core (${size}, ${viewport.width}×${viewport.height}, ${colorScheme})`, () => {
    const suite = daemonForSuite(CONFIG);
    const { pages } = suite;
    const found = [];
    const scan = async (what, page) => {
      for (const v of await violations(page)) found.push(`${what}: ${v}`);
    };
    after(() => {
      if (found.length) console.log(found.map((f) => `# ${f}`).join('\n'));
    });

    test('start, privacy, a bad link, pre-join, alone, two with chat, dialogs, left, admin', async () => {
      const open = async (path, opts = {}) => {
        const p = await openPage(browser, suite.daemon, path, { viewport, context: { colorScheme }, ...opts });
        pages.push(p);
        return p;
      };
      const start = await open('/');
      await start.page.getByRole('heading', { level: 1 }).waitFor();
      await scan('start', start.page);
      await start.page.goto(`${suite.daemon.origin}/privacy.html`);
      await scan('privacy', start.page);
      await start.page.goto(`${suite.daemon.origin}/r/room#tooShort`);
      await start.page.locator('#screen-message').waitFor();
      await scan('bad link', start.page);
      // A path that is no room link at all: the daemon's own page, styled.
      const r = await start.page.goto(`${suite.daemon.origin}/r/not.a.room`);
      assert.equal(r.status(), 404);
      await start.page.getByRole('heading', { name: 'This link leads to no room' }).waitFor();
      assert.equal(await start.page.getByRole('link', { name: 'Start a new room' }).getAttribute('href'), '/');
      await scan('no room (the daemon\'s 404)', start.page);
      await start.page.goto(`${suite.daemon.origin}/nothing-here.html`);
      await start.page.getByRole('heading', { name: 'Nothing here' }).waitFor();
      await scan('no such page (404)', start.page);
      await start.page.goto(`${suite.daemon.origin}/admin`);
      await start.page.getByRole('heading', { level: 1 }).waitFor();
      await scan('admin, signed out', start.page);
      await start.page.fill('#token', TOKEN);
      await start.page.click('button[type=submit]');
      await start.page.locator('table').first().waitFor();
      await scan('admin, the experiments report', start.page);
      // A configured room, its page, and the question before closing it.
      const roomId = roomLink().match(/^\/r\/([^?#]+)/)[1];
      const put = await fetch(`${suite.daemon.origin}/api/rooms/${roomId}`, { method: 'PUT', headers: { authorization: `Bearer ${TOKEN}` }, body: '{"title":"Axe"}' });
      assert.equal(put.status, 200);
      await start.page.getByRole('button', { name: 'Refresh' }).click();
      await start.page.getByRole('button', { name: `Manage room ${roomId}` }).click();
      await start.page.getByRole('dialog', { name: `Room ${roomId}` }).waitFor();
      await scan('admin, a room', start.page);
      await start.page.getByRole('button', { name: 'Close room…' }).click();
      await start.page.getByRole('dialog', { name: `Close room ${roomId}?` }).waitFor();
      await scan('admin, closing a room asks first', start.page);
      await start.page.keyboard.press('Escape');
      await start.page.keyboard.press('Escape');
      // A variant nobody has seen yet gets no p-value.
      assert.ok(await start.page.getByText('no visitors yet').count() > 0, 'no p-value without visitors');

      const link = roomLink();
      const a = await open(link, { name: 'Ada' });
      await a.page.getByRole('button', { name: 'Join', exact: true }).waitFor();
      await scan('pre-join', a.page);
      await a.page.getByRole('button', { name: 'Join', exact: true }).click();
      await a.page.getByRole('region', { name: 'You\'re the only one here' }).waitFor();
      await scan('call alone', a.page);
      if (await a.page.getByRole('button', { name: 'More' }).isVisible()) {
        await a.page.getByRole('button', { name: 'More' }).click();
        await a.page.getByRole('group', { name: 'More controls' }).waitFor();
        await scan('the More panel', a.page);
        await a.page.keyboard.press('Escape');
      }
      const b = await joinPage(browser, suite.daemon, link, { name: 'Ben', viewport, context: { colorScheme } });
      pages.push(b);
      await waitFor(async () => (await a.page.locator('.tile').count()) === 2, { what: 'two tiles' });
      await a.page.getByRole('button', { name: 'Chat' }).click();
      await a.page.getByRole('textbox', { name: 'Message' }).waitFor();
      await scan('call of two, chat open', a.page);
      await a.page.getByRole('button', { name: 'Close chat' }).click();
      // A plugin: its consent dialog, its panel, the notice the other gets.
      await pressControl(a.page, 'Plugins');
      await a.page.getByRole('dialog', { name: 'Plugins' }).getByRole('button', { name: /^(Start|Run) Poll/ }).click();
      const consent = a.page.getByRole('dialog', { name: 'Run Poll?' });
      await consent.locator('[aria-busy="true"]').waitFor({ state: 'detached' });
      await scan('plugin consent dialog', a.page);
      await consent.getByRole('button', { name: 'Run it' }).click({ noWaitAfter: true });
      await consent.waitFor({ state: 'hidden' });
      await a.page.locator('#plugin-panel').waitFor();
      await scan('plugin panel', a.page);
      await a.page.getByRole('button', { name: 'Hide plugins' }).click();
      await b.page.getByRole('button', { name: 'Run Poll…' }).waitFor();
      await scan('plugin notice', b.page);
      await a.page.getByRole('button', { name: 'Shortcuts' }).click();
      await a.page.getByRole('dialog', { name: 'Keyboard shortcuts' }).waitFor();
      await scan('shortcuts dialog', a.page);
      await a.page.keyboard.press('Escape');
      await pressControl(a.page, 'Reactions and raise hand');
      await a.page.getByRole('button', { name: 'Raise hand', exact: true }).waitFor();
      await scan('reactions menu', a.page);
      await a.page.keyboard.press('Escape');
      await a.page.getByRole('button', { name: 'Settings' }).click();
      await a.page.getByRole('dialog', { name: 'Settings' }).waitFor();
      await scan('settings dialog', a.page);
      await a.page.keyboard.press('Escape');
      await a.page.getByRole('button', { name: 'People' }).click();
      await a.page.getByRole('dialog', { name: 'People in the call' }).waitFor();
      await scan('people dialog', a.page);
      await a.page.keyboard.press('Escape');
      await pressControl(a.page, 'Plugins');
      await a.page.getByRole('dialog', { name: 'Plugins' }).waitFor();
      await scan('plugins dialog', a.page);
      await a.page.keyboard.press('Escape');
      await a.page.keyboard.press('l');
      await a.page.getByRole('dialog', { name: 'Leave the call?' }).waitFor();
      await scan('leave dialog', a.page);
      await a.page.keyboard.press('Enter');
      await a.page.getByRole('heading', { name: 'You left the call' }).waitFor();
      await scan('left', a.page);
      assert.deepEqual(found, [], `axe-core found ${found.length} violations`);
    });
  });
}
