// The call explains itself, driven as a person would (roles and names),
// real daemon and Chromium: who is here (a list with connection, lock and
// safety code), the room's link on the pre-join screen and
// over the call while alone (Copy, and Share where the browser has a share
// sheet), visible join and leave notices, L that asks before leaving,
// "?" with the list of shortcuts and the switch that turns single keys
// off (remembered), distinct names for people who gave none, a reconnect
// countdown that ticks, settings in the call (another microphone, noise
// suppression off, nobody reconnected), a notice for a chat message while the chat is
// closed, a tile enlarged (and a shared screen enlarged by itself) or
// full screen, a raised hand and a reaction seen by the other, and no goal
// reported when no experiment runs.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { daemonForSuite, joinPage, launch, openPage, roomLink, stats, tab, waitFor } from './util.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

const linkOf = (page) => page.evaluate(() => location.origin + location.pathname + location.hash);

describe('invite, notices, shortcuts, names', () => {
  const suite = daemonForSuite();
  const { pages } = suite;

  test('the link is on the pre-join screen and over the call while alone; joins and leaves are shown', async () => {
    const link = roomLink();
    const a = await openPage(browser, suite.daemon, link, { name: 'Ada' });
    pages.push(a);
    await a.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: suite.daemon.origin });
    const pre = a.page.getByRole('region', { name: 'Invite others' });
    assert.equal(await pre.getByRole('textbox', { name: 'Room link' }).inputValue(), await linkOf(a.page));
    await pre.getByRole('button', { name: 'Copy link' }).click();
    await a.page.getByText('Link copied: anyone with it can join').waitFor();
    assert.equal(await a.page.evaluate(() => navigator.clipboard.readText()), await linkOf(a.page));
    // No share sheet in headless Chromium: no Share button.
    assert.equal(await pre.getByRole('button', { name: 'Share…' }).count(), 0);

    await a.page.getByRole('button', { name: 'Join', exact: true }).click();
    const alone = a.page.getByRole('region', { name: 'You\'re the only one here' });
    await alone.waitFor();
    assert.equal(await alone.getByRole('textbox', { name: 'Room link' }).inputValue(), await linkOf(a.page));

    const b = await joinPage(browser, suite.daemon, link, { name: 'Ben' });
    pages.push(b);
    await a.page.getByRole('status').filter({ hasText: 'Ben joined' }).waitFor();
    await alone.waitFor({ state: 'hidden' });
    // Who is here: the list names both, how Ben is connected, his lock and code.
    await waitFor(async () => (await a.page.locator('.tile[data-lock="secure"]').count()) === 1, { what: 'Ben\'s lock green' });
    await a.page.getByRole('button', { name: 'People' }).click();
    const people = a.page.getByRole('dialog', { name: 'People in the call' });
    // The route is read from the connection's stats, which may come a poll after the lock.
    const items = await waitFor(async () => {
      const l = await people.getByRole('listitem').allTextContents();
      return /Connected directly/.test(l[1] ?? '') ? l : (() => { throw new Error(JSON.stringify(l)); })();
    }, { what: 'Ben connected directly, in the list' });
    assert.equal(items.length, 2);
    assert.match(items[0], /^Ada \(you\)$/);
    assert.match(items[1], /^Ben — Connected directly, browser to browser · encrypted · safety code \d{5}( \d{5}){4}$/);
    await people.getByRole('button', { name: 'Close' }).click();
    // A message while Ada's chat is closed: a notice says who wrote what.
    await waitFor(async () => (await b.page.evaluate(() => window.xroomTest.chat())).open.length === 1, { what: 'Ben\'s chat channel open' });
    await b.page.getByRole('button', { name: 'Chat' }).click();
    await b.page.getByRole('textbox', { name: 'Message' }).fill('hello there');
    await b.page.keyboard.press('Enter');
    await a.page.getByRole('status').filter({ hasText: 'Ben: hello there' }).waitFor();
    await b.page.getByRole('button', { name: 'Leave' }).click();
    await a.page.getByRole('status').filter({ hasText: 'Ben left' }).waitFor();
    await alone.waitFor();
    // No experiment runs on this daemon: no goal was sent (call-connected).
    assert.deepEqual(a.log.requests.filter((u) => u.includes('/api/events')), []);
  });

  test('L asks before leaving; "?" lists the shortcuts and turns single keys off, remembered', async () => {
    const link = roomLink();
    const a = await joinPage(browser, suite.daemon, link, { name: 'Ada' });
    pages.push(a);
    const p = a.page;
    await p.locator('body').click({ position: { x: 5, y: 5 } });
    await p.keyboard.press('l');
    const dialog = p.getByRole('dialog', { name: 'Leave the call?' });
    await dialog.waitFor();
    await dialog.getByRole('button', { name: 'Stay' }).click();
    await dialog.waitFor({ state: 'hidden' });
    assert.equal((await stats(p)).inCall, true, 'still in the call');

    // An icon button says what it is on keyboard focus (and hover, press).
    await p.locator('#btn-cam').focus();
    await p.keyboard.press('Tab');
    const tip = await p.evaluate(() => {
      const el = document.activeElement;
      return { name: el?.getAttribute('aria-label'), tip: el ? getComputedStyle(el, '::after').content : '' };
    });
    assert.equal(tip.tip, JSON.stringify(tip.name), 'the focused button shows its name');
    // M mutes, then "?" and the switch off: M does nothing.
    await p.keyboard.press('m');
    await waitFor(async () => (await p.locator('#btn-mic').getAttribute('aria-pressed')) === 'false', { what: 'M mutes' });
    await p.keyboard.press('?');
    const help = p.getByRole('dialog', { name: 'Keyboard shortcuts' });
    await help.waitFor();
    assert.match(await help.textContent(), /Leave the call \(asks first\)/);
    const box = help.getByRole('checkbox', { name: /Single-key shortcuts/ });
    assert.equal(await box.isChecked(), true);
    await box.uncheck();
    await help.getByRole('button', { name: 'Close' }).click();
    await p.keyboard.press('m');
    await p.keyboard.press('l');
    await p.keyboard.press('?'); // still opens the list
    await help.waitFor();
    assert.equal(await p.locator('#btn-mic').getAttribute('aria-pressed'), 'false', 'M did nothing');
    assert.equal(await dialog.isVisible(), false, 'L did nothing');
    await help.getByRole('button', { name: 'Close' }).click();
    // The button in the call bar opens it too, and the choice is kept.
    await p.reload();
    await p.getByRole('button', { name: 'Join', exact: true }).click();
    await p.getByRole('button', { name: 'Shortcuts' }).click();
    await help.waitFor();
    assert.equal(await help.getByRole('checkbox', { name: /Single-key shortcuts/ }).isChecked(), false, 'remembered');
  });

  test('two people without a name are told apart', async () => {
    const link = roomLink();
    const [a, b] = [await joinPage(browser, suite.daemon, link, { name: '' }), await joinPage(browser, suite.daemon, link, { name: '' })];
    pages.push(a, b);
    const names = await waitFor(async () => {
      const n = await Promise.all([a, b].map((p) => p.page.locator('.tile:not([data-self]) .tile-name').allTextContents()));
      return n.every((x) => x.length === 1) && n.flat();
    }, { what: 'each sees the other' });
    for (const n of names) assert.match(n, /^Guest [A-Z0-9]{3}$/);
    assert.notEqual(names[0], names[1]);
  });
});

describe('a raised hand and reactions', () => {
  const suite = daemonForSuite();
  const { pages } = suite;

  test('Ada raises her hand and reacts: Ben sees both; she lowers it', async () => {
    const link = roomLink();
    const a = await joinPage(browser, suite.daemon, link, { name: 'Ada' });
    const b = await joinPage(browser, suite.daemon, link, { name: 'Ben' });
    pages.push(a, b);
    await waitFor(async () => (await a.page.evaluate(() => window.xroomTest.chat())).open.length === 1, { what: 'the sealed channel open' });
    const tA = await tab(a.page);
    const adaAtBen = b.page.locator(`.tile[data-tab="${tA}"]`);
    await a.page.getByRole('button', { name: 'Reactions and raise hand' }).click();
    await a.page.getByRole('button', { name: 'Raise hand', exact: true }).click();
    await b.page.getByRole('status').filter({ hasText: 'Ada raised a hand' }).waitFor();
    await waitFor(async () => (await adaAtBen.getAttribute('data-hand')) !== null, { what: 'the hand on Ada\'s tile' });
    assert.match(await adaAtBen.getAttribute('aria-label'), /hand raised/);
    await a.page.getByRole('button', { name: 'Reactions and raise hand' }).click();
    await a.page.getByRole('button', { name: 'React: thumbs up' }).click();
    await waitFor(async () => (await adaAtBen.locator('.tile-reaction').allTextContents()).includes('👍'), { what: 'the reaction on Ada\'s tile' });
    await a.page.getByRole('button', { name: 'Reactions and raise hand' }).click();
    await a.page.getByRole('button', { name: 'Lower hand', exact: true }).click();
    await waitFor(async () => (await adaAtBen.getAttribute('data-hand')) === null, { what: 'the hand down' });
    const r = await b.page.evaluate(() => window.xroomTest.reactions());
    assert.deepEqual(r.hands, []);
    assert.equal(r.counters.shown, 1);
  });
});

describe('settings in the call', () => {
  const suite = daemonForSuite();

  test('another microphone and noise suppression off, without leaving; the other still hears', async () => {
    const [a, b] = await suite.call(browser, ['Ada', 'Ben']);
    const before = await stats(a.page);
    assert.equal(before.local.noiseSuppression, true);
    await a.page.getByRole('button', { name: 'Settings' }).click();
    const dialog = a.page.getByRole('dialog', { name: 'Settings' });
    await dialog.waitFor();
    const mics = await dialog.getByRole('combobox', { name: 'Microphone' }).locator('option').allTextContents();
    const other = mics.find((m) => m !== before.local.audio);
    assert.ok(other, `another microphone to pick (${mics})`);
    await dialog.getByRole('combobox', { name: 'Microphone' }).selectOption({ label: other });
    await dialog.getByRole('checkbox', { name: 'Noise suppression' }).uncheck();
    await waitFor(async () => {
      const l = (await stats(a.page)).local;
      return l.audio === other && l.noiseSuppression === false;
    }, { what: `the microphone is ${other}, without noise suppression` });
    await dialog.getByRole('button', { name: 'Close' }).click();
    // Ben still hears Ada: her audio keeps arriving on the same connection.
    const tA = await tab(a.page);
    const heard = async () => (await stats(b.page)).peers.find((q) => q.tab === tA);
    const was = await heard();
    await waitFor(async () => (await heard()).audioPackets > was.audioPackets + 50, { what: 'Ada\'s audio after the switch' });
    assert.equal((await heard()).gen, was.gen, 'the same connection');
    // Remembered for the next visit.
    const saved = await a.page.evaluate(() => JSON.parse(localStorage.getItem('xroom.devices')));
    assert.equal(saved.noise, false);
  });
});

describe('spotlight and full screen', () => {
  const suite = daemonForSuite();

  test('a tile enlarged and back; a shared screen takes the spotlight and gives it back; full screen', async () => {
    const [a, b] = await suite.call(browser, ['Ada', 'Ben']);
    const tB = await tab(b.page);
    const widths = () => a.page.evaluate((t) => ({
      ben: document.querySelector(`.tile[data-tab="${t}"]`).getBoundingClientRect().width,
      self: document.querySelector('.tile[data-self]').getBoundingClientRect().width,
    }), tB);
    const even = await widths();
    assert.ok(Math.abs(even.ben - even.self) < 2, `two equal tiles (${JSON.stringify(even)})`);
    await a.page.getByRole('button', { name: 'Enlarge Ben' }).click();
    await waitFor(async () => { const w = await widths(); return w.ben > 2.5 * w.self && w; }, { what: 'Ben enlarged' });
    const back = a.page.getByRole('button', { name: 'Show everyone again' });
    assert.equal(await back.getAttribute('aria-pressed'), 'true');
    await back.click();
    await waitFor(async () => { const w = await widths(); return Math.abs(w.ben - w.self) < 2; }, { what: 'equal again' });
    // Ben shares his screen: it takes the spotlight at Ada's, and gives it back.
    await b.page.locator('#btn-screen').click();
    await waitFor(async () => { const w = await widths(); return w.ben > 2.5 * w.self; }, { what: 'the shared screen enlarged' });
    await b.page.locator('#btn-screen').click();
    await waitFor(async () => { const w = await widths(); return Math.abs(w.ben - w.self) < 2; }, { what: 'equal after the sharing' });
    await a.page.getByRole('button', { name: 'Full screen: Ben' }).click();
    await waitFor(() => a.page.evaluate((t) => document.fullscreenElement?.getAttribute('data-tab') === t, tB), { what: 'Ben full screen' });
    await a.page.keyboard.press('Escape');
  });
});

describe('the reconnect countdown', () => {
  const suite = daemonForSuite();
  const { pages } = suite;

  test('ticks down while the server is away, and goes when it is back', async () => {
    const a = await joinPage(browser, suite.daemon, roomLink(), { name: 'Ada' });
    pages.push(a);
    await suite.daemon.kill();
    const secs = async () => Number((await a.page.locator('#banner').textContent()).match(/reconnecting in (\d+) s/)?.[1] ?? NaN);
    // Wait for a wait of at least 3 s, then see it count down.
    const first = await waitFor(async () => { const n = await secs(); return n >= 3 && n; }, { what: 'a wait of 3 s or more' });
    await waitFor(async () => (await secs()) === first - 1, { what: `the countdown from ${first} to ${first - 1}` });
    await suite.daemon.start();
    await a.page.locator('#banner').waitFor({ state: 'hidden' });
  });
});

describe('one row of controls', () => {
  const suite = daemonForSuite();

  test('on a phone the secondary controls wait under More, named; wide again, all in the bar; with chat open at 1280×800, one row', async () => {
    const a = await suite.join(browser, roomLink(), { name: 'Ada', viewport: { width: 390, height: 844 } });
    const p = a.page;
    const row = () => p.evaluate(() => {
      const shown = [...document.querySelectorAll('#call-controls > button')].filter((b) => b.getClientRects().length > 0);
      return { names: shown.map((b) => b.getAttribute('aria-label')), rows: new Set(shown.map((b) => Math.round(b.getBoundingClientRect().top))).size };
    });
    await waitFor(async () => (await row()).names.includes('More'), { what: 'More on a phone' });
    let r = await row();
    assert.deepEqual(r.names, ['Microphone', 'Camera', 'Chat', 'More', 'Leave']);
    assert.equal(r.rows, 1, 'one row');
    await p.getByRole('button', { name: 'More' }).click();
    const panel = p.getByRole('group', { name: 'More controls' });
    await panel.waitFor();
    const named = await panel.getByRole('button').evaluateAll((bs) => bs.map((b) => [b.getAttribute('aria-label'), getComputedStyle(b, '::after').content]));
    assert.deepEqual(named.map(([n]) => n), ['Share screen', 'Hide my address', 'Copy link', 'Your card', 'Send a file', 'Plugins', 'Reactions and raise hand']);
    for (const [n, shown] of named) assert.equal(shown, `"${n}"`, `${n}: its name written out`);
    for (const b of await panel.getByRole('button').all()) {
      const bb = await b.boundingBox();
      assert.ok(bb && bb.x >= 0 && bb.x + bb.width <= 390 && bb.y >= 0, 'inside the screen');
    }
    await panel.getByRole('button', { name: 'Plugins' }).click();
    await p.getByRole('dialog', { name: 'Plugins' }).waitFor();
    assert.equal(await panel.isVisible(), false, 'a control used closes the panel');
    await p.keyboard.press('Escape');
    // Escape closes the panel too, and gives the focus back to More.
    await p.getByRole('button', { name: 'More' }).click();
    await panel.waitFor();
    await p.keyboard.press('Escape');
    await panel.waitFor({ state: 'hidden' });
    assert.equal(await p.evaluate(() => document.activeElement?.id), 'btn-more');
    // Wide again: every control back in the bar, in one row.
    await p.setViewportSize({ width: 1280, height: 800 });
    await waitFor(async () => !(await row()).names.includes('More'), { what: 'the bar wide again' });
    r = await row();
    assert.equal(r.names.length, 11);
    assert.equal(r.rows, 1);
    await p.getByRole('button', { name: 'Chat' }).click();
    await p.getByRole('textbox', { name: 'Message' }).waitFor();
    r = await row();
    assert.equal(r.rows, 1, 'with chat open');
    assert.ok(!r.names.includes('More'), 'a 1280×800 window with chat open holds the whole bar');
    assert.deepEqual(a.log.errors, []);
  });
});

describe('the card dialog fits', () => {
  const suite = daemonForSuite();

  for (const viewport of [{ width: 1280, height: 800 }, { width: 390, height: 844 }]) {
    test(`at ${viewport.width}×${viewport.height}: Save and Cancel in sight without scrolling, and still after scrolling the dialog`, async () => {
      const p = await openPage(browser, suite.daemon, '/', { viewport });
      suite.pages.push(p);
      await p.page.getByRole('button', { name: 'Edit your card' }).click();
      const dlg = p.page.getByRole('dialog', { name: 'Your card' });
      await dlg.waitFor();
      const inSight = async (what) => {
        for (const name of ['Save', 'Cancel']) {
          const bb = await dlg.getByRole('button', { name, exact: true }).boundingBox();
          assert.ok(bb && bb.y >= 0 && bb.y + bb.height <= viewport.height && bb.x >= 0 && bb.x + bb.width <= viewport.width,
            `${name} ${what}: ${JSON.stringify(bb)}`);
        }
      };
      await inSight('as it opens');
      await dlg.evaluate((d) => { d.scrollTop = d.scrollHeight; });
      await inSight('scrolled to the end');
      await dlg.getByRole('textbox', { name: /^Display name/ }).fill('Ada');
      await dlg.getByRole('button', { name: 'Save', exact: true }).click();
      await dlg.waitFor({ state: 'hidden' });
    });
  }
});

describe('a call of two on a phone', () => {
  const suite = daemonForSuite();

  test('the other person takes the screen; your own view is a small picture in the corner; with a third, tiles are equal again', async () => {
    const viewport = { width: 390, height: 844 };
    const link = roomLink();
    const a = await suite.join(browser, link, { name: 'Ada', viewport });
    const b = await suite.join(browser, link, { name: 'Ben', viewport });
    const tB = await tab(b.page);
    const sizes = () => a.page.evaluate((t) => {
      const r = (el) => el.getBoundingClientRect();
      const grid = r(document.getElementById('grid'));
      const self = r(document.querySelector('.tile[data-self]'));
      const other = [...document.querySelectorAll('.tile:not([data-self])')].map(r);
      const ben = r(document.querySelector(`.tile[data-tab="${t}"]`));
      return { grid: { right: grid.right, bottom: grid.bottom }, self: { w: self.width, right: self.right, bottom: self.bottom }, ben: ben.width, others: other.map((o) => o.width) };
    }, tB);
    await waitFor(async () => (await a.page.locator('.tile').count()) === 2, { what: 'two tiles' });
    const two = await sizes();
    assert.ok(two.self.w < two.ben * 0.45, `a small self view (${JSON.stringify(two)})`);
    assert.ok(two.ben > viewport.width * 0.9, 'Ben takes the width');
    assert.ok(two.self.right <= two.grid.right && two.grid.right - two.self.right < 24 && two.grid.bottom - two.self.bottom < 24, 'in the bottom corner');
    const c = await suite.join(browser, link, { name: 'Cy', viewport });
    await waitFor(async () => (await a.page.locator('.tile').count()) === 3, { what: 'three tiles' });
    const three = await sizes();
    assert.ok(three.others.every((w) => Math.abs(w - three.self.w) < 2), `equal tiles with three (${JSON.stringify(three)})`);
    assert.ok(c);
  });
});
