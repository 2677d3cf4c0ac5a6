// User cards (web/js/features/cards/, views/card-*.js) with the real daemon and
// Chromium: the editor on the start page (picture resized in the page,
// export, delete, import, a non-extractable Ed25519 key in IndexedDB);
// three people sharing under "everyone", "ask" and "never"; revocation;
// a card altered after signing, rejected with a note; a saved contact
// recognised after a reload, and another key under its name flagged; and
// every WebSocket frame captured to show that no card field went through
// the daemon.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { deflateSync, crc32 } from 'node:zlib';
import { artifactPath, captureFrames, foreignRequests, joinPage, launch, roomLink, startDaemon, waitFor, PATIENCE } from './util.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

/** A 300 x 200 RGB PNG (a gradient), made here. */
function png(w = 300, h = 200) {
  const chunk = (type, data) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(td) >>> 0);
    return Buffer.concat([len, td, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8; ihdr[9] = 2; // 8-bit RGB
  const rows = [];
  for (let y = 0; y < h; y++) {
    const row = Buffer.alloc(1 + w * 3);
    for (let x = 0; x < w; x++) row.set([x % 256, y % 256, (x * y) % 256], 1 + x * 3);
    rows.push(row);
  }
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(Buffer.concat(rows))), chunk('IEND', Buffer.alloc(0))]);
}

const cardsOf = (page) => page.evaluate(() => window.xroomTest.cards());
const tabOf = (page) => page.evaluate(() => window.xroomTest.tab);
const tile = (page, t) => page.locator(`.tile[data-tab="${t}"]`);
const chip = (page, t) => tile(page, t).locator('.card-chip');
/** What `page` holds of the card of `t`: none, card, rejected, revoked. */
const received = async (page, t) => (await cardsOf(page))?.peers[t]?.received ?? 'none';
const FP_RE = /^[0-9A-F]{4}( [0-9A-F]{4}){3}$/;

/** Opens the card popover on a tile (if closed). */
async function openPop(page, t) {
  const c = chip(page, t);
  if ((await c.getAttribute('aria-expanded')) !== 'true') await c.click();
  const pop = tile(page, t).getByRole('dialog');
  await pop.waitFor({ state: 'visible' });
  return pop;
}

/** Presets of what a browser remembers, written before the page loads. */
function presets(profile, sharing) {
  return ({ profile: p, sharing: s }) => {
    if (self.origin === 'null') return; // a sandboxed frame (the WebRTC probe, a plugin): no storage
    if (!localStorage.getItem('xroom.profile')) localStorage.setItem('xroom.profile', JSON.stringify(p));
    if (s && !localStorage.getItem('xroom.sharing')) localStorage.setItem('xroom.sharing', JSON.stringify(s));
    // Camera off: lighter on a shared machine, and the tiles show pictures.
    localStorage.setItem('xroom.devices', JSON.stringify({ micId: '', camId: '', micOn: true, camOn: false }));
  };
}

describe('user cards', () => {
  let daemon;
  const contexts = [];
  const frames = [];
  const pages = [];
  before(async () => {
    daemon = await startDaemon({});
  });
  after(async () => {
    for (const c of contexts) await c.close().catch(() => {});
    await daemon?.stop();
  });

  const word = (p) => `${p}${randomBytes(5).toString('hex')}`;
  const secret = {
    aStatus: word('walrusstatus'), aPronouns: word('zepronoun'), aHost: `${word('site')}.example.invalid`,
    aMail: `mailto:${word('ada')}@example.invalid`, bStatus: word('bstatus'), bPronouns: 'he/him', cStatus: word('cstatus'),
  };
  const link = roomLink();
  let a; let b; let c;
  let aTab; let bTab; let cTab;
  let aFp = '';
  let avatar = '';

  /** Joins with a preset card; frames captured. */
  const join = async (label, profile, sharing) => {
    const p = await joinPage(browser, daemon, link, {
      before: async (ctx, page) => {
        contexts.push(ctx);
        frames.push(captureFrames(page));
        await ctx.addInitScript(presets(profile, sharing), { profile, sharing });
      },
    });
    p.name = label;
    pages.push(p);
    return p;
  };

  test('the editor on the start page: picture resized here, export, delete, import; the key is non-extractable', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 720 }, acceptDownloads: true });
    contexts.push(context);
    const page = await context.newPage();
    const log = { errors: [], csp: [], requests: [] };
    page.on('pageerror', (e) => log.errors.push(String(e)));
    page.on('console', (m) => { if (/Content.Security.Policy|Refused to/i.test(m.text())) log.csp.push(m.text()); });
    page.on('request', (r) => log.requests.push(r.url()));
    frames.push(captureFrames(page));
    await context.addInitScript(() => {
      if (self.origin === 'null') return;
      localStorage.setItem('xroom.devices', JSON.stringify({ micId: '', camId: '', micOn: true, camOn: false }));
    });
    await page.goto(`${daemon.origin}/`);
    await page.getByRole('button', { name: 'Edit your card' }).click();
    const dlg = page.getByRole('dialog', { name: 'Your card' });
    await dlg.waitFor({ state: 'visible' });
    await dlg.getByRole('textbox', { name: /^Display name/ }).fill('Ada Lovelace');
    await dlg.getByRole('textbox', { name: 'Pronouns' }).fill(secret.aPronouns);
    await dlg.getByRole('textbox', { name: /^Status/ }).fill(secret.aStatus);
    await dlg.getByRole('textbox', { name: 'Link or contact line 1' }).fill(`https://${secret.aHost}/me`);
    await dlg.getByRole('textbox', { name: 'Link or contact line 2' }).fill(secret.aMail);
    await dlg.getByRole('textbox', { name: 'Link or contact line 3' }).fill('javascript:alert(1)');
    await dlg.locator('input[type=file][accept^="image"]').setInputFiles({ name: 'me.png', mimeType: 'image/png', buffer: png() });
    await dlg.getByText(/Picture ready/).waitFor();
    await dlg.getByText(/Your key's fingerprint: /).waitFor();
    aFp = (await dlg.locator('.card-fp').first().innerText()).replace(/^.*: /, '');
    assert.match(aFp, FP_RE);
    await page.screenshot({ path: artifactPath('cards-editor.png'), fullPage: true });
    await dlg.getByRole('button', { name: 'Save' }).click();
    await dlg.waitFor({ state: 'hidden' });

    const stored = await page.evaluate(() => JSON.parse(localStorage.getItem('xroom.profile')));
    assert.equal(stored.name, 'Ada Lovelace');
    assert.equal(stored.status, secret.aStatus);
    assert.deepEqual(stored.links, [`https://${secret.aHost}/me`, secret.aMail, 'javascript:alert(1)']);
    avatar = stored.avatar;
    assert.match(avatar, /^data:image\/webp;base64,/);
    assert.ok(avatar.length <= 64 * 1024, `avatar ${avatar.length} bytes`);
    const dims = await page.evaluate(async (src) => {
      const img = new Image();
      img.src = src;
      await img.decode();
      return [img.naturalWidth, img.naturalHeight];
    }, avatar);
    assert.deepEqual(dims, [128, 128], 'a 300 x 200 picture became a 128 px square');

    // The key pair: Ed25519, in IndexedDB, the private half non-extractable.
    const key = await page.evaluate(() => new Promise((res, rej) => {
      const r = indexedDB.open('xroom');
      r.onerror = () => rej(r.error);
      r.onsuccess = () => {
        const g = r.result.transaction('keys').objectStore('keys').get('card');
        g.onsuccess = () => res({ alg: g.result.privateKey.algorithm.name, priv: g.result.privateKey.extractable, usages: g.result.privateKey.usages });
        g.onerror = () => rej(g.error);
      };
    }));
    assert.deepEqual(key, { alg: 'Ed25519', priv: false, usages: ['sign'] });

    // Export, delete, import.
    await page.getByRole('button', { name: 'Edit your card' }).click();
    await dlg.waitFor({ state: 'visible' });
    const [download] = await Promise.all([page.waitForEvent('download'), dlg.getByRole('button', { name: 'Export as a file' }).click()]);
    const exported = readFileSync(await download.path(), 'utf8');
    const file = JSON.parse(exported);
    assert.equal(file.format, 'xroom-card');
    assert.equal(file.card.status, secret.aStatus);
    assert.equal(file.card.avatar, avatar);
    assert.equal(file.fingerprint, aFp);
    assert.doesNotMatch(exported, /"d"|privateKey|"jwk"/, 'no private key in the file');

    await dlg.getByRole('button', { name: 'Delete my card…' }).click();
    await dlg.getByRole('group', { name: 'Delete my card?' }).getByRole('button', { name: 'Delete my card' }).click();
    await dlg.getByText(/are deleted from this browser/).waitFor();
    assert.equal(await dlg.getByRole('textbox', { name: /^Status/ }).inputValue(), '');
    assert.equal(await page.evaluate(() => localStorage.getItem('xroom.profile')), null);
    const keyGone = await page.evaluate(() => new Promise((res) => {
      const r = indexedDB.open('xroom');
      r.onsuccess = () => {
        const g = r.result.transaction('keys').objectStore('keys').get('card');
        g.onsuccess = () => res(g.result === undefined);
      };
    }));
    assert.ok(keyGone, 'the key pair is deleted');

    await dlg.locator('input[type=file][accept^="application/json"]').setInputFiles({ name: 'xroom-card.json', mimeType: 'application/json', buffer: Buffer.from(exported) });
    await dlg.getByText(/Imported/).waitFor();
    assert.equal(await dlg.getByRole('textbox', { name: /^Status/ }).inputValue(), secret.aStatus);
    await dlg.getByRole('button', { name: 'Save' }).click();
    await dlg.waitFor({ state: 'hidden' });
    const back = await page.evaluate(() => JSON.parse(localStorage.getItem('xroom.profile')));
    assert.equal(back.avatar, avatar);
    assert.equal(back.pronouns, secret.aPronouns);
    // A new key was made (the old one is gone for good): its fingerprint differs.
    await page.getByRole('button', { name: 'Edit your card' }).click();
    await dlg.getByText(/Your key's fingerprint: /).waitFor();
    const fp2 = (await dlg.locator('.card-fp').first().innerText()).replace(/^.*: /, '');
    assert.match(fp2, FP_RE);
    assert.notEqual(fp2, aFp);
    aFp = fp2;
    await dlg.getByRole('button', { name: 'Cancel' }).click();
    assert.deepEqual(log.errors, []);
    assert.deepEqual(log.csp, []);
    assert.deepEqual(foreignRequests(log, daemon.origin), []);

    // This browser is A in the call: same context, the room page.
    await page.goto(`${daemon.origin}${link}`);
    await page.getByRole('button', { name: 'Join', exact: true }).click({ timeout: PATIENCE });
    await page.locator('#screen-call').waitFor({ state: 'visible', timeout: PATIENCE });
    a = { page, context, log, name: 'A' };
    pages.push(a);
    aTab = await tabOf(page);
  });

  test('A shares with everyone, B asks, C never: B approves A only; nobody sees C\'s card', async () => {
    assert.ok(a, 'A joined');
    b = await join('B', { name: 'Brian Kernighan', pronouns: secret.bPronouns, status: secret.bStatus, links: [] }, { mode: 'ask' });
    c = await join('C', { name: 'Cleo Tasker', status: secret.cStatus, links: [] }, { mode: 'never' });
    bTab = await tabOf(b.page);
    cTab = await tabOf(c.page);

    // A's card reaches B and C, verified; shown on A's tile with its picture.
    for (const p of [b, c]) {
      await waitFor(async () => (await received(p.page, aTab)) === 'card', { timeout: PATIENCE, what: `${p.name} holds A's card` });
      assert.equal((await cardsOf(p.page)).peers[aTab].fp, aFp, 'the fingerprint is A\'s');
      await waitFor(async () => (await chip(p.page, aTab).innerText()) === 'Card', { what: `${p.name}: chip` });
      assert.match(await tile(p.page, aTab).locator('.tile-card-avatar').getAttribute('src'), /^data:image\/webp;base64,/);
    }
    const pop = await openPop(b.page, aTab);
    const text = await pop.innerText();
    for (const s of ['Ada Lovelace', secret.aPronouns, secret.aStatus, secret.aMail, 'javascript:alert(1)', aFp]) {
      assert.ok(text.includes(s), `B sees "${s}" on A's card`);
    }
    const links = pop.locator('.card-links a');
    assert.equal(await links.count(), 1, 'only the https line is a link');
    assert.equal(await links.getAttribute('href'), `https://${secret.aHost}/me`);
    assert.equal(await links.getAttribute('rel'), 'noopener noreferrer');
    await pop.press('Escape');
    await pop.waitFor({ state: 'hidden' });

    // B is asked, on the tiles of A and C (non-modal); C and A are asked nothing.
    const askA = tile(b.page, aTab).getByRole('group', { name: /Share your card with Ada Lovelace\?/ });
    const askC = tile(b.page, cTab).getByRole('group', { name: /Share your card with Cleo Tasker\?/ });
    await askA.waitFor({ timeout: PATIENCE });
    await askC.waitFor({ timeout: PATIENCE });
    await b.page.screenshot({ path: artifactPath('cards-ask.png') });
    assert.equal(await a.page.locator('.card-ask:visible').count(), 0, 'A (everyone) is not asked');
    assert.equal(await c.page.locator('.card-ask:visible').count(), 0, 'C (never) is not asked');
    // The call goes on meanwhile: the mute button still works for B.
    await b.page.getByRole('button', { name: 'Microphone' }).last().click();
    await b.page.getByRole('button', { name: 'Microphone' }).last().click();
    await askA.getByRole('button', { name: 'Share my card' }).click();
    await askC.getByRole('button', { name: 'Not now' }).click();
    await askA.waitFor({ state: 'hidden' });
    await askC.waitFor({ state: 'hidden' });

    // A gets B's card; C does not; nobody gets C's.
    await waitFor(async () => (await received(a.page, bTab)) === 'card', { what: 'A holds B\'s card' });
    const popA = await openPop(a.page, bTab);
    assert.ok((await popA.innerText()).includes(secret.bStatus));
    const bc = await cardsOf(b.page);
    assert.equal(bc.counters.sent, 1, 'B signed and sent exactly one card (to A)');
    assert.equal(bc.peers[cTab].decision, 'declined');
    const cc = await cardsOf(c.page);
    assert.equal(cc.counters.sent, 0, 'C sent no card');
    assert.equal(cc.peers[bTab]?.received ?? 'none', 'none', 'C has no card from B');
    assert.equal(await received(a.page, cTab), 'none');
    assert.equal(await received(b.page, cTab), 'none');
    assert.equal(await chip(a.page, cTab).innerText(), 'No card');
    assert.equal(await chip(c.page, bTab).innerText(), 'No card');
    assert.ok(!(await c.page.locator('#grid').innerText()).includes(secret.bStatus));
  });

  test('A stops sharing with B: the card disappears from B\'s tile; a field A stops sharing stops reaching C', async () => {
    assert.ok(b, 'B joined');
    const pop = await openPop(a.page, bTab);
    assert.match(await pop.innerText(), /relies on the other side/);
    await pop.getByRole('button', { name: 'Stop sharing your card with Brian Kernighan' }).click();
    await waitFor(async () => (await received(b.page, aTab)) === 'revoked', { what: 'B dropped A\'s card' });
    await waitFor(async () => (await chip(b.page, aTab).innerText()) === 'Card withdrawn', { what: 'B: chip says withdrawn' });
    assert.match(await tile(b.page, aTab).locator('.card-note').innerText(), /stopped sharing their card/);
    const popB = await openPop(b.page, aTab);
    const shown = await tile(b.page, aTab).innerText();
    for (const s of [secret.aStatus, secret.aPronouns, aFp]) assert.ok(!shown.includes(s), `"${s}" gone from B's tile`);
    assert.equal(await tile(b.page, aTab).locator('.tile-card-avatar').count(), 0, 'the picture is gone');
    await popB.press('Escape');
    // C still holds A's card: the revocation was for B only.
    assert.equal(await received(c.page, aTab), 'card');
    assert.match(await pop.innerText(), /You stopped sharing your card with Brian Kernighan/);
    await pop.press('Escape');

    // In the call, A's editor (from the controls): pronouns no longer shared.
    // C gets the card again without them; B, revoked, gets nothing.
    const before = (await cardsOf(c.page)).counters.received;
    await a.page.getByRole('button', { name: 'Your card', exact: true }).click();
    const dlg = a.page.getByRole('dialog', { name: 'Your card' });
    await dlg.waitFor({ state: 'visible' });
    assert.ok(await dlg.getByRole('radio', { name: 'With everyone I call' }).isChecked());
    await dlg.getByRole('checkbox', { name: 'Pronouns' }).uncheck();
    await dlg.getByRole('button', { name: 'Save' }).click();
    await dlg.waitFor({ state: 'hidden' });
    await waitFor(async () => (await cardsOf(c.page)).counters.received > before, { what: 'C gets the updated card' });
    const popC = await openPop(c.page, aTab);
    const onC = await popC.innerText();
    assert.ok(onC.includes(secret.aStatus), 'the status is still shared');
    assert.ok(!onC.includes(secret.aPronouns), 'the pronouns are not');
    await popC.press('Escape');
    assert.equal(await received(b.page, aTab), 'revoked', 'B, revoked, got nothing new');
  });

  test('a card altered after signing is rejected, with a note on the tile', async () => {
    assert.ok(b, 'B joined');
    const rejectedBefore = (await cardsOf(b.page)).counters.rejected;
    await a.page.evaluate((s) => window.xroomTest.tamperNextCard('status', s), 'tampered status');
    const pop = await openPop(a.page, bTab);
    await pop.getByRole('button', { name: 'Share your card with Brian Kernighan' }).click();
    await waitFor(async () => (await received(b.page, aTab)) === 'rejected', { what: 'B rejected the altered card' });
    const bc = await cardsOf(b.page);
    assert.equal(bc.peers[aTab].reason, 'signature');
    assert.equal(bc.counters.rejected, rejectedBefore + 1);
    assert.equal(await chip(b.page, aTab).innerText(), 'Card rejected');
    const note = tile(b.page, aTab).locator('.card-note');
    assert.ok(await note.isVisible());
    assert.match(await note.innerText(), /rejected: its signature does not match/);
    assert.ok(!(await tile(b.page, aTab).innerText()).includes('tampered status'), 'the altered text is never shown');
    // Sent again untouched, it is accepted.
    await pop.getByRole('button', { name: 'Stop sharing your card with Brian Kernighan' }).click();
    await pop.getByRole('button', { name: 'Share your card with Brian Kernighan' }).click();
    await waitFor(async () => (await received(b.page, aTab)) === 'card', { what: 'B accepts the genuine card' });
  });

  test('a saved contact is known after a reload; another key under its name is flagged', async () => {
    assert.ok(b, 'B joined');
    const pop = await openPop(b.page, aTab);
    assert.match(await pop.innerText(), /Not a saved contact/);
    await pop.getByRole('button', { name: 'Save as contact' }).click();
    await waitFor(async () => (await chip(b.page, aTab).innerText()) === 'Known contact', { what: 'B: known contact at once' });
    const saved = await b.page.evaluate(() => JSON.parse(localStorage.getItem('xroom.contacts')));
    assert.equal(saved.length, 1);
    assert.equal(saved[0].fp, aFp);

    // B reloads: a new page, a new tab id, cards only in memory before.
    await b.page.reload();
    await b.page.getByRole('button', { name: 'Join', exact: true }).click({ timeout: PATIENCE });
    await b.page.locator('#screen-call').waitFor({ state: 'visible', timeout: PATIENCE });
    bTab = await tabOf(b.page);
    await waitFor(async () => (await received(b.page, aTab)) === 'card', { timeout: PATIENCE, what: 'B (reloaded) holds A\'s card again' });
    assert.equal((await cardsOf(b.page)).peers[aTab].contact, 'known');
    await waitFor(async () => (await chip(b.page, aTab).innerText()) === 'Known contact', { what: 'B: known contact after reload' });
    const popB = await openPop(b.page, aTab);
    assert.match(await popB.innerText(), /Known contact: you saved this key as “Ada Lovelace”/);
    await b.page.screenshot({ path: artifactPath('cards-known.png') });
    await popB.press('Escape');

    // Someone else, with another browser's key, under the same name.
    const e = await join('E', { name: 'Ada Lovelace', status: 'the other Ada', links: [] }, { mode: 'everyone' });
    const eTab = await tabOf(e.page);
    await waitFor(async () => (await received(b.page, eTab)) === 'card', { timeout: PATIENCE, what: 'B holds E\'s card' });
    const be = (await cardsOf(b.page)).peers[eTab];
    assert.equal(be.contact, 'changed');
    assert.notEqual(be.fp, aFp);
    await waitFor(async () => (await chip(b.page, eTab).innerText()) === 'Key changed!', { what: 'B: key changed on E' });
    assert.match(await tile(b.page, eTab).locator('.card-note').innerText(), /key differs from the one you saved for “Ada Lovelace”/);
    await b.page.screenshot({ path: artifactPath('cards-changed.png') });
    // A is still the known one.
    assert.equal(await chip(b.page, aTab).innerText(), 'Known contact');
  });

  test('no card field ever crossed the daemon; no page error, CSP clean', async () => {
    const all = frames.flat();
    assert.ok(all.length > 20, `frames captured (${all.length})`);
    const needles = [secret.aStatus, secret.aPronouns, secret.aHost, secret.aMail, secret.bStatus, secret.cStatus,
      avatar.slice(40, 100), 'card-revoke', 'tampered', aFp, aFp.replace(/ /g, '')];
    for (const s of needles) {
      assert.ok(s && !all.some((f) => f.text.includes(s)), `"${s.slice(0, 30)}" never in a WebSocket frame`);
    }
    for (const p of pages) {
      assert.deepEqual(p.log.errors, [], `${p.name}: no page errors`);
      assert.deepEqual(p.log.csp, [], `${p.name}: CSP clean`);
      assert.deepEqual(foreignRequests(p.log, daemon.origin), [], `${p.name}: no third-party request`);
    }
  });
});
