// A malicious member, real daemon and real Chromium. Mallory holds the
// link (the secret, so she derives every room key and seals and opens
// signals like any client) and runs her own tab key pair. She joins
// without greeting (the people in the call are told someone joined and
// has not connected), greets to learn the others' tab ids and keys (no
// tile appears), then tries to act as Ann towards Ben: a goodbye, a new
// connection with her own offer, a name, a media key and an
// acknowledgement under Ann's tab id, with her own key and with Ann's
// public key copied from a payload she opened, through her own peer id;
// and a huge counter under her own tab. Every forgery is refused and
// counted, and nothing changes in Ben's view: tiles, names, the
// connection, the lock, the keys; Ann's own signals still reach him.
// Then a former member: Ben leaves a call of three; with the link and
// every signal relayed after his departure, the pair keys he holds open
// none of the new media keys (so no frame sent after the rekey). And a
// departure the daemon hides (its peer-left and the goodbye never arrive):
// the others still count the leaver as gone and change keys. And a replay
// across a reload: the daemon gives the reloaded page its old peer id and
// replays all it was sent before; only a first greeting opens, and it
// makes no tile, no connection, no key.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { deriveRoomKeys } from '../../web/js/e2ee/crypto.js';
import { TabIdentity } from '../../web/js/e2ee/identity.js';
import { SignalCodec } from '../../web/js/e2ee/signal-codec.js';
import { CONNECT_GRACE_MS } from '../../web/js/call/roster.js';
import { GONE_PEER_MS } from '../../web/js/call/peer.js';
import { openSignal, signalKey } from '../web-unit/insider.mjs';
import { firefoxSkip, joinFirefoxPage, launchFirefox } from './firefox-util.mjs';
import { captureFrames, daemonForSuite, joinPage, launch, roomLink, stats, tab, waitFor, waitMediaFlowing, PATIENCE } from './util.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

/** Mallory: a WebSocket client with the link, her own tab keys and the real codec. */
async function mallory(daemon, link) {
  const roomId = link.match(/^\/r\/([^?#]+)/)[1];
  const secret = link.split('#')[1];
  const keys = await deriveRoomKeys(secret, roomId);
  const id = await TabIdentity.create();
  const codec = new SignalCodec(keys.signal, id, roomId);
  const ws = new WebSocket(`ws://127.0.0.1:${daemon.port}/ws/${roomId}`, 'xroom.v1');
  /** @type {{from: string, msg: any}[]} */
  const opened = [];
  const raw = [];
  let chain = Promise.resolve();
  ws.on('message', (d) => {
    const m = JSON.parse(String(d));
    raw.push(m);
    const me = raw.find((w) => w.type === 'welcome')?.id;
    if (m.type === 'signal' && me) {
      chain = chain.then(async () => {
        const msg = await codec.open(m.from, me, m.data);
        if (msg) opened.push({ from: m.from, msg });
      });
    }
  });
  await new Promise((res, rej) => { ws.once('open', res); ws.once('error', rej); });
  ws.send(JSON.stringify({ type: 'join', auth: keys.auth }));
  const welcome = await waitFor(() => raw.find((w) => w.type === 'welcome'), { what: 'Mallory welcomed' });
  return {
    ws, id, codec, keys, roomId, opened, welcome,
    /** Seals `msg` with `c` (her codec, or a forger's) and sends it to peer `to`. */
    async send(to, msg, c = codec) {
      ws.send(JSON.stringify({ type: 'signal', to, data: await c.seal(welcome.id, to, msg) }));
    },
  };
}

/** What Ben shows of the call: tiles (tab, name, lock), connections, keys. Chromium or Firefox. */
async function viewOf(page) {
  const tiles = await page.evaluate(() => [...document.querySelectorAll('.tile:not([data-self])')].map((e) => ({
    tab: e.getAttribute('data-tab'), name: e.querySelector('.tile-name')?.textContent, lock: e.getAttribute('data-lock'),
  })));
  const s = await stats(page);
  const k = await page.evaluate(() => window.xroomTest.e2ee());
  return {
    tiles,
    peers: s.peers.map((q) => ({ tab: q.tab, gen: q.gen, rebuilds: q.rebuilds, name: q.remote.name, lock: q.lock })),
    keys: Object.fromEntries(Object.entries(k.peers).map(([t, q]) => [t, { recvId: q.recvId, heldKeyIds: q.heldKeyIds, pub: q.pub }])),
    rejected: s.signalsRejected,
  };
}

for (const victim of ['chromium', 'firefox']) {
  describe(`a member with the link who acts as another (Ben in ${victim})`, { skip: victim === 'firefox' ? firefoxSkip() || false : false }, () => {
    const suite = daemonForSuite();
    const { pages } = suite;
    let m;
    let firefox;
    before(async () => { if (victim === 'firefox') firefox = await launchFirefox(); });
    after(async () => {
      m?.ws.close();
      for (const p of pages.splice(0)) await p.context.close().catch(() => {});
      await firefox?.close();
    });

    test('a silent joiner is shown; greeting makes no tile; forged signals for another tab are refused and change nothing', async () => {
      const link = roomLink();
      pages.push(await joinPage(browser, suite.daemon, link, { name: 'Ann' }));
      pages.push(victim === 'firefox' ? await joinFirefoxPage(firefox, suite.daemon, link, { name: 'Ben' })
        : await joinPage(browser, suite.daemon, link, { name: 'Ben' }));
      const [ann, ben] = pages;
      await waitMediaFlowing(pages);
      const [tAnn, tBen] = await Promise.all(pages.map((p) => tab(p.page)));
      const [idAnn, idBen] = await Promise.all(pages.map(async (p) => (await stats(p.page)).peerId));

      // She joins and says nothing: both are told, once the grace period is over.
      m = await mallory(suite.daemon, link);
      for (const p of pages) {
        const note = await waitFor(() => p.page.evaluate(() => {
          const el = document.getElementById('call-roster');
          return !el.hidden && el.textContent;
        }), { timeout: CONNECT_GRACE_MS + PATIENCE, what: 'the note that someone joined and has not connected' });
        assert.equal(note, '· 1 person joined but has not connected');
        assert.equal((await viewOf(p.page)).tiles.length, 1, 'no tile for her');
      }

      // She greets: both greet back (she learns their tab ids and keys), and
      // no tile appears: a connection comes only with an offer signed for
      // their tab.
      const hello = { tab: m.id.tab, gen: 0, kind: 'hello', ack: false, name: 'Mallory', mic: true, cam: true, screen: false };
      for (const to of [idAnn, idBen]) await m.send(to, hello);
      const answers = await waitFor(() => {
        const a = m.opened.filter((o) => o.msg.kind === 'hello' && o.msg.ack);
        return a.length === 2 && a;
      }, { what: 'both greet her back' });
      assert.deepEqual(answers.map((o) => o.msg.tab).sort(), [tAnn, tBen].sort());
      const before = await viewOf(ben.page);
      assert.deepEqual(before.tiles.map((t) => [t.tab, t.name, t.lock]), [[tAnn, 'Ann', 'secure']]);
      assert.equal(before.peers.length, 1);

      // Ann's keys, as Mallory saw them in the payload Ann sealed for her.
      const fromAnn = answers.find((o) => o.msg.tab === tAnn);
      const annKeys = m.codec.keysOf.get(tAnn);
      assert.ok(annKeys && fromAnn, 'she holds Ann\'s public keys');
      const asAnn = new SignalCodec(m.keys.signal, Object.assign(Object.create(TabIdentity.prototype), m.id, { tab: tAnn, pub: annKeys.pub, dh: annKeys.dh }), m.roomId);
      asAnn.tabOf.set(idBen, tBen);
      asAnn.sealer.counter = 1_000_000;
      const claims = [
        { tab: tAnn, gen: 0, kind: 'bye' },
        { tab: tAnn, gen: 99, kind: 'hello', ack: true, name: 'Ann (new laptop)', mic: false, cam: false, screen: false },
        { tab: tAnn, gen: 99, kind: 'sdp', description: { type: 'offer', sdp: 'v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n' } },
        { tab: tAnn, gen: 0, kind: 'state', name: 'Ann', mic: false, cam: false, screen: true },
        { tab: tAnn, gen: 0, kind: 'key', id: 200, key: Buffer.alloc(60, 7).toString('base64url'), want: true },
        { tab: tAnn, gen: 0, kind: 'key-ack', id: 0 },
      ];
      let forged = 0;
      for (const msg of claims) {
        await m.send(idBen, msg); // her own key, Ann's tab id
        await m.send(idBen, msg, asAnn); // Ann's public key, her signature
        forged += 2;
      }
      // A counter near 2^53 under her own tab (accepted: it is hers), then
      // Ann's real signals must still open at Ben's.
      const own = new SignalCodec(m.keys.signal, m.id, m.roomId);
      own.tabOf.set(idBen, tBen);
      own.sealer.counter = Number.MAX_SAFE_INTEGER - 5;
      await m.send(idBen, { tab: m.id.tab, gen: 0, kind: 'state', name: 'Mallory', mic: true, cam: true, screen: false }, own);

      await waitFor(async () => (await stats(ben.page)).signalsRejected - before.rejected >= forged, { what: 'every forgery refused' });
      // Ann mutes: her real signal still reaches Ben.
      await ann.page.evaluate(() => document.getElementById('btn-mic').click());
      await waitFor(async () => (await stats(ben.page)).peers[0]?.remote.mic === false, { what: 'Ann\'s own state reaches Ben' });
      const afterView = await viewOf(ben.page);
      assert.equal(afterView.rejected - before.rejected, forged, 'each forgery refused and counted, nothing else');
      assert.deepEqual(afterView.tiles, before.tiles, 'the same tiles, names and lock');
      assert.deepEqual(afterView.peers.map(({ tab: t, gen, rebuilds, name, lock }) => ({ t, gen, rebuilds, name, lock })),
        before.peers.map(({ tab: t, gen, rebuilds, name, lock }) => ({ t, gen, rebuilds, name, lock })), 'the same connection');
      assert.deepEqual(afterView.keys, before.keys, 'the same keys; none from her');
      assert.ok(!(afterView.keys[tAnn].heldKeyIds ?? []).includes(200));
      const flowing = await waitMediaFlowing(pages, { what: 'media after the forgeries' });
      for (const s of flowing) assert.equal(s.peers.length, 1);
      for (const p of pages) assert.deepEqual(p.log.errors, []);
    });
  });
}

/**
 * Opens a relayed signal as someone with the link (the signal key) would:
 * the statement inside, or null.
 */
function openRelayed(secret, roomId, from, to, data) {
  try {
    return JSON.parse(openSignal(signalKey(secret, roomId), from, to, data).subarray(64).toString());
  } catch {
    return null;
  }
}

describe('a former member', () => {
  const suite = daemonForSuite();
  const { pages } = suite;

  test('after Ben leaves, what he holds and all the server relayed do not open the keys sent after the rekey', async () => {
    const link = roomLink();
    const [roomId, secret] = [link.match(/^\/r\/([^?#]+)/)[1], link.split('#')[1]];
    const frames = [];
    for (const name of ['Ann', 'Ben', 'Cat']) {
      pages.push(await joinPage(browser, suite.daemon, link, { name, before: (c, page) => { frames.push(captureFrames(page)); } }));
    }
    const [ann, ben, cat] = pages;
    await waitMediaFlowing(pages);
    const [tAnn, tBen, tCat] = await Promise.all(pages.map((p) => tab(p.page)));
    const ids = Object.fromEntries(await Promise.all(pages.map(async (p) => [(await stats(p.page)).peerId, await tab(p.page)])));
    const e2ee = (p) => p.page.evaluate(() => window.xroomTest.e2ee());
    const keyIds = { [tAnn]: (await e2ee(ann)).sendKeyId, [tCat]: (await e2ee(cat)).sendKeyId };
    const mark = frames.map((f) => f.length);

    await ben.page.locator('#btn-leave').click();
    // Ann and Cat each switch to a new key, and hold each other's.
    await waitFor(async () => {
      const [ka, kc] = [await e2ee(ann), await e2ee(cat)];
      return ka.sendKeyId !== keyIds[tAnn] && kc.sendKeyId !== keyIds[tCat] &&
        kc.peers[tAnn]?.recvId === ka.sendKeyId && ka.peers[tCat]?.recvId === kc.sendKeyId;
    }, { what: 'Ann and Cat rekeyed' });
    for (const p of [ann, cat]) assert.ok((await e2ee(p)).history.some((h) => h.reason === `left:${tBen}`));

    // Every media key that crossed the server after Ben left, opened as
    // Ben can (he has the link): the signal opens, the key inside does not.
    const relayed = [];
    for (const [i, list] of frames.entries()) {
      if (pages[i] === ben) continue;
      for (const f of list.slice(mark[i])) {
        if (f.dir !== 'sent') continue;
        const w = JSON.parse(f.text);
        if (w.type !== 'signal') continue;
        const from = Object.keys(ids).find((id) => ids[id] === (i === 0 ? tAnn : tCat));
        const st = openRelayed(secret, roomId, from, w.to, w.data);
        assert.ok(st, 'Ben opens every signal relayed after he left (he has the link)');
        if (st.m.kind === 'key') relayed.push({ from: st.m.tab, to: st.to, id: st.m.id, key: st.m.key });
      }
    }
    assert.ok(relayed.some((r) => r.from === tAnn && r.to === tCat), 'Ann sent Cat her new key');
    assert.ok(relayed.some((r) => r.from === tCat && r.to === tAnn), 'Cat sent Ann hers');
    for (const r of relayed) {
      assert.equal(await ben.page.evaluate((a) => window.xroomTest.openMediaKey(a.from, a.to, a.id, a.key), r), false,
        `Ben cannot open key ${r.id} from ${r.from === tAnn ? 'Ann' : 'Cat'}`);
      // The one it was sealed for can: the check can tell.
      const recipient = r.to === tAnn ? ann : cat;
      assert.equal(await recipient.page.evaluate((a) => window.xroomTest.openMediaKey(a.from, a.to, a.id, a.key), r), true);
    }
    console.log(`# ${relayed.length} media keys relayed after the departure; the former member opened 0`);
    await waitMediaFlowing([ann, cat], { what: 'media between the two who stayed' });
  });
});

describe('a departure the server hides', () => {
  const suite = daemonForSuite();
  const { pages } = suite;

  test('no peer-left, no goodbye: the others still drop the leaver once its connection is down and change keys', async () => {
    const link = roomLink();
    const hidden = { peerLeft: 0, fromBen: 0 };
    let benSilent = false;
    /** Every socket through a route: the daemon's peer-left never reaches Ann or Cat; Ben's last words never leave. */
    const relay = (who) => async (context) => {
      await context.routeWebSocket(/\/ws\//, (ws) => {
        const server = ws.connectToServer();
        ws.onMessage((m) => {
          if (who === 'Ben' && benSilent) { hidden.fromBen += 1; return; }
          server.send(m);
        });
        server.onMessage((m) => {
          if (who !== 'Ben' && JSON.parse(String(m)).type === 'peer-left') { hidden.peerLeft += 1; return; }
          ws.send(m);
        });
      });
    };
    for (const name of ['Ann', 'Ben', 'Cat']) pages.push(await joinPage(browser, suite.daemon, link, { name, before: relay(name) }));
    const [ann, ben, cat] = pages;
    await waitMediaFlowing(pages);
    const tBen = await tab(ben.page);
    const e2ee = (p) => p.page.evaluate(() => window.xroomTest.e2ee());
    const before = await Promise.all([ann, cat].map(e2ee));

    benSilent = true;
    await ben.context.close();
    pages.splice(1, 1);
    // Both drop him once his connection has been down GONE_PEER_MS, and switch keys.
    const t0 = Date.now();
    await waitFor(async () => {
      const ks = await Promise.all([ann, cat].map(e2ee));
      return ks.every((k, i) => k.sendKeyId !== before[i].sendKeyId && k.history.some((h) => h.reason === `gone:${tBen}`) && !k.peers[tBen]);
    }, { timeout: GONE_PEER_MS + PATIENCE, what: 'Ann and Cat count Ben as gone and rekey' });
    console.log(`# gone and rekeyed ${Date.now() - t0} ms after Ben's page closed (bound ${GONE_PEER_MS} ms); peer-left hidden ${hidden.peerLeft} times, ${hidden.fromBen} of Ben's frames dropped`);
    assert.ok(hidden.peerLeft >= 2, 'the daemon did say peer-left; the route hid it');
    for (const p of [ann, cat]) {
      assert.equal(await p.page.locator('.tile:not([data-self])').count(), 1, 'his tile is gone');
      // The daemon's word still counts him: shown as not connected.
      await p.page.locator('#call-roster').getByText('1 person joined but has not connected').waitFor();
    }
    await waitMediaFlowing([ann, cat], { what: 'media between the two who stayed' });
  });
});

describe('signals recorded before a reload, replayed after it', () => {
  const suite = daemonForSuite();
  const { pages } = suite;

  test('the daemon replays to the reloaded page, under its old peer id, all Ann sent it: none opens but a first greeting, and nothing appears', async () => {
    const link = roomLink();
    const [roomId, secret] = [link.match(/^\/r\/([^?#]+)/)[1], link.split('#')[1]];
    /** what the daemon sent Ben's page, and the socket to it now */
    const seen = [];
    let toBen = null;
    let fakeId = null;
    const recordAndReplay = async (context) => {
      await context.routeWebSocket(/\/ws\//, (ws) => {
        toBen = ws;
        const server = ws.connectToServer();
        server.onMessage((text) => {
          const m = JSON.parse(String(text));
          seen.push(m);
          // The operator gives the reloaded page its old peer id back.
          ws.send(JSON.stringify(m.type === 'welcome' && fakeId ? { ...m, id: fakeId } : m));
        });
      });
    };
    pages.push(await joinPage(browser, suite.daemon, link, { name: 'Ben', before: recordAndReplay }));
    pages.push(await joinPage(browser, suite.daemon, link, { name: 'Ann' }));
    const [ben, ann] = pages;
    await waitMediaFlowing(pages);
    const benId = (await stats(ben.page)).peerId;
    const benTab = await tab(ben.page);
    await ann.page.locator('#btn-leave').click();
    await waitFor(async () => (await stats(ben.page)).peers.length === 0, { what: 'Ann gone from Ben\'s view' });
    const recorded = seen.filter((m) => m.type === 'signal');
    // What was recorded is a call's setup (the link opens it): greetings,
    // descriptions, keys. Which were first greetings (sealed for no tab).
    const statements = recorded.map((m) => openRelayed(secret, roomId, m.from, benId, m.data));
    const kinds = new Set(statements.map((st) => st?.m.kind));
    for (const k of ['hello', 'sdp', 'key']) assert.ok(kinds.has(k), `the recording holds a ${k} (${[...kinds]})`);
    const blind = statements.filter((st) => st?.to === '').length;

    fakeId = benId;
    await ben.page.reload();
    await ben.page.getByRole('button', { name: 'Join', exact: true }).click();
    await waitFor(async () => (await stats(ben.page)).signaling === 'joined', { what: 'Ben rejoined' });
    const fresh = await stats(ben.page);
    assert.equal(fresh.peerId, benId, 'the operator gave him his old peer id');
    assert.notEqual(await tab(ben.page), benTab, 'a reload is a new tab');
    for (const m of recorded) toBen.send(JSON.stringify(m));
    await waitFor(async () => (await stats(ben.page)).signalsRejected === recorded.length - blind,
      { what: `${recorded.length - blind} replayed signals refused` });
    const after = await stats(ben.page);
    assert.equal(after.peers.length, 0, 'no connection from a replay');
    assert.equal(after.tiles, 1, 'no tile: only his own');
    const k = await ben.page.evaluate(() => window.xroomTest.e2ee());
    assert.deepEqual(Object.keys(k.peers), [], 'no keys from a replay');
    console.log(`# ${recorded.length} signals replayed after the reload: ${recorded.length - blind} refused, ${blind} first greeting(s) opened and made nothing`);
  });
});
