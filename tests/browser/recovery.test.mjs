// Recovery, real daemon and real Chromium: the daemon is killed mid-call
// (media keeps flowing peer to peer), restarted on the same port (every
// page rejoins by itself, recognises the connections it still has, and a
// newcomer reaches everyone), and ICE failures are recovered from.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { daemonForSuite, joinPage, launch, roomLink, sleep, startDaemon, stats, tab, waitFor, waitMediaFlowing, PATIENCE } from './util.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

describe('daemon killed and restarted mid-call', () => {
  const suite = daemonForSuite();
  const { pages } = suite;

  test('the call survives, everyone rejoins by itself without duplicates, a newcomer reaches all', async () => {
    const link = roomLink();
    for (const name of ['Ann', 'Ben', 'Cat']) pages.push(await joinPage(browser, suite.daemon, link, { name }));
    const before = await waitMediaFlowing(pages);
    const connections = (s) => s.peers.map((p) => `${p.tab}@${p.gen}`).sort();

    await suite.daemon.kill();
    // Media is peer to peer: it keeps flowing with the daemon gone.
    await waitFor(async () => {
      const all = await Promise.all(pages.map((p) => stats(p.page)));
      return all.every((s) => s.signaling === 'reconnecting');
    }, { what: 'every page notices the daemon is gone' });
    const during = await waitMediaFlowing(pages, { what: 'media without the daemon' });
    for (const p of pages) {
      await p.page.locator('#banner').getByText(/The call goes on/).waitFor();
    }
    await sleep(2000);

    await suite.daemon.start(); // same port
    const t0 = Date.now();
    const rejoined = await waitFor(async () => {
      const all = await Promise.all(pages.map((p) => stats(p.page)));
      return all.every((s) => s.signaling === 'joined' && s.peers.length === 2 && s.peers.every((q) => q.peerId)) && all;
    }, { timeout: PATIENCE, interval: 100, what: 'every page rejoined and rebound its peers' });
    const took = Date.now() - t0;
    // How fast is a figure of the machine (about 1 to 3 s here); the
    // retry schedule's worst case is what bounds it (transport/signaling.js).
    console.log(`# rejoined and rebound ${took} ms after the restart`);
    for (const [i, s] of rejoined.entries()) {
      assert.notEqual(s.peerId, before[i].peerId, 'a rejoin brings a fresh peer id');
      assert.deepEqual(connections(s), connections(before[i]), 'the same connections, no new ones');
      assert.deepEqual(connections(during[i]), connections(before[i]));
      assert.equal(s.tiles, 3, 'no duplicate tiles');
      // Not one connection rebuilt for the outage (a loaded machine may
      // have rebuilt one while the call was first set up).
      for (const q of s.peers) assert.equal(q.rebuilds, before[i].peers.find((o) => o.tab === q.tab).rebuilds);
      // Sealed signals bind the peer ids of the moment: after the rejoin
      // (new ids) every payload still opened, none was refused.
      assert.equal(s.signalsRejected, 0);
      for (const q of s.peers) assert.equal(q.lock, 'secure');
    }
    for (const p of pages) {
      await p.page.locator('#banner').waitFor({ state: 'hidden' });
    }
    const health = await suite.daemon.json('/healthz');
    assert.equal(health.peers, 3);

    // A newcomer after the restart connects to all of them.
    pages.push(await joinPage(browser, suite.daemon, link, { name: 'Dan' }));
    const all = await waitMediaFlowing(pages, { timeout: PATIENCE });
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
    }, { interval: 100, what: 'A rejoined and B rebound it' });
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
    // Every badge the tile shows from here on (the restart may be over
    // before a later read, on a fast or a slow machine alike).
    const firstBadge = await a.page.evaluate((t) => {
      const tile = document.querySelector(`.tile[data-tab="${t}"]`);
      const seen = [tile.getAttribute('data-badge')];
      new MutationObserver(() => seen.push(tile.getAttribute('data-badge')))
        .observe(tile, { attributes: true, attributeFilter: ['data-badge'] });
      window.badgesSeen = seen;
      window.xroomTest.forceIceFailure(t);
      return seen[0];
    }, tabB);
    assert.equal(firstBadge, 'direct');
    const tile = a.page.locator(`.tile[data-tab="${tabB}"]`);
    const p1 = await waitFor(async () => {
      const p = (await stats(a.page)).peers[0];
      if (p.badge === 'direct' && p.descUfrag !== p0.descUfrag && p.signalingState === 'stable') return p;
      throw new Error(`badge ${p.badge}, ufrag ${p0.descUfrag} -> ${p.descUfrag}, ${p.signalingState}, ${p.connectionState}`);
    }, { what: 'an ICE restart with new credentials, and the badge back to direct' });
    assert.equal(p1.iceRestarts, p0.iceRestarts + 1);
    assert.ok((await a.page.evaluate(() => window.badgesSeen)).includes('reconnecting'), 'the tile said it was reconnecting');
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
      { timeout: PATIENCE, what: 'A sees the connection go' });
    const [sa, sb] = await waitMediaFlowing([a, b], { timeout: PATIENCE, what: 'media after the rebuild' });
    assert.ok(sa.peers[0].gen > gen && sa.peers[0].gen === sb.peers[0].gen, 'both sides on a new generation');
    assert.equal(sa.peers.length, 1);
    assert.equal(sb.peers.length, 1);
    assert.equal(sa.tiles, 2);
    assert.equal(sb.tiles, 2);
    await waitFor(async () => (await stats(a.page)).peers[0].badge === 'direct', { what: 'badge direct again' });
  });
});
