// Chat over the sealed data channels (web/js/features/chat.js, views/chat-view.js), with
// the real daemon and Chromium: three people, names and delivery state,
// a late joiner who sees only what comes after it, the 16 KiB limit, links
// without previews, and every WebSocket frame captured to show that no
// chat text ever went through the daemon.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { captureFrames, channelsOpen, daemonForSuite, foreignRequests, launch, openChat, roomLink, waitFor } from './util.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

/** Chat counters of a page (never the text). */
const chatOf = (page) => page.evaluate(() => window.xroomTest.chat());

/** Types into the Message box and presses Enter. */
async function say(page, text) {
  const box = page.getByRole('textbox', { name: 'Message' });
  await box.fill(text);
  await box.press('Enter');
}


const logText = (page) => page.locator('#chat-log').innerText();

describe('chat among three, then a late joiner', () => {
  const suite = daemonForSuite();
  const { pages } = suite;

  test('messages, names, delivery, late joiner, limit, links; nothing through the daemon', async () => {
    const link = roomLink();
    const frames = [];
    const join = (name, opts = {}) => suite.join(browser, link, { name, ...opts, before: (c, page) => { frames.push(captureFrames(page)); } });
    const word = () => `quokka${randomBytes(6).toString('hex')}`;
    const secrets = [];
    const a = await join('Ada Lovelace');
    const b = await join('Brian Kernighan');
    const c = await join('Cleo Tasker');
    await Promise.all([a, b, c].map((p) => channelsOpen(p, 2)));

    // A says something; B and C, panels closed, see an unread badge.
    const first = `hello ${word()}`;
    secrets.push(first);
    await openChat(a.page);
    await say(a.page, first);
    await a.page.getByRole('textbox', { name: 'Message' }).evaluate((el) => { if (el.value !== '') throw new Error('box not cleared'); });
    for (const p of [b, c]) {
      await waitFor(async () => (await p.page.locator('#chat-badge').innerText()) === '1', { what: `${p.name}: unread badge` });
      assert.ok(await p.page.getByRole('button', { name: 'Chat, 1 unread' }).isVisible());
      // Keyboard shortcut C opens the panel; the badge goes.
      await p.page.locator('body').press('c');
      await p.page.locator('#chat').waitFor({ state: 'visible' });
      assert.ok(await p.page.locator('#chat-badge').isHidden());
      const msg = p.page.locator('.chat-msg', { hasText: first });
      await msg.waitFor();
      assert.match(await msg.locator('.chat-from').innerText(), /Ada Lovelace/);
      assert.match(await msg.locator('time').innerText(), /\d/);
    }
    // Both acknowledged: sent to all.
    await waitFor(async () => (await a.page.locator('.chat-msg.mine .chat-state').last().innerText()) === 'Sent to all',
      { what: 'A: sent to all' });

    // Shift+Enter makes a new line; Enter sends.
    const box = b.page.getByRole('textbox', { name: 'Message' });
    const l1 = word();
    const l2 = word();
    secrets.push(l1, l2);
    await box.fill(l1);
    await box.press('Shift+Enter');
    await box.pressSequentially(l2);
    await box.press('Enter');
    await waitFor(async () => (await logText(c.page)).includes(`${l1}\n${l2}`), { what: 'C: two-line message' });

    // A link: clickable, http(s) only, no opener, no referrer, no preview.
    const host = `${word()}.example.invalid`;
    secrets.push(host);
    await say(b.page, `look https://${host}/path?q=1. and javascript:alert(1)`);
    const anchor = c.page.locator('#chat-log a', { hasText: host });
    await anchor.waitFor();
    assert.equal(await anchor.getAttribute('href'), `https://${host}/path?q=1`);
    assert.equal(await anchor.getAttribute('rel'), 'noopener noreferrer');
    assert.equal(await anchor.getAttribute('target'), '_blank');
    assert.equal(await c.page.locator('#chat-log a').count(), 1, 'javascript: is not a link');
    assert.equal(await c.page.locator('#chat-log img, #chat-log iframe, #chat-log video').count(), 0, 'no preview');
    for (const p of [a, b, c]) {
      assert.deepEqual(foreignRequests(p.log, suite.daemon.origin), [], `${p.name}: no third-party request`);
    }

    // Too long: refused with a message, nothing sent.
    const sentBefore = (await chatOf(a.page)).link.sent;
    const msgsBefore = (await chatOf(b.page)).messages;
    const long = `${word()}${'x'.repeat(16 * 1024)}`;
    await say(a.page, long);
    const err = a.page.locator('#chat-error');
    await err.waitFor({ state: 'visible' });
    assert.match(await err.innerText(), /too long.*16 KiB.*not sent/i);
    assert.equal(await a.page.getByRole('textbox', { name: 'Message' }).inputValue(), long, 'the text stays for editing');
    await new Promise((r) => setTimeout(r, 500));
    assert.equal((await chatOf(a.page)).link.sent, sentBefore, 'nothing sent');
    assert.equal((await chatOf(b.page)).messages, msgsBefore, 'nothing received');
    await a.page.getByRole('textbox', { name: 'Message' }).fill('');

    // A late joiner on a phone: sees the note, not the earlier messages,
    // and what is sent after it joined.
    const d = await join('Dora Late', { viewport: { width: 390, height: 800 } });
    await Promise.all([channelsOpen(d, 3), ...[a, b, c].map((p) => channelsOpen(p, 3))]);
    await openChat(d.page);
    const panel = await d.page.locator('#chat').boundingBox();
    assert.ok(panel && panel.width >= 389 && panel.x <= 1, `phone: the panel is an overlay (${JSON.stringify(panel)})`);
    assert.match(await d.page.locator('.chat-note').innerText(), /join later see only what is sent after/);
    const later = `later ${word()}`;
    secrets.push(later);
    await say(c.page, later);
    await d.page.locator('.chat-msg', { hasText: later }).waitFor();
    const seen = await logText(d.page);
    for (const s of [first, l1, host]) assert.ok(!seen.includes(s), 'the late joiner sees no earlier message');
    assert.match(await d.page.locator('.chat-msg', { hasText: later }).locator('.chat-from').innerText(), /Cleo Tasker/);
    await waitFor(async () => (await c.page.locator('.chat-msg.mine .chat-state').last().innerText()) === 'Sent to all',
      { what: 'C: sent to all three' });

    // The phone's call controls fit on screen.
    const vw = 390;
    for (const btn of await d.page.locator('.controls > button:visible').all()) {
      const bb = await btn.boundingBox();
      assert.ok(bb && bb.x >= 0 && bb.x + bb.width <= vw, 'control inside the viewport');
    }

    // Nothing of chat went through the daemon: not in any frame.
    const all = frames.flat();
    assert.ok(all.length > 20, `frames captured (${all.length})`);
    for (const s of [...secrets, 'quokka', 'chat-ack']) {
      assert.ok(!all.some((f) => f.text.includes(s)), `"${s.slice(0, 30)}" never in a WebSocket frame`);
    }
    for (const p of pages) {
      assert.deepEqual(p.log.errors, [], `${p.name}: no page errors`);
      assert.deepEqual(p.log.csp, [], `${p.name}: CSP clean`);
    }
  });
});
