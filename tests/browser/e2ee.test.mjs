// End-to-end encryption, real daemon and real Chromium. What the daemon
// relays is opaque (every WebSocket frame of a call is captured and
// searched); someone with the room's join auth but not its secret (what
// the daemon's operator has) gets no connection, no frame and nothing
// readable, and what it sends, replays or redirects is refused and
// counted; a wrong secret is refused at the door; the safety codes match
// pairwise and come from the DTLS certificates; when a peer leaves, the
// others switch media keys without a visible glitch; a browser without
// encoded transforms gets a clear screen; "hide my address" forces relay
// candidates, and is disabled when the server has no TURN.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import {
  artifactPath, captureFrames, joinPage, launch, openPage, sleep, startDaemon, stats, tab, waitFor, waitMediaFlowing, PATIENCE,
} from './util.mjs';
import { deriveRoomKeys } from '../../web/js/e2ee/crypto.js';
import { SignalCodec } from '../../web/js/e2ee/signal-codec.js';
import { TabIdentity } from '../../web/js/e2ee/identity.js';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

/** A room: its id, its secret, and the link a page opens. */
function newRoom() {
  const id = randomBytes(16).toString('base64url');
  const secret = randomBytes(32).toString('base64url');
  return { id, secret, link: `/r/${id}?test=1#${secret}` };
}

const authOf = (secret) => Buffer.from(hkdfSync('sha256', Buffer.from(secret, 'base64url'), Buffer.alloc(0), 'xroom/v1/auth', 16)).toString('base64url');

const e2ee = (page) => page.evaluate(() => window.xroomTest.e2ee());

/**
 * A WebSocket client that joins with the right auth but has no secret:
 * what the daemon's operator could do. Records every message.
 */
async function insider(daemon, roomId, auth) {
  const ws = new WebSocket(`ws://127.0.0.1:${daemon.port}/ws/${roomId}`, 'xroom.v1');
  const received = [];
  const sent = [];
  ws.on('message', (d) => received.push(String(d)));
  await new Promise((res, rej) => { ws.once('open', res); ws.once('error', rej); });
  const send = (msg) => {
    const text = JSON.stringify(msg);
    sent.push(text);
    ws.send(text);
  };
  send({ type: 'join', auth });
  const welcome = await waitFor(() => received.map((t) => JSON.parse(t)).find((m) => m.type === 'welcome'), { what: 'welcome' });
  return { ws, received, sent, send, welcome, messages: () => received.map((t) => JSON.parse(t)) };
}

/** Fails if any captured text carries something that must stay end to end. */
function assertOpaque(texts, secrets) {
  const banned = ['v=0', 'a=fingerprint', 'fingerprint', 'candidate:', 'ice-ufrag', 'ufrag', ...secrets];
  for (const text of texts) {
    for (const b of banned) assert.ok(!text.includes(b), `"${b}" crossed the daemon: ${text.slice(0, 160)}`);
  }
}

describe('what the daemon relays, and what an insider without the secret gets', () => {
  let daemon;
  const pages = [];
  let mallory;
  before(async () => { daemon = await startDaemon({}); });
  after(async () => {
    mallory?.ws.close();
    for (const p of pages) await p.context.close();
    await daemon?.stop();
  });

  test('opaque relay; the insider and a page with a guessed key get nothing, and all they send is refused', async () => {
    const room = newRoom();
    const names = ['Zelda Quux', 'Yorick Vexley', 'Xavier Wolfe'];
    const frames = [];
    const join = async (name) => {
      const p = await joinPage(browser, daemon, room.link, { name, before: (c, page) => { frames.push(captureFrames(page)); } });
      pages.push(p);
      return p;
    };
    const a = await join(names[0]);
    const b = await join(names[1]);
    await waitMediaFlowing([a, b]);
    const [idA, idB] = [(await stats(a.page)).peerId, (await stats(b.page)).peerId];

    // Mallory has the auth (the daemon sees it) but not the secret.
    mallory = await insider(daemon, room.id, authOf(room.secret));
    assert.deepEqual(mallory.welcome.peers.sort(), [idA, idB].sort());
    const malloryId = await TabIdentity.create();
    const guessed = new SignalCodec((await deriveRoomKeys(randomBytes(32).toString('base64url'), room.id)).signal, malloryId, room.id);
    /** @type {Record<string, number>} what Mallory sent to each peer id */
    const toEach = {};
    const forge = (to, data) => {
      mallory.send({ type: 'signal', to, data });
      toEach[to] = (toEach[to] ?? 0) + 1;
    };
    const hello = { tab: malloryId.tab, gen: 0, kind: 'hello', ack: false, name: 'Mallory', mic: true, cam: true, screen: false };
    for (const to of [idA, idB]) {
      forge(to, { v: 1, ...hello }); // the clear payload of version 1
      forge(to, await guessed.seal(mallory.welcome.id, to, hello)); // sealed under a guessed key
      forge(to, { v: 2, c: 1, iv: 'AAAAAAAAAAAAAAAA', ct: randomBytes(300).toString('base64url') }); // noise
      forge(to, { v: 2, c: 2, iv: 'AAAAAAAAAAAAAAAA', ct: '' });
    }
    // A payload A sent to B, captured on the way and sent to B again: the
    // daemon says it comes from Mallory, and the sealed ids disagree.
    const captured = frames[0].map((f) => f.text).filter((t) => t.includes('"signal"')).map((t) => JSON.parse(t))
      .filter((m) => m.type === 'signal' && m.to === idB);
    assert.ok(captured.length >= 3, 'A sent B signals');
    forge(idB, captured[0].data);
    forge(idB, captured[captured.length - 1].data);

    // A page with the right auth but a guessed key (the others derived
    // from another secret): a patched client.
    const patched = await openPage(browser, daemon, room.link, {
      name: 'Eve Guesser',
      before: async (context, page) => {
        frames.push(captureFrames(page));
        await context.route('**/js/e2ee/crypto.js', async (route) => {
          const res = await route.fetch();
          const body = (await res.text()).replace(/signal: 'xroom\/v2\/signal'/, "signal: 'xroom/v2/signal?'")
            .replace(/pairSalt: 'xroom\/v2\/pair-salt'/, "pairSalt: 'xroom/v2/pair-salt?'").replace(/safety: 'xroom\/v2\/safety'/, "safety: 'xroom/v2/safety?'");
          assert.ok(body.includes('xroom/v2/signal?') && body.includes('xroom/v2/pair-salt?'), 'the patch applies');
          await route.fulfill({ response: res, body });
        });
      },
    });
    pages.push(patched);
    await patched.page.getByRole('button', { name: 'Join', exact: true }).click();
    await patched.page.locator('#screen-call').waitFor();
    const idEve = (await stats(patched.page)).peerId;

    // A newcomer greets all four; Mallory receives a sealed hello and
    // sends it on to A and B, and back to C.
    const c = await join(names[2]);
    const idC = (await stats(c.page)).peerId;
    const fromC = await waitFor(() => mallory.messages().find((m) => m.type === 'signal' && m.from === idC), { what: 'C greets Mallory' });
    forge(idA, fromC.data);
    forge(idB, fromC.data);
    forge(idC, fromC.data);

    const all = await waitMediaFlowing([a, b, c], { timeout: PATIENCE });
    for (const s of all) {
      assert.equal(s.peers.length, 2, 'only the three with the secret are connected');
      assert.equal(s.tiles, 3);
    }
    // Every forged, replayed and redirected payload was refused, and
    // counted; the legitimate ones all opened.
    const expected = {
      [idA]: toEach[idA] + 1, // + Eve's hello
      [idB]: toEach[idB] + 1,
      [idC]: toEach[idC],
    };
    await waitFor(async () => {
      const got = await Promise.all([a, b, c].map(async (p) => (await stats(p.page)).signalsRejected));
      return got[0] === expected[idA] && got[1] === expected[idB] && got[2] === expected[idC] ||
        (() => { throw new Error(`rejected ${got} expected ${Object.values(expected)}`); })();
    }, { what: 'every forged payload refused and counted' });
    // Eve: no connection, no frame; C's hello to her was refused by her.
    const se = await stats(patched.page);
    assert.equal(se.peers.length, 0);
    assert.equal(se.tiles, 1);
    assert.ok(se.signalsRejected >= 1, 'the hello C sealed for Eve did not open for her');
    // Between the three, no frame failed to open, unless its sender found
    // Chromium skipping its transform (the seal check, call/seal-check.js,
    // which silences that sender and rebuilds the connection): those
    // frames went out clear, and were rightly dropped.
    const honest = await Promise.all([a, b, c].map(async (p) => ({ p, tab: await tab(p.page), s: await stats(p.page) })));
    for (const { p, s } of honest) {
      assert.ok(!s.peers.some((q) => q.remote.name === 'Mallory' || q.remote.name === 'Eve Guesser'));
      const k = await e2ee(p.page);
      const me = honest.find((h) => h.p === p).tab;
      for (const [t, q] of Object.entries(k.peers)) {
        if (!q.counters?.authFailed) continue;
        const bypasses = honest.find((h) => h.tab === t)?.s.peers.find((r) => r.tab === me)?.bypasses ?? 0;
        console.log(`# ${q.counters.authFailed} frames from ${t} refused after ${bypasses} transform bypasses on its side`);
        assert.ok(bypasses > 0, `frames from an honest peer failed without a bypass: ${JSON.stringify(q.counters)}`);
      }
      assert.equal(Object.keys(k.peers).length, 2, 'keys only with the two others');
    }
    // Mallory got no media, no keys, and nothing she can read.
    const kinds = new Set(mallory.messages().map((m) => m.type));
    assert.deepEqual([...kinds].sort(), ['peer-joined', 'signal', 'welcome']);
    assertOpaque(mallory.received, [...names, 'Eve Guesser', room.secret, ...await Promise.all([a, b, c].map((p) => tab(p.page)))]);

    // Every frame that crossed the daemon during the call: opaque.
    const texts = [...frames.flat().map((f) => f.text), ...mallory.received, ...mallory.sent];
    const tabs = await Promise.all([a, b, c].map((p) => tab(p.page)));
    assertOpaque(texts, [...names, 'Eve Guesser', ...tabs, room.secret]);
    const signals = frames.flat().map((f) => JSON.parse(f.text)).filter((m) => m.type === 'signal');
    assert.ok(signals.length > 30, `a call's worth of signals (${signals.length})`);
    for (const m of signals) {
      if (m.data?.v === 1) continue; // Mallory's clear forgery, as the pages received it
      assert.deepEqual(Object.keys(m.data).sort(), ['c', 'ct', 'iv', 'v'], JSON.stringify(m).slice(0, 120));
    }
  });
});

describe('a wrong secret', () => {
  let daemon;
  before(async () => { daemon = await startDaemon({}); });
  after(async () => { await daemon?.stop(); });

  test('the right room id with a wrong secret is refused (forbidden) and never sees a frame', async () => {
    const room = newRoom();
    const a = await joinPage(browser, daemon, room.link, { name: 'Host' });
    const frames = [];
    const b = await openPage(browser, daemon, `/r/${room.id}?test=1#${randomBytes(32).toString('base64url')}`, {
      name: 'Wrong Key', before: (c, page) => { frames.push(captureFrames(page)); },
    });
    await b.page.getByRole('button', { name: 'Join', exact: true }).click();
    await b.page.locator('#screen-message').waitFor({ state: 'visible' });
    assert.equal(await b.page.locator('#message-h').textContent(), 'This link does not open this room');
    const received = frames.flat().filter((f) => f.dir === 'received').map((f) => JSON.parse(f.text));
    assert.deepEqual(received.map((m) => m.type), ['error']);
    assert.equal(received[0].code, 'forbidden');
    await sleep(1000);
    const sb = await stats(b.page);
    assert.equal(sb.peers.length, 0);
    assert.equal(sb.inCall, false);
    assert.equal((await stats(a.page)).peers.length, 0);
    const k = await e2ee(a.page);
    assert.deepEqual(k.peers, {});
    for (const p of [a, b]) await p.context.close();
  });
});

describe('keys, locks and safety codes in a call of three', () => {
  let daemon;
  const pages = [];
  let room;
  before(async () => {
    daemon = await startDaemon({});
    room = newRoom();
    for (const name of ['Ann', 'Ben', 'Cat']) pages.push(await joinPage(browser, daemon, room.link, { name }));
    await waitMediaFlowing(pages);
  });
  after(async () => {
    for (const p of pages) await p.context.close();
    await daemon?.stop();
  });

  test('each pair shows the same safety code, made from the DTLS certificates and the room key; locks are secure', async () => {
    const tabs = await Promise.all(pages.map((p) => tab(p.page)));
    const safetyKey = hkdfSync('sha256', Buffer.from(room.secret, 'base64url'), Buffer.alloc(0), `xroom/v2/safety\0${room.id}`, 32);
    const codes = new Set();
    for (const [i, p] of pages.entries()) {
      await waitFor(async () => Object.values((await e2ee(p.page)).peers).every((q) => q.lock === 'secure' && q.safety),
        { what: 'secure locks' });
      const k = await e2ee(p.page);
      const s = await stats(p.page);
      for (const [j, other] of pages.entries()) {
        if (i === j) continue;
        const mine = k.peers[tabs[j]];
        const theirs = (await e2ee(other.page)).peers[tabs[i]];
        assert.equal(mine.safety, theirs.safety, 'the same code on both sides');
        codes.add(mine.safety);
        // The fingerprints in the SDP are the certificates DTLS used.
        const peerStats = s.peers.find((q) => q.tab === tabs[j]);
        const [local, remote] = mine.fingerprints.split('|');
        assert.equal(peerStats.dtls.local, local);
        assert.equal(peerStats.dtls.remote, remote);
        // Each tab's id is the hash of the key it signs with, and both keys
        // are in the code.
        assert.equal(mine.pub, (await e2ee(other.page)).pub);
        assert.equal(createHash('sha256').update(Buffer.from(mine.pub, 'base64url')).digest().subarray(0, 16).toString('base64url'), tabs[j]);
        const [x, y] = [`${local} ${k.pub}`, `${remote} ${mine.pub}`].sort();
        const mac = createHmac('sha256', safetyKey).update(`xroom/v2/safety-code\0${x}\0${y}`).digest();
        const n = (((mac.readBigUInt64BE(0) << 64n) | mac.readBigUInt64BE(8)) % 10n ** 25n).toString().padStart(25, '0');
        assert.equal(mine.safety.replace(/ /g, ''), n);
        // On the tile, with the lock.
        const t = p.page.locator(`.tile[data-tab="${tabs[j]}"]`);
        assert.equal(await t.getAttribute('data-lock'), 'secure');
        assert.equal(await t.locator('.tile-sec-code').textContent(), mine.safety);
        assert.match(await t.locator('.tile-sec').getAttribute('title'), /Compare it aloud/);
      }
      // Every frame in both directions went through the worker.
      for (const q of Object.values(k.peers)) {
        assert.ok(q.counters.encVideo > 0 && q.counters.encAudio > 0 && q.counters.decVideo > 0 && q.counters.decAudio > 0);
        assert.equal(q.counters.authFailed, 0);
        assert.deepEqual(q.counters.codecs.sort(), ['audio/opus', 'video/vp8']);
      }
      for (const q of s.peers) assert.deepEqual(q.unsealed, []);
    }
    assert.equal(codes.size, 3, 'three pairs, three codes');
    // No clear audio level in the RTP headers (who speaks, how loud), in
    // any description in force; the speaking ring still lights, from the
    // decoded audio.
    for (const [i, p] of pages.entries()) {
      for (const [j] of pages.entries()) {
        if (i === j) continue;
        const d = await p.page.evaluate((t) => window.xroomTest.negotiated(t), tabs[j]);
        assert.ok(d.local.includes('m=audio') && !/ssrc-audio-level/.test(d.local + d.remote), 'no audio-level extension negotiated');
      }
      for (const q of (await stats(p.page)).peers) assert.equal(q.audioLevelHidden, true);
    }
    await pages[0].page.locator('.tile.speaking:not([data-self])').first().waitFor({ timeout: PATIENCE });
    await pages[0].page.screenshot({ path: artifactPath('call-3-e2ee.png') });
  });

  test('when one leaves, the others switch media keys; no frame is lost to the change', async () => {
    const [a, b, c] = pages;
    const [tA, tB, tC] = await Promise.all(pages.map((p) => tab(p.page)));
    const [ka, kb] = [await e2ee(a.page), await e2ee(b.page)];
    const cKnew = (await e2ee(c.page)).peers;
    const lostToKeys = (k, t) => k.peers[t].counters.noKey + k.peers[t].counters.authFailed;
    const lostBefore = [lostToKeys(ka, tB), lostToKeys(kb, tA)];
    assert.equal(cKnew[tA].recvId, ka.sendKeyId, 'C holds A\'s current key');
    // Watch the video each receives from the other while C leaves.
    const watching = Promise.all([
      a.page.evaluate((t) => window.xroomTest.watchFrames(t, 6000), tB),
      b.page.evaluate((t) => window.xroomTest.watchFrames(t, 6000), tA),
    ]);
    await sleep(1500);
    await c.page.getByRole('button', { name: 'Leave' }).click();
    const [wa, wb] = await watching;
    console.log(`# longest gap in decoded video across the rekey: A ${wa.maxGapMs} ms, B ${wb.maxGapMs} ms (${wa.frames} and ${wb.frames} frames in 6 s)`);
    assert.ok(wa.frames > 30 && wb.frames > 30, 'video kept flowing');
    const [na, nb] = [await e2ee(a.page), await e2ee(b.page)];
    // The gap is a figure of the machine; what the key change must not do
    // is make a frame undecryptable (no key yet, or the wrong one).
    assert.deepEqual([lostToKeys(na, tB), lostToKeys(nb, tA)], lostBefore, 'no frame lost to the key change');
    for (const [before, now, t] of [[ka, na, tA], [kb, nb, tB]]) {
      assert.equal(now.sendKeyId, (before.sendKeyId + 1) & 0xff, `${t} made a new key`);
      assert.equal(now.workerSendKeyId, now.sendKeyId, 'the worker seals with it');
      assert.equal(now.history.at(-1).reason, `left:${tC}`);
      assert.equal(now.peers[tC], undefined, 'the one who left is forgotten');
    }
    // Each now decrypts the other's frames with the other's new key.
    await waitFor(async () => {
      const [x, y] = [await e2ee(a.page), await e2ee(b.page)];
      return x.peers[tB].counters.keyId === y.sendKeyId && y.peers[tA].counters.keyId === x.sendKeyId &&
        x.peers[tB].lock === 'secure' && y.peers[tA].lock === 'secure';
    }, { what: 'frames under the new keys, locks secure' });
    assert.notEqual(na.sendKeyId, cKnew[tA].recvId, 'what A sends now is under a key C never had');
    // The previous key is kept briefly for frames in flight, then dropped.
    await waitFor(async () => {
      const y = await e2ee(b.page);
      return y.peers[tA].heldKeyIds.length === 1 && y.peers[tA].heldKeyIds[0] === na.sendKeyId;
    }, { timeout: PATIENCE, what: 'the old key dropped' });
    await waitMediaFlowing([a, b]);
    pages.pop();
    await c.context.close();
  });
});

describe('closing the tab', () => {
  let daemon;
  before(async () => { daemon = await startDaemon({}); });
  after(async () => { await daemon?.stop(); });

  test('still says goodbye, sealed ahead of time: the tile goes at once', async () => {
    const room = newRoom();
    const a = await joinPage(browser, daemon, room.link, { name: 'Stays' });
    // As a closing tab would: once the page is going away, nothing
    // asynchronous (no WebCrypto sealing) gets to finish.
    const b = await joinPage(browser, daemon, room.link, {
      name: 'Closes',
      init: () => {
        const encrypt = crypto.subtle.encrypt.bind(crypto.subtle);
        let closing = false;
        addEventListener('pagehide', () => { closing = true; }, { capture: true });
        crypto.subtle.encrypt = (...args) => (closing ? new Promise(() => {}) : encrypt(...args));
      },
    });
    await waitMediaFlowing([a, b]);
    const tB = await tab(b.page);
    const t0 = Date.now();
    await b.page.close({ runBeforeUnload: true });
    await a.page.locator(`.tile[data-tab="${tB}"]`).waitFor({ state: 'detached' });
    console.log(`# the tile went ${Date.now() - t0} ms after the tab closed`);
    assert.equal((await stats(a.page)).signalsRejected, 0, 'the goodbye opened');
    const k = await e2ee(a.page);
    // "left", not "lost": the goodbye removed it, not the lost-peer timeout.
    assert.equal(k.history.at(-1).reason, `left:${tB}`, 'and A changed keys');
    await a.context.close();
    await b.context.close();
  });
});

describe('a sender whose transform the browser skips', () => {
  let daemon;
  before(async () => { daemon = await startDaemon({}); });
  after(async () => { await daemon?.stop(); });

  test('its clear frames are never shown; it is found out, silenced, retried, and both locks say so', async () => {
    const room = newRoom();
    const a = await joinPage(browser, daemon, room.link, { name: 'Fine' });
    // B's browser accepts sender transforms and ignores them, as Chromium
    // does with one set too late: its frames leave unsealed.
    const b = await joinPage(browser, daemon, room.link, {
      name: 'Broken',
      init: () => {
        Object.defineProperty(RTCRtpSender.prototype, 'transform', { configurable: true, get() { return null; }, set() {} });
      },
    });
    const [tA, tB] = [await tab(a.page), await tab(b.page)];
    const found = await waitFor(async () => {
      const q = (await stats(b.page)).peers[0];
      return q && q.bypasses > 2 && q.unsealed.length === 2 && q;
    }, { timeout: PATIENCE, what: 'B finds both senders bypassing, rebuilds twice, then stays silent' });
    assert.deepEqual(found.unsealed.sort(), ['audio', 'video']);
    assert.equal(found.rebuilds, 2);
    const sa = (await stats(a.page)).peers.find((q) => q.tab === tB);
    assert.equal(sa.framesDecoded, 0, 'A never decoded a clear frame from B');
    const ka = await e2ee(a.page);
    assert.ok(ka.peers[tB].counters.authFailed > 0, 'A refused them, and counted');
    assert.equal(ka.peers[tB].counters.decVideo, 0);
    // B says so on A's tile; A's media to B is fine.
    await waitFor(async () => (await b.page.locator(`.tile[data-tab="${tA}"]`).getAttribute('data-lock')) === 'alert',
      { what: 'B shows the problem' });
    const sb = (await stats(b.page)).peers[0];
    assert.ok(sb.framesDecoded > 0, 'B still receives A');
    // Silenced: nothing more leaves B.
    const sent = async () => (await b.page.evaluate(async () => {
      const st = await window.xroomTest.stats();
      return st.peers[0].framesEncoded;
    }));
    const before = await sent();
    await sleep(2000);
    assert.ok(await sent() - before <= 1, 'no frames encoded for A any more');
    for (const p of [a, b]) await p.context.close();
  });
});

describe('a browser without encoded transforms', () => {
  let daemon;
  before(async () => { daemon = await startDaemon({}); });
  after(async () => { await daemon?.stop(); });

  test('gets a clear screen, never an unencrypted call', async () => {
    const room = newRoom();
    const p = await openPage(browser, daemon, room.link, {
      init: () => {
        delete window.RTCRtpScriptTransform;
        delete RTCRtpSender.prototype.createEncodedStreams;
        delete RTCRtpReceiver.prototype.createEncodedStreams;
      },
    });
    await p.page.locator('#screen-message').waitFor({ state: 'visible' });
    assert.equal(await p.page.locator('#message-h').textContent(), 'This browser cannot encrypt the call');
    assert.equal(await p.page.getByRole('button', { name: 'Join', exact: true }).isVisible(), false);
    await p.context.close();
  });
});

describe('hide my address', () => {
  test('without TURN the switch is disabled and says why', async () => {
    const daemon = await startDaemon({});
    try {
      const room = newRoom();
      const p = await joinPage(browser, daemon, room.link, { name: 'Solo' });
      const btn = p.page.locator('#btn-hide');
      assert.equal(await btn.getAttribute('aria-disabled'), 'true');
      assert.equal(await btn.getAttribute('aria-pressed'), 'false');
      assert.match(await btn.getAttribute('title'), /needs a relay \(TURN\) server/);
      await btn.click({ force: true }); // aria-disabled: it still explains itself when clicked
      await p.page.getByText(/needs a relay \(TURN\) server/).first().waitFor();
      await p.context.close();
    } finally {
      await daemon.stop();
    }
  });

  test('with TURN, it forces relay candidates only: no host or reflexive address is ever sent', async () => {
    // A TURN server that does not answer: direct connections still work,
    // relay-only ones gather nothing.
    const daemon = await startDaemon({ ice: { turn: { urls: ['turn:127.0.0.1:9?transport=udp'], secret: 'test-secret' } } });
    try {
      const room = newRoom();
      const a = await joinPage(browser, daemon, room.link, { name: 'Direct' });
      const b = await joinPage(browser, daemon, room.link, { name: 'Hidden' });
      await waitMediaFlowing([a, b]);
      const btn = b.page.locator('#btn-hide');
      assert.equal(await btn.getAttribute('aria-disabled'), 'false');
      const before = (await stats(b.page)).peers[0];
      assert.ok(before.candidatesSent.host > 0, 'direct: host candidates were sent');
      assert.equal(before.relayOnly, false);
      await btn.click();
      assert.equal(await btn.getAttribute('aria-pressed'), 'true');
      const on = await waitFor(async () => {
        const q = (await stats(b.page)).peers[0];
        return q.relayOnly && q.iceRestarts > before.iceRestarts && q;
      }, { what: 'relay-only and an ICE restart' });
      assert.equal(JSON.parse(await b.page.evaluate(() => localStorage.getItem('xroom.privacy'))).hideAddress, true);
      // Remembered: a new page of this browser hides from its first connection.
      await sleep(3000);
      const c = await openPage(browser, daemon, room.link, { name: 'Hidden Too', context: { storageState: await b.context.storageState() } });
      await c.page.getByRole('button', { name: 'Join', exact: true }).click();
      await c.page.locator('#screen-call').waitFor();
      await sleep(4000);
      const sc = await stats(c.page);
      assert.ok(sc.peers.length >= 1);
      for (const q of sc.peers) {
        assert.equal(q.relayOnly, true);
        assert.deepEqual(Object.keys(q.candidatesSent).filter((t) => t !== 'relay'), [], 'nothing but relay candidates');
        assert.notEqual(q.connectionState, 'connected', 'no relay answers, so no connection: never a direct one');
      }
      const after = (await stats(b.page)).peers.find((q) => q.tab === before.tab);
      assert.equal(after.candidatesSent.host, on.candidatesSent.host, 'no host candidate after hiding');
      await btn.click();
      assert.equal(await btn.getAttribute('aria-pressed'), 'false');
      await waitFor(async () => (await stats(b.page)).peers.find((q) => q.tab === before.tab)?.relayOnly === false, { what: 'direct again' });
      for (const p of [a, b, c]) await p.context.close();
    } finally {
      await daemon.stop();
    }
  });
});
