// User cards (web/js/features/cards/), the pure parts: strict checks of received
// cards, the avatar rule, the canonical form and Ed25519 signatures (any
// altered field, another sender or recipient, another key: refused), the
// fingerprint, storage of our card, sharing choices and contacts, trust on
// first use, export and import, the sharing policy; and two or three
// `Cards` over fake links: everyone / ask / never, revocation, a tampered
// card, a card passed off by a third peer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { CardKey, memoryKeyStore, verifyEnvelope } from '../../web/js/features/cards/key.js';
import {
  CARD_LABEL, LIMITS, canonicalCard, cleanFields, cleanSharing, contactStatus, exportCard, fingerprint, goodAvatar, linkOf,
  parseCard, parseExport, shareAction, sharedFields,
} from '../../web/js/features/cards/model.js';
import {
  addContact, deleteCard, deleteContact, hasCard, loadCard, loadContacts, loadSharing, saveCard, saveSharing,
} from '../../web/js/features/cards/saved.js';
import { Cards } from '../../web/js/features/cards/session.js';

const PNG = 'data:image/png;base64,' + Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]).toString('base64');
const JPEG = 'data:image/jpeg;base64,' + Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2]).toString('base64');
const WEBP = 'data:image/webp;base64,' + Buffer.from('RIFF\x10\x00\x00\x00WEBPVP8 ', 'latin1').toString('base64');
const TA = 'AAAAAAAAAAAAAAAA';
const TB = 'BBBBBBBBBBBBBBBB';
const TC = 'CCCCCCCCCCCCCCCC';

function fakeStorage() {
  const m = new Map();
  return {
    getItem: (k) => (m.has(k) ? m.get(k) : null),
    setItem: (k, v) => { m.set(k, String(v)); },
    removeItem: (k) => { m.delete(k); },
    map: m,
  };
}

const fields = (o = {}) => ({ name: 'Ada', avatar: PNG, pronouns: 'she/her', status: 'at work', links: ['https://a.test/', 'tel:+1 555'], ...o });

test('avatars: data: URLs of PNG, JPEG or WebP only, whose bytes match, at most 64 KiB', () => {
  for (const ok of ['', PNG, JPEG, WEBP]) assert.ok(goodAvatar(ok), ok.slice(0, 30));
  const big = 'data:image/png;base64,' + Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(49200)]).toString('base64');
  assert.ok(big.length > LIMITS.avatarBytes);
  for (const bad of [big, PNG.replace('png', 'jpeg'), PNG.replace('png', 'gif'), PNG.replace('image/png', 'image/svg+xml'),
    'data:text/html;base64,PGI+', 'https://x.test/a.png', 'data:image/png,plain', PNG + '%', PNG.slice(0, -1), 5, null,
    'javascript:alert(1)', ' ' + PNG]) {
    assert.equal(goodAvatar(bad), false, String(bad).slice(0, 40));
  }
  assert.equal(LIMITS.avatarBytes, 65536);
});

test('received cards are checked strictly: members, types, lengths, control characters, key', () => {
  const pub = 'A'.repeat(43);
  const good = { v: 1, pub, ...fields() };
  assert.deepEqual(parseCard(good), good);
  const bad = [
    null, [], 'card', { ...good, extra: 1 }, { ...good, v: 2 }, { ...good, pub: 'short' }, { ...good, pub: `${'A'.repeat(42)}+` },
    { ...good, name: 'x'.repeat(65) }, { ...good, name: 5 }, { ...good, name: 'a\nb' }, { ...good, name: ' padded' },
    { ...good, pronouns: 'x'.repeat(33) }, { ...good, status: 'x'.repeat(141) }, { ...good, status: 'two\u2028lines' },
    { ...good, links: 'https://a.test' }, { ...good, links: ['a', 'b', 'c', 'd', 'e'] }, { ...good, links: [''] },
    { ...good, links: ['x'.repeat(201)] }, { ...good, links: [1] }, { ...good, avatar: 'data:image/svg+xml;base64,PHN2Zz4=' },
  ];
  for (const b of bad) assert.equal(parseCard(b), null, JSON.stringify(b)?.slice(0, 80));
  // Without pub or v: refused.
  const { pub: _p, ...noPub } = good;
  assert.equal(parseCard(noPub), null);
  // Limits count code points, not UTF-16 units.
  assert.ok(parseCard({ ...good, name: '😀'.repeat(64) }));
});

test('the canonical form: label, NUL, one JSON array in a fixed order, both tabs bound', () => {
  const card = { v: 1, pub: 'P'.repeat(43), ...fields() };
  const bytes = canonicalCard(card, TA, TB);
  const text = Buffer.from(bytes).toString('utf8');
  assert.equal(text, `${CARD_LABEL}\0${JSON.stringify([1, TA, TB, card.pub, 'Ada', 'she/her', 'at work', card.links, PNG])}`);
  assert.equal(CARD_LABEL, 'xroom/v1/card');
  // Member order does not matter; every value and both tabs do.
  const shuffled = { links: card.links, avatar: PNG, status: 'at work', pronouns: 'she/her', name: 'Ada', pub: card.pub, v: 1 };
  assert.deepEqual(canonicalCard(shuffled, TA, TB), bytes);
  assert.notDeepEqual(canonicalCard(card, TB, TA), bytes);
  assert.notDeepEqual(canonicalCard({ ...card, links: ['https://a.test/tel:+1 555'] }, TA, TB), bytes);
});

test('keys: Ed25519, private half non-extractable, made once; fingerprint is SHA-256 of the raw key', async () => {
  const store = memoryKeyStore();
  assert.equal(await CardKey.load(store, false), null, 'no key until first use');
  const k = await CardKey.load(store, true);
  assert.ok(k);
  assert.equal(k.pair.privateKey.extractable, false);
  assert.equal(k.pair.privateKey.algorithm.name, 'Ed25519');
  await assert.rejects(crypto.subtle.exportKey('pkcs8', k.pair.privateKey));
  const again = await CardKey.load(store, true);
  assert.equal(again?.pub, k.pub, 'the same key next time');
  const raw = Buffer.from(k.pub, 'base64url');
  assert.equal(raw.length, 32);
  const hex = createHash('sha256').update(raw).digest('hex').slice(0, 16).toUpperCase();
  assert.equal(k.fp, hex.match(/.{4}/g).join(' '));
  assert.equal(await fingerprint(new Uint8Array(raw)), k.fp);
  assert.match(k.fp, /^[0-9A-F]{4}( [0-9A-F]{4}){3}$/);
  await store.clear();
  const fresh = await CardKey.load(store, true);
  assert.notEqual(fresh?.pub, k.pub, 'deleted: a new key');
});

test('signatures: verified; any altered field, other tabs, another key or a flipped bit refused', async () => {
  const k = /** @type {CardKey} */ (await CardKey.load(memoryKeyStore(), true));
  const env = await k.sign(fields(), TA, TB);
  const ok = await verifyEnvelope(env, TA, TB);
  assert.ok(ok.ok);
  assert.equal(ok.ok && ok.fp, k.fp);
  assert.deepEqual(ok.ok && ok.card, { v: 1, pub: k.pub, ...fields() });
  const clone = () => JSON.parse(JSON.stringify(env));
  const altered = [
    (e) => { e.card.name = 'Eve'; }, (e) => { e.card.status = 'at home'; }, (e) => { e.card.pronouns = ''; },
    (e) => { e.card.links = ['https://evil.test/', 'tel:+1 555']; }, (e) => { e.card.links.pop(); }, (e) => { e.card.avatar = JPEG; },
  ];
  for (const f of altered) {
    const e = clone();
    f(e);
    assert.deepEqual(await verifyEnvelope(e, TA, TB), { ok: false, reason: 'signature' }, f.toString());
  }
  // Another sender or recipient: a card passed on by someone else, or sent to another.
  assert.deepEqual(await verifyEnvelope(env, TC, TB), { ok: false, reason: 'signature' });
  assert.deepEqual(await verifyEnvelope(env, TA, TC), { ok: false, reason: 'signature' });
  // Another key put in.
  const other = /** @type {CardKey} */ (await CardKey.load(memoryKeyStore(), true));
  const e2 = clone();
  e2.card.pub = other.pub;
  assert.deepEqual(await verifyEnvelope(e2, TA, TB), { ok: false, reason: 'signature' });
  // A flipped bit of the signature.
  const sig = Buffer.from(env.sig, 'base64url');
  sig[10] ^= 1;
  assert.deepEqual(await verifyEnvelope({ ...env, sig: sig.toString('base64url') }, TA, TB), { ok: false, reason: 'signature' });
  // Malformed.
  for (const m of [null, { ...env, extra: 1 }, { ...env, t: 'chat' }, { ...env, sig: 'x' }, { t: 'card', card: { ...env.card, name: 'a\u0000' }, sig: env.sig },
    { t: 'card', card: env.card }]) {
    assert.deepEqual(await verifyEnvelope(m, TA, TB), { ok: false, reason: 'malformed' });
  }
  // A public key that is no curve point: refused, no throw.
  const e3 = clone();
  e3.card.pub = Buffer.alloc(32, 0xff).toString('base64url');
  assert.equal((await verifyEnvelope(e3, TA, TB)).ok, false);
});

test('what the owner types is cleaned; only http(s) lines are links', () => {
  assert.deepEqual(cleanFields({ name: '  Ada\nL ', links: [' a ', '', 'b', 'c', 'd', 'e'], status: 'x'.repeat(200), avatar: 'bogus', extra: 1 }),
    { name: 'Ada L', avatar: '', pronouns: '', status: 'x'.repeat(140), links: ['a', 'b', 'c', 'd'] });
  assert.deepEqual(cleanFields(null), { name: '', avatar: '', pronouns: '', status: '', links: [] });
  assert.deepEqual(linkOf('https://a.test/x'), { text: 'https://a.test/x', href: 'https://a.test/x' });
  for (const plain of ['javascript:alert(1)', 'mailto:a@b.test', 'data:text/html,x', '+1 555 0100', 'http://', 'a.test']) {
    assert.deepEqual(linkOf(plain), { text: plain }, plain);
  }
});

test('sharing: the policy per mode and decision; only the chosen fields go', () => {
  assert.equal(shareAction('everyone', undefined), 'send');
  assert.equal(shareAction('everyone', 'revoked'), 'none');
  assert.equal(shareAction('everyone', 'shared'), 'send');
  assert.equal(shareAction('ask', undefined), 'ask');
  assert.equal(shareAction('ask', 'pending'), 'ask');
  assert.equal(shareAction('ask', 'shared'), 'send');
  assert.equal(shareAction('ask', 'declined'), 'none');
  assert.equal(shareAction('ask', 'revoked'), 'none');
  for (const d of [undefined, 'shared', 'pending']) assert.equal(shareAction('never', d), 'none');
  const s = cleanSharing({ mode: 'ask', fields: { avatar: false, links: false, status: 'no' } });
  assert.deepEqual(s, { mode: 'ask', fields: { name: true, avatar: false, pronouns: true, status: true, links: false } });
  assert.deepEqual(sharedFields(fields(), s), { ...fields(), avatar: '', links: [] });
  assert.deepEqual(cleanSharing({ mode: 'sometimes' }).mode, 'everyone');
});

test('storage: the card lives in xroom.profile (its name is the display name); delete removes card, choices and key', async () => {
  const store = fakeStorage();
  globalThis.localStorage = store;
  try {
    assert.equal(hasCard(), false, 'nothing stored: no card');
    store.setItem('xroom.profile', JSON.stringify({ name: 'Pre-join name' }));
    assert.equal(loadCard().name, 'Pre-join name');
    assert.equal(hasCard(), false, 'a display name alone is not a card');
    store.setItem('xroom.profile', JSON.stringify({ name: 'Pre-join name', status: 'hi' }));
    assert.equal(hasCard(), true);
    store.setItem('xroom.profile', JSON.stringify({ name: 'Pre-join name' }));
    saveSharing({ mode: 'everyone' });
    assert.equal(hasCard(), true, 'saved in the editor');
    store.removeItem('xroom.sharing');
    assert.ok(saveCard(fields()));
    assert.deepEqual(loadCard(), fields());
    assert.equal(JSON.parse(store.getItem('xroom.profile')).name, 'Ada');
    assert.ok(saveSharing({ mode: 'never', fields: { name: true, avatar: true, pronouns: false, status: true, links: true } }));
    assert.equal(loadSharing().mode, 'never');
    const keys = memoryKeyStore();
    await CardKey.load(keys, true);
    await deleteCard(keys);
    assert.equal(store.getItem('xroom.profile'), null);
    assert.equal(store.getItem('xroom.sharing'), null);
    assert.equal(await keys.get(), undefined);
    assert.deepEqual(loadCard(), cleanFields({}));
    assert.equal(loadSharing().mode, 'everyone');
    store.setItem('xroom.profile', '{not json');
    assert.deepEqual(loadCard(), cleanFields({}));
  } finally {
    delete globalThis.localStorage;
  }
});

test('contacts: saved by key, known again; another key under a saved name is flagged', () => {
  const store = fakeStorage();
  globalThis.localStorage = store;
  try {
    const c = { pub: 'K'.repeat(43), fp: 'ABCD 0123 4567 89EF', name: 'Ada Lovelace', card: fields(), saved: 1 };
    assert.ok(addContact(c));
    assert.deepEqual(loadContacts(), [c]);
    assert.equal(contactStatus(loadContacts(), c.pub, 'Whoever').status, 'known');
    const changed = contactStatus(loadContacts(), 'L'.repeat(43), '  ada lovelace ');
    assert.equal(changed.status, 'changed');
    assert.equal(changed.contact?.name, 'Ada Lovelace');
    assert.equal(contactStatus(loadContacts(), 'L'.repeat(43), 'Grace').status, 'new');
    // Look-alikes of the saved name are flagged the same way.
    for (const lookalike of [
      '\u0410da Lovelace', // Cyrillic А
      'Ada Lovel\u0430ce', // Cyrillic а
      'Ada\u200b Lovelace', // a zero-width space
      '\u202eAda Lovelace', // a bidi override
      'Ada Lovelace\u2066', // an isolate
      'Ádá Lovelace', // accents
      'Ada  Lovelace', // two spaces
      'Ada Loveiace'.replace('i', 'I'), // capital I for l
      'Ada L0velace', // zero for o
      'Ada Ｌｏｖｅｌａｃｅ', // full-width (NFKC)
      'Αda Lovelace', // Greek Alpha
    ]) {
      const r = contactStatus(loadContacts(), 'L'.repeat(43), lookalike);
      assert.equal(r.status, 'changed', JSON.stringify(lookalike));
      assert.equal(r.contact?.name, 'Ada Lovelace');
    }
    for (const other of ['Ada Byron', 'Adam Lovelace', 'Ada']) {
      assert.equal(contactStatus(loadContacts(), 'L'.repeat(43), other).status, 'new', other);
    }
    assert.equal(contactStatus(loadContacts(), 'L'.repeat(43), '').status, 'new');
    addContact({ ...c, name: 'Ada L.' }); // same key: replaced, not doubled
    assert.equal(loadContacts().length, 1);
    // Garbage in storage is skipped.
    store.setItem('xroom.contacts', JSON.stringify([c, { pub: 'bad' }, 7]));
    assert.equal(loadContacts().length, 1);
    deleteContact(c.pub);
    assert.deepEqual(loadContacts(), []);
    assert.equal(store.getItem('xroom.contacts'), null);
  } finally {
    delete globalThis.localStorage;
  }
});

test('export and import: round trip; other files refused with a reason', () => {
  const s = cleanSharing({ mode: 'ask' });
  const text = exportCard(fields(), s, 'ABCD 0123 4567 89EF');
  const file = JSON.parse(text);
  assert.equal(file.format, 'xroom-card');
  assert.equal(file.fingerprint, 'ABCD 0123 4567 89EF');
  assert.deepEqual(parseExport(text), { ok: true, card: fields(), sharing: s });
  for (const bad of ['nope', '[]', '{"format":"other"}', JSON.stringify({ ...file, version: 9 }), JSON.stringify({ ...file, card: null }),
    JSON.stringify({ ...file, card: { ...file.card, avatar: 'data:image/svg+xml;base64,PHN2Zz4=' } }), 'x'.repeat(300000)]) {
    const r = parseExport(bad);
    assert.equal(r.ok, false, bad.slice(0, 40));
    assert.ok(!r.ok && r.reason.length > 5);
  }
});

/** Links that deliver to each other directly (the sealing is DataLink's, tested in chat.test.mjs). */
function fakeLink(tab) {
  const l = {
    tab, handlers: new Map(), channels: new Map(), peers: new Map(), openListeners: new Set(), sent: [],
    handle(t, fn) { this.handlers.set(t, fn); },
    openTabs() { return [...this.peers.keys()]; },
    send(to, v) {
      const peer = this.peers.get(to);
      if (!peer) return false;
      const copy = JSON.parse(JSON.stringify(v));
      this.sent.push({ to, v: copy });
      setTimeout(() => peer.handlers.get(copy.t)?.(this.tab, copy));
      return true;
    },
  };
  return l;
}

function connect(x, y) {
  x.peers.set(y.tab, y);
  y.peers.set(x.tab, x);
  x.channels.set(y.tab, {});
  y.channels.set(x.tab, {});
}

/** Per-instance saved state (each Cards is another browser). */
function saved(card, sharing) {
  const contacts = [];
  return {
    has: () => true, card: () => card, sharing: () => cleanSharing(sharing), contacts: () => contacts,
    addContact: (c) => { contacts.push(c); return true; }, deleteContact: () => {},
    list: contacts,
  };
}

/** Every Cards made in a test, so that `settle` can wait for all their work. */
const all = new Set();
/** Waits until no card is being signed, sent, delivered or checked. */
async function settle() {
  for (let i = 0; i < 6; i++) {
    await new Promise((r) => setTimeout(r, 2));
    await Promise.all([...all].flatMap((x) => [...x.sending.tails.values(), ...x.checking.tails.values()]));
  }
}

test('Cards: everyone / ask / never; revocation; a tampered card; a card passed off by a third peer', async () => {
  const [la, lb, lc] = [fakeLink(TA), fakeLink(TB), fakeLink(TC)];
  connect(la, lb);
  connect(la, lc);
  connect(lb, lc);
  const sa = saved(fields({ name: 'Ada' }), { mode: 'everyone' });
  const sb = saved(fields({ name: 'Brian', status: 'b' }), { mode: 'ask', fields: { links: false } });
  const sc = saved(fields({ name: 'Cleo' }), { mode: 'never' });
  const A = new Cards(la, TA, { keys: memoryKeyStore(), saved: sa });
  const B = new Cards(lb, TB, { keys: memoryKeyStore(), saved: sb });
  const C = new Cards(lc, TC, { keys: memoryKeyStore(), saved: sc });
  for (const x of [A, B, C]) all.add(x);
  const events = [];
  B.on('peer', ({ tab }) => events.push(tab));
  for (const [x, others] of [[A, [TB, TC]], [B, [TA, TC]], [C, [TA, TB]]]) for (const t of others) x.peerOpened(t);
  await settle();
  await settle();
  assert.equal(B.view(TA).received.state, 'card');
  assert.equal(C.view(TA).received.state, 'card');
  assert.equal(B.view(TA).decision, 'pending', 'B is asked about A');
  assert.equal(B.view(TC).decision, 'pending', 'B is asked about C');
  assert.equal(A.view(TB).received.state, 'none');
  assert.equal(C.snapshot().counters.sent, 0);
  assert.ok(events.includes(TA));

  B.shareWith(TA);
  B.notNow(TC);
  await settle();
  const got = A.view(TB).received;
  assert.equal(got.state, 'card');
  assert.equal(got.state === 'card' && got.card.name, 'Brian');
  assert.deepEqual(got.state === 'card' && got.card.links, [], 'links not shared');
  assert.equal(C.view(TB).received.state, 'none');
  assert.equal(B.snapshot().counters.sent, 1);
  assert.equal(A.view(TC).received.state, 'none');

  // Re-opened channel (a rebuilt connection): shared again, not asked again.
  B.peerOpened(TA);
  B.peerOpened(TC);
  await settle();
  assert.equal(B.snapshot().counters.sent, 2);
  assert.equal(B.view(TC).decision, 'declined');

  // A revokes for B: B drops it; C keeps it.
  await A.revoke(TB);
  await settle();
  assert.equal(B.view(TA).received.state, 'revoked');
  assert.equal(C.view(TA).received.state, 'card');
  A.peerOpened(TB);
  await settle();
  assert.equal(B.view(TA).received.state, 'revoked', 'a revoked peer gets nothing on reconnect');

  // Tampered after signing: rejected.
  A.tamper = { field: 'status', value: 'evil' };
  A.shareWith(TB);
  await settle();
  const r = B.view(TA).received;
  assert.deepEqual(r, { state: 'rejected', reason: 'signature' });
  assert.equal(B.snapshot().counters.rejected, 1);
  A.shareWith(TB);
  await settle();
  assert.equal(B.view(TA).received.state, 'card');

  // C passes A's card (signed for A -> C) to B as its own: refused.
  const aToC = la.sent.find((s) => s.to === TC && s.v.t === 'card');
  assert.ok(aToC);
  lb.handlers.get('card')(TC, aToC.v);
  await settle();
  assert.deepEqual(B.view(TC).received, { state: 'rejected', reason: 'signature' });

  // TOFU: B saves A; known. A stranger with another key under A's name: flagged.
  assert.ok(B.saveContact(TA));
  const rk = B.view(TA).received;
  assert.equal(rk.state === 'card' && rk.contact, 'known');
  const ld = fakeLink('DDDDDDDDDDDDDDDD');
  connect(ld, lb);
  const D = new Cards(ld, 'DDDDDDDDDDDDDDDD', { keys: memoryKeyStore(), saved: saved(fields({ name: 'ada' }), { mode: 'everyone' }) });
  all.add(D);
  D.peerOpened(TB);
  await settle();
  const rd = B.view('DDDDDDDDDDDDDDDD').received;
  assert.equal(rd.state === 'card' && rd.contact, 'changed');
  assert.equal(rd.state === 'card' && rd.savedAs, 'Ada');

  // Switching to "never" revokes everywhere it was shared.
  sa.sharing = () => cleanSharing({ mode: 'never' });
  A.reload();
  await settle();
  assert.equal(B.view(TA).received.state, 'revoked');
  assert.equal(C.view(TA).received.state, 'revoked');
  // The peer leaves: its card goes.
  B.peerGone(TA);
  assert.equal(B.view(TA).received.state, 'none');
  // Nothing of a card in the snapshot.
  assert.doesNotMatch(JSON.stringify(B.snapshot()), /Ada|Brian|at work|a\.test/);
});

test('Cards: no card, nothing sent, nobody asked, no key made', async () => {
  const [la, lb] = [fakeLink(TA), fakeLink(TB)];
  connect(la, lb);
  const keys = memoryKeyStore();
  const none = { ...saved(cleanFields({ name: 'Only a name' }), { mode: 'ask' }), has: () => false };
  const A = new Cards(la, TA, { keys, saved: none });
  const B = new Cards(lb, TB, { keys: memoryKeyStore(), saved: saved(fields(), { mode: 'everyone' }) });
  all.add(A);
  all.add(B);
  A.peerOpened(TB);
  B.peerOpened(TA);
  A.shareWith(TB);
  await settle();
  assert.equal(la.sent.length, 0);
  assert.equal(A.view(TB).decision, undefined, 'not asked');
  assert.equal(A.view(TB).mine, false);
  assert.equal(await keys.get(), undefined, 'no key made');
  assert.equal(A.view(TB).received.state, 'card', 'receiving needs no card of our own');
});
