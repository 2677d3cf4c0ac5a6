// Recovery, real daemon and real Chromium: the daemon is killed mid-call
// (media keeps flowing peer to peer), restarted on the same port (every
// page rejoins by itself, recognises the connections it still has, and a
// newcomer reaches everyone), and ICE failures are recovered from.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { daemonForSuite, joinPage, launch, roomLink, sleep, startDaemon, stats, tab, waitFor, waitMediaFlowing } from './util.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

describe('daemon killed and restarted mid-call', () => {
  const suite = daemonForSuite();
  const { pages } = suite;

  test('the call survives, everyone rejoins within 15 s without duplicates, a newcomer reaches all', async () => {
    const link = roomLink();
    for (const name of ['Ann', 'Ben', 'Cat']) pages.push(await joinPage(browser, suite.daemon, link, { name }));
    const before = await waitMediaFlowing(pages);
    const connections = (s) => s.peers.map((p) => `${p.tab}@${p.gen}`).sort();

    await suite.daemon.kill();
    // Media is peer to peer: it keeps flowing with the daemon gone.
    await waitFor(async () => {
      const all = await Promise.all(pages.map((p) => stats(p.page)));
      return all.every((s) => s.signaling === 'reconnecting');
    }, { timeout: 5000, what: 'every page notices the daemon is gone' });
    const during = await waitMediaFlowing(pages, { timeout: 10000, what: 'media without the daemon' });
    for (const p of pages) {
      await p.page.locator('#banner').getByText(/The call goes on/).waitFor({ timeout: 2000 });
    }
    await sleep(2000);

    await suite.daemon.start(); // same port
    const t0 = Date.now();
    const rejoined = await waitFor(async () => {
      const all = await Promise.all(pages.map((p) => stats(p.page)));
      return all.every((s) => s.signaling === 'joined' && s.peers.length === 2 && s.peers.every((q) => q.peerId)) && all;
    }, { timeout: 15000, interval: 100, what: 'every page rejoined and rebound its peers' });
    const took = Date.now() - t0;
    console.log(`# rejoined and rebound ${took} ms after the restart`);
    assert.ok(took < 15000);
    for (const [i, s] of rejoined.entries()) {
      assert.notEqual(s.peerId, before[i].peerId, 'a rejoin brings a fresh peer id');
      assert.deepEqual(connections(s), connections(before[i]), 'the same connections, no new ones');
      assert.deepEqual(connections(during[i]), connections(before[i]));
      assert.equal(s.tiles, 3, 'no duplicate tiles');
      for (const q of s.peers) assert.equal(q.rebuilds, 0);
      // Sealed signals bind the peer ids of the moment: after the rejoin
      // (new ids) every payload still opened, none was refused.
      assert.equal(s.signalsRejected, 0);
      for (const q of s.peers) assert.equal(q.lock, 'secure');
    }
    for (const p of pages) {
      await p.page.locator('#banner').waitFor({ state: 'hidden', timeout: 2000 });
    }
    const health = await suite.daemon.json('/healthz');
    assert.equal(health.peers, 3);

    // A newcomer after the restart connects to all of them.
    pages.push(await joinPage(browser, suite.daemon, link, { name: 'Dan' }));
    const all = await waitMediaFlowing(pages, { timeout: 30000 });
    for (const s of all) {
      assert.equal(s.peers.length, 3);
      assert.equal(s.tiles, 4);
    }
    for (const p of pages) assert.deepEqual(p.log.errors, []);
    for (const s of all) assert.equal(s.signalsRejected, 0);
  });
});

describe('one tab loses its signaling socket', () => {
  const suite = daemonForSuite();
  const { pages } = suite;

  test('the others keep its tile and connection through peer-left, and rebind it on its rejoin', async () => {
    const link = roomLink();
    for (const name of ['Ann', 'Ben']) pages.push(await joinPage(browser, suite.daemon, link, { name }));
    const [a, b] = pages;
    const before = await waitMediaFlowing(pages);
    const oldId = before[0].peerId;
    await b.page.evaluate(() => {
      window.removedTiles = 0;
      new MutationObserver((records) => {
        for (const r of records) for (const n of r.removedNodes) if (n.classList?.contains('tile')) window.removedTiles += 1;
      }).observe(document.getElementById('grid'), { childList: true });
    });
    await a.page.evaluate(() => window.xroomTest.dropSignaling());
    // B is told A left (peer-left), but the media connection is up: A stays.
    const rebound = await waitFor(async () => {
      const [sa, sb] = [await stats(a.page), await stats(b.page)];
      if (sa.signaling !== 'joined' || sa.peerId === oldId) return false;
      return sb.peers.length === 1 && sb.peers[0].peerId === sa.peerId && sa.peers[0].peerId && [sa, sb];
    }, { timeout: 10000, interval: 100, what: 'A rejoined and B rebound it' });
    for (const s of rebound) {
      assert.equal(s.tiles, 2);
      assert.equal(s.peers[0].gen, before[0].peers[0].gen, 'the same connection');
      assert.equal(s.peers[0].rebuilds, 0);
    }
    assert.equal(await b.page.evaluate(() => window.removedTiles), 0, 'the tile never went away');
    await waitMediaFlowing(pages);
  });
});

describe('ICE failures', () => {
  let daemon;
  let a;
  let b;
  let tabA;
  let tabB;
  before(async () => {
    daemon = await startDaemon({});
    const link = roomLink();
    a = await joinPage(browser, daemon, link, { name: 'Ann' });
    b = await joinPage(browser, daemon, link, { name: 'Ben' });
    tabA = await tab(a.page);
    tabB = await tab(b.page);
    await waitMediaFlowing([a, b]);
  });
  after(async () => {
    await a?.context.close();
    await b?.context.close();
    await daemon?.stop();
  });

  test('a failed connection is restarted with restartIce and recovers', async () => {
    const p0 = (await stats(a.page)).peers[0];
    await a.page.evaluate((t) => window.xroomTest.forceIceFailure(t), tabB);
    const tile = a.page.locator(`.tile[data-tab="${tabB}"]`);
    assert.equal(await tile.getAttribute('data-badge'), 'reconnecting');
    const p1 = await waitFor(async () => {
      const p = (await stats(a.page)).peers[0];
      if (p.badge === 'direct' && p.descUfrag !== p0.descUfrag && p.signalingState === 'stable') return p;
      throw new Error(`badge ${p.badge}, ufrag ${p0.descUfrag} -> ${p.descUfrag}, ${p.signalingState}, ${p.connectionState}`);
    }, { what: 'an ICE restart with new credentials, and the badge back to direct' });
    assert.equal(p1.iceRestarts, p0.iceRestarts + 1);
    assert.equal(p1.gen, p0.gen, 'the same connection, restarted, not rebuilt');
    assert.equal(p1.rebuilds, 0);
    await waitMediaFlowing([a, b]);
    assert.equal(await tile.getAttribute('data-badge'), 'direct');
  });

  test('a connection that died on one side is detected by the other and rebuilt', async () => {
    const gen = (await stats(a.page)).peers[0].gen;
    // B's connection to A dies without a word: A must notice by itself.
    await b.page.evaluate((t) => window.xroomTest.killConnection(t), tabA);
    await waitFor(async () => (await stats(a.page)).peers[0].badge === 'reconnecting',
      { timeout: 15000, what: 'A sees the connection go' });
    const [sa, sb] = await waitMediaFlowing([a, b], { timeout: 30000, what: 'media after the rebuild' });
    assert.ok(sa.peers[0].gen > gen && sa.peers[0].gen === sb.peers[0].gen, 'both sides on a new generation');
    assert.equal(sa.peers.length, 1);
    assert.equal(sb.peers.length, 1);
    assert.equal(sa.tiles, 2);
    assert.equal(sb.tiles, 2);
    await waitFor(async () => (await stats(a.page)).peers[0].badge === 'direct', { what: 'badge direct again' });
  });
});
