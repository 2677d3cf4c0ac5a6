// A/B experiments in the page: variant params applied before marked
// elements are ever shown (no flicker), goals reported with keepalive
// requests, nothing stored for it (no cookie, no storage), and the admin
// dashboard behind its token.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { artifactPath, joinPage, launch, openPage, roomLink, startDaemon, waitFor, PATIENCE } from './util.mjs';

const TOKEN = 'browser-admin-token';
const CONFIG = {
  admin: { token_sha256: createHash('sha256').update(TOKEN).digest('hex') },
  experiments: [{
    name: 'start-button',
    variants: [
      { name: 'control', weight: 1, params: { cta: 'Start a room (control)' } },
      { name: 'bold', weight: 1, params: { cta: 'Start a free, private room now' } },
    ],
    goals: ['room-created', 'call-connected'],
  }],
};

async function report(d) {
  const r = await fetch(`${d.origin}/api/experiments`, { headers: { authorization: `Bearer ${TOKEN}` } });
  assert.equal(r.status, 200);
  return (await r.json()).experiments.find((e) => e.name === 'start-button');
}

const total = (ex, goal) => ex.variants.reduce((s, v) => s + (goal ? v.goals[goal].conversions : v.visitors), 0);

describe('experiments in the web client', () => {
  let browser;
  let d;
  before(async () => {
    browser = await launch();
    d = await startDaemon(CONFIG);
  });
  after(async () => {
    await browser?.close();
    await d?.stop();
  });

  test('the variant text is applied before the button is ever visible', async () => {
    // Record every animation frame from the very start of the page.
    const init = () => {
      window.__frames = [];
      const tick = () => {
        const b = document.getElementById('create');
        if (b) window.__frames.push({ vis: getComputedStyle(b).visibility, text: b.textContent });
        requestAnimationFrame(tick);
      };
      requestAnimationFrame(tick);
    };
    const p = await openPage(browser, d, '/', { init });
    await p.page.waitForFunction(() => document.documentElement.classList.contains('xp-ready'));
    const session = await p.page.evaluate(async () => (await fetch('/api/session')).json());
    const cta = session.params.cta;
    assert.ok(['Start a room (control)', 'Start a free, private room now'].includes(cta));
    assert.equal((await p.page.textContent('#create')).trim(), cta);
    await p.page.waitForTimeout(200);
    const frames = await p.page.evaluate(() => window.__frames);
    assert.ok(frames.length > 0, 'frames were recorded');
    const shownWrong = frames.filter((f) => f.vis === 'visible' && f.text.trim() !== cta);
    assert.deepEqual(shownWrong, [], 'the default text was never painted visible');
    // nothing stored, nothing set
    assert.equal(await p.page.evaluate(() => document.cookie), '');
    assert.deepEqual(await p.context.cookies(), []);
    const stored = await p.page.evaluate(() => [...Object.keys(localStorage), ...Object.keys(sessionStorage)]);
    assert.ok(stored.every((k) => !/xp|experiment|variant|visitor/i.test(k)), `stored: ${stored}`);
    assert.deepEqual(p.log.csp, []);
    await p.context.close();
  });

  test('room-created and call-connected are counted once per visitor-day', async () => {
    const before0 = await report(d);
    const p = await openPage(browser, d, '/');
    await p.page.waitForFunction(() => document.documentElement.classList.contains('xp-ready'));
    await Promise.all([p.page.waitForURL(/\/r\//), p.page.click('#create')]);
    await waitFor(async () => total(await report(d), 'room-created') === total(before0, 'room-created') + 1,
      { what: 'room-created counted' });
    // A second visit the same day from the same browser is the same visitor.
    const link = p.page.url().replace(d.origin, '').replace('#', '?test=1#');
    const a = await joinPage(browser, d, link, { name: 'Ada' });
    const b = await joinPage(browser, d, link, { name: 'Bob' });
    await waitFor(async () => total(await report(d), 'call-connected') >= 1, { what: 'call-connected counted', timeout: PATIENCE });
    await b.page.waitForTimeout(500);
    const r = await report(d);
    assert.equal(total(r, 'call-connected'), 1, 'same visitor (same browser, address, host): counted once');
    // every page of this file comes from one browser, address and host
    assert.equal(total(r), 1, 'one visitor-day, however many pages');
    for (const x of [p, a, b]) await x.context.close();
  });

  test('the admin page asks for the token and keeps it in this tab only', async () => {
    const p = await openPage(browser, d, '/admin');
    await p.page.fill('#token', 'wrong-token');
    await p.page.click('button[type=submit]');
    await p.page.getByText('That token was refused.').waitFor();
    await p.page.fill('#token', TOKEN);
    await p.page.click('button[type=submit]');
    await p.page.locator('table').first().waitFor();
    const text = await p.page.textContent('#report');
    assert.match(text, /start-button/);
    assert.match(text, /room-created/);
    assert.equal(await p.page.locator('svg.chart').count(), 2);
    assert.equal(await p.page.evaluate(() => localStorage.length), 0);
    assert.equal(await p.page.evaluate(() => sessionStorage.getItem('xroom-admin-token')), TOKEN);
    await p.page.screenshot({ path: artifactPath('admin.png'), fullPage: true });
    assert.deepEqual(p.log.csp, []);
    assert.deepEqual(p.log.errors, []);
    await p.context.close();
  });
});
