// What people in a call see when the operator acts through the room admin
// API: a locked room refuses newcomers with its own screen while the call
// goes on; a kicked person and everyone in a closed room get a clear screen
// (never a frozen call), and the others are not disturbed by a kick. And
// the same done from the dashboard (/admin), as an operator would: each
// removal and closing asks first, and Cancel changes nothing.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { artifactPath, joinPage, launch, openPage, roomLink, stats, startDaemon, waitMediaFlowing, PATIENCE } from './util.mjs';

const TOKEN = 'screens-admin-token';

async function admin(d, method, path, body) {
  const r = await fetch(`${d.origin}${path}`, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  return { status: r.status, json: text ? JSON.parse(text) : null };
}

async function messageOf(page) {
  await page.locator('#screen-message').waitFor({ state: 'visible', timeout: PATIENCE });
  return page.locator('#message-h').textContent();
}

const roomIdOf = (link) => link.split('/')[2].split(/[?#]/)[0];

describe('operator actions as the people in a call see them', () => {
  let browser;
  let d;
  before(async () => {
    browser = await launch();
    d = await startDaemon({ admin: { token_sha256: createHash('sha256').update(TOKEN).digest('hex') } });
  });
  after(async () => {
    await browser?.close();
    await d?.stop();
  });

  test('locked: the newcomer sees "This room is locked"; the call goes on', async () => {
    const link = roomLink();
    const a = await joinPage(browser, d, link, { name: 'Ada' });
    const b = await joinPage(browser, d, link, { name: 'Bob' });
    await waitMediaFlowing([a, b]);
    assert.equal((await admin(d, 'PUT', `/api/rooms/${roomIdOf(link)}`, { locked: true, title: 'Standup' })).status, 200);
    const c = await openPage(browser, d, link, { name: 'Cy' });
    await c.page.getByRole('button', { name: 'Join', exact: true }).click();
    assert.equal(await messageOf(c.page), 'This room is locked');
    await c.page.screenshot({ path: artifactPath('room-locked.png') });
    await waitMediaFlowing([a, b]);
    for (const p of [a, b, c]) await p.context.close();
  });

  test('kicked: that person sees the removal screen; the others carry on', async () => {
    const link = roomLink();
    const a = await joinPage(browser, d, link, { name: 'Ada' });
    const b = await joinPage(browser, d, link, { name: 'Bob' });
    const c = await joinPage(browser, d, link, { name: 'Cy' });
    await waitMediaFlowing([a, b, c]);
    const cid = (await stats(c.page)).peerId;
    assert.match(String(cid), /^[A-Za-z0-9_-]{16}$/, 'the test hook names the page\'s peer id');
    const r = await admin(d, 'POST', `/api/rooms/${roomIdOf(link)}/kick`, { peer: cid });
    assert.equal(r.status, 200);
    assert.equal(await messageOf(c.page), 'You were removed from the room');
    assert.equal((await stats(c.page)).local.cam, false, 'the camera is released');
    await waitMediaFlowing([a, b]);
    for (const p of [a, b, c]) await p.context.close();
  });

  test('closed: everyone sees "The room was closed"', async () => {
    const link = roomLink();
    const a = await joinPage(browser, d, link, { name: 'Ada' });
    const b = await joinPage(browser, d, link, { name: 'Bob' });
    await waitMediaFlowing([a, b]);
    assert.equal((await admin(d, 'DELETE', `/api/rooms/${roomIdOf(link)}`)).status, 200);
    for (const p of [a, b]) assert.equal(await messageOf(p.page), 'The room was closed');
    for (const p of [a, b]) await p.context.close();
  });

  test('from the dashboard: the room listed, a bad cap refused, titled and locked, the second to join removed, the room closed', async () => {
    const link = roomLink();
    const id = roomIdOf(link);
    const a = await joinPage(browser, d, link, { name: 'Ada' });
    const b = await joinPage(browser, d, link, { name: 'Bob' });
    await waitMediaFlowing([a, b]);
    const op = await openPage(browser, d, '/admin');
    const p = op.page;
    await p.fill('#token', TOKEN);
    await p.click('button[type=submit]');
    const row = p.locator(`tr[data-room="${id}"]`);
    await row.waitFor();
    assert.equal(await row.locator('td').nth(1).textContent(), '2', 'two people in it');
    await p.getByRole('button', { name: `Manage room ${id}` }).click();
    const dialog = p.getByRole('dialog', { name: `Room ${id}` });
    await dialog.waitFor();
    assert.match(await dialog.locator('#room-summary').textContent(), /^2 people in it/);
    // A cap out of range: the server's reason, nothing stored.
    await dialog.getByLabel(/At most this many people/).fill('0');
    await dialog.getByRole('button', { name: 'Save' }).click();
    await dialog.getByText(/Not saved: max_peers/).waitFor();
    assert.equal((await admin(d, 'GET', `/api/rooms/${id}`)).json.configured, false);
    // Titled and locked.
    await dialog.getByLabel(/At most this many people/).fill('');
    await dialog.getByLabel(/^Title/).fill('Design review');
    await dialog.getByRole('checkbox', { name: /Locked: nobody new can join/ }).check();
    await dialog.getByRole('button', { name: 'Save' }).click();
    await p.getByText(`Room ${id} saved: locked.`).waitFor();
    assert.deepEqual((await admin(d, 'GET', `/api/rooms/${id}`)).json.config,
      { max_peers: null, locked: true, expires_at: null, title: 'Design review' });
    await row.getByText('configured').waitFor();
    // Remove the second to join: Cancel first keeps him.
    await p.getByRole('button', { name: `Manage room ${id}` }).click();
    await dialog.getByRole('button', { name: 'Remove person 2' }).click();
    const confirm = p.getByRole('dialog', { name: 'Remove person 2?' });
    await confirm.getByRole('button', { name: 'Cancel' }).click();
    await confirm.waitFor({ state: 'hidden' });
    assert.equal((await admin(d, 'GET', `/api/rooms/${id}`)).json.peers, 2, 'Cancel removes nobody');
    await dialog.getByRole('button', { name: 'Remove person 2' }).click();
    await confirm.getByRole('button', { name: 'Remove' }).click();
    assert.equal(await messageOf(b.page), 'You were removed from the room');
    await dialog.getByRole('button', { name: 'Remove person 2' }).waitFor({ state: 'detached' });
    assert.equal(await dialog.getByRole('button', { name: /^Remove person/ }).count(), 1, 'one left in the list');
    // Close it: Ada sees why.
    await dialog.getByRole('button', { name: 'Close room…' }).click();
    await p.getByRole('dialog', { name: `Close room ${id}?` }).getByRole('button', { name: 'Close room' }).click();
    assert.equal(await messageOf(a.page), 'The room was closed');
    await p.getByText(`Room ${id} was closed (1 disconnected).`).waitFor();
    assert.equal((await admin(d, 'GET', `/api/rooms/${id}`)).status, 404, 'closed and forgotten');
    assert.deepEqual(op.log.errors, []);
    for (const x of [a, b, op]) await x.context.close();
  });
});
