// A man in the middle, real daemon and real Chromium: the server's
// operator who also holds the link. Its router (a WebSocket route on every
// page) hides Alice and Bob from each other, and two pages of its own,
// named "Bob" and "Alice", take their places: Alice's only tile is the
// attacker's "Bob", Bob's only tile is the attacker's "Alice". Everything
// checks out on each leg (signed signals, sealed keys, locks green), which
// is what a relay that forwarded the media would show; what gives it away
// is the safety code: Alice and Bob read out different codes. Then the
// weaker try, rewriting the DTLS fingerprint in a relayed SDP and sealing
// it again with the room key: refused (it is signed by its tab), no
// connection.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { openSignal, resealSignal, signalKey } from '../web-unit/insider.mjs';
import { daemonForSuite, joinPage, launch, roomLink, stats, tab, waitFor, waitMediaFlowing, PATIENCE } from './util.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

const e2ee = (p) => p.page.evaluate(() => window.xroomTest.e2ee());

/**
 * The operator's router: each page's socket goes through it; a page sees
 * only the peer ids `allowed(me)` lets through (in `welcome`, `peer-joined`,
 * `peer-left` and signals); `rewrite(msg)` may change what it forwards.
 */
function router() {
  /** @type {Record<string, string>} name -> peer id, from each page's welcome */
  const ids = {};
  const waiters = [];
  const idOf = (name) => new Promise((res) => {
    if (ids[name]) res(ids[name]);
    else waiters.push({ name, res });
  });
  const route = (me, allowedNames, rewrite = async (m) => m) => async (context) => {
    await context.routeWebSocket(/\/ws\//, (ws) => {
      const server = ws.connectToServer();
      let chain = Promise.resolve();
      const allowed = async (id) => {
        for (const n of allowedNames) if (await Promise.race([idOf(n), new Promise((r) => setTimeout(() => r(null), 50))]) === id) return true;
        return false;
      };
      server.onMessage((text) => {
        chain = chain.then(async () => {
          let m = JSON.parse(String(text));
          if (m.type === 'welcome') {
            ids[me] = m.id;
            for (const w of waiters.filter((x) => x.name === me)) w.res(m.id);
            const peers = [];
            for (const p of m.peers) if (await allowed(p)) peers.push(p);
            m = { ...m, peers };
          } else if (m.type === 'peer-joined' || m.type === 'peer-left') {
            // Wait for the newcomer's own welcome, to know who it is.
            if (m.type === 'peer-joined') await Promise.race(allowedNames.map(idOf).concat(new Promise((r) => setTimeout(r, 2000))));
            if (!await allowed(m.id)) return;
          } else if (m.type === 'signal') {
            if (!await allowed(m.from)) return;
            m = await rewrite(m);
            if (!m) return;
          }
          ws.send(JSON.stringify(m));
        });
      });
    });
  };
  return { ids, route };
}

describe('a man in the middle who holds the link and runs the server', () => {
  const suite = daemonForSuite();
  const { pages } = suite;

  test('each leg looks secure; the two people read out different safety codes', async () => {
    const link = roomLink();
    const r = router();
    const join = async (as, name, allowed) => {
      const p = await joinPage(browser, suite.daemon, link, { name, before: r.route(as, allowed) });
      pages.push(p);
      return p;
    };
    const alice = await join('alice', 'Alice', ['m1']);
    const bob = await join('bob', 'Bob', ['m2']);
    const m1 = await join('m1', 'Bob', ['alice']); // "Bob", to Alice
    const m2 = await join('m2', 'Alice', ['bob']); // "Alice", to Bob
    await waitMediaFlowing([alice, m1]);
    await waitMediaFlowing([bob, m2]);
    await waitFor(async () => (await Promise.all([alice, bob].map(e2ee))).every((k) => Object.values(k.peers).some((q) => q.lock === 'secure' && q.safety)),
      { what: 'a green lock and a code on each side' });
    const [ka, kb] = await Promise.all([alice, bob].map(e2ee));
    const [sa, sb] = await Promise.all([alice, bob].map((p) => stats(p.page)));
    // What each person sees: one other person, by the expected name, secure.
    assert.deepEqual(sa.peers.map((q) => q.remote.name), ['Bob']);
    assert.deepEqual(sb.peers.map((q) => q.remote.name), ['Alice']);
    const codeA = Object.values(ka.peers)[0].safety;
    const codeB = Object.values(kb.peers)[0].safety;
    assert.match(codeA, /^\d{5}( \d{5}){4}$/);
    assert.notEqual(codeA, codeB, 'the codes they read to each other differ');
    // And the attacker's own ends agree with each victim (each leg is a real call).
    assert.equal(Object.values((await e2ee(m1)).peers)[0].safety, codeA);
    assert.equal(Object.values((await e2ee(m2)).peers)[0].safety, codeB);
    // The tab ids they see are the attacker's, not each other's.
    assert.notEqual(sa.peers[0].tab, await tab(bob.page));
    assert.notEqual(sb.peers[0].tab, await tab(alice.page));
    console.log(`# Alice reads ${codeA}, Bob reads ${codeB}`);
  });
});

describe('a relay that rewrites the fingerprint in an SDP and seals it again', () => {
  const suite = daemonForSuite();
  const { pages } = suite;

  test('the rewritten description is refused (signed by its tab); no connection', async () => {
    const link = roomLink();
    const [roomId, secret] = [link.match(/^\/r\/([^?#]+)/)[1], link.split('#')[1]];
    const key = signalKey(secret, roomId);
    const fake = `sha-256 ${randomBytes(32).toString('hex').toUpperCase().match(/../g).join(':')}`;
    let rewritten = 0;
    const r = router();
    // Every SDP it relays: opened, its fingerprint swapped, sealed again
    // under the room key with the same counter (the AD still holds).
    const rewrite = (to) => async (m) => {
      const plain = openSignal(key, m.from, r.ids[to], m.data);
      const text = plain.toString('latin1');
      if (!text.includes('a=fingerprint:')) return m;
      const swapped = Buffer.from(text.replace(/a=fingerprint:sha-256 [0-9A-F:]+/g, `a=fingerprint:${fake}`), 'latin1');
      const data = resealSignal(key, m.from, r.ids[to], m.data, swapped);
      rewritten += 1;
      return { ...m, data };
    };
    const alice = await joinPage(browser, suite.daemon, link, { name: 'Alice', before: r.route('alice', ['bob'], rewrite('alice')) });
    pages.push(alice);
    const bob = await joinPage(browser, suite.daemon, link, { name: 'Bob', before: r.route('bob', ['alice'], rewrite('bob')) });
    pages.push(bob);
    // Every rewritten description is refused (the first offer, then the
    // offers of each restart and rebuild).
    await waitFor(async () => {
      const refused = (await Promise.all(pages.map((p) => stats(p.page)))).reduce((n, s) => n + s.signalsRejected, 0);
      return rewritten >= 2 && refused === rewritten;
    }, { what: 'two rewritten descriptions, each refused' });
    const all = await Promise.all(pages.map((p) => stats(p.page)));
    for (const s of all) {
      assert.ok(!s.peers.some((q) => q.connectionState === 'connected'), 'no connection with a swapped fingerprint');
      for (const q of s.peers) assert.notEqual(q.lock, 'secure');
    }
    console.log(`# ${rewritten} descriptions rewritten, ${all.map((s) => s.signalsRejected).join(' and ')} refused`);
  });
});
