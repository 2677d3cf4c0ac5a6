// Chat (web/js/features/chat.js), the pure parts: envelopes and their validation,
// the 16 KiB limit in UTF-8 bytes, link splitting (http(s) only), delivery
// state from acknowledgements; and a DataLink pair (transport/data-link.js) over fake channels,
// sealed with the real DataSealer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CHAT_MAX_BYTES, Chat, ackEnvelope, chatEnvelope, checkText, deliveryOf, parseEnvelope,
  splitLinks, tooLongText, utf8Bytes,
} from '../../web/js/features/chat.js';
import { SEAL_CHANNEL } from '../../web/js/transport/channels.js';
import { DataLink } from '../../web/js/transport/data-link.js';
import { DataSealer } from '../../web/js/e2ee/crypto.js';
import { sealedTabs } from './sealed-tabs.mjs';

test('envelopes: built, parsed, malformed ones refused', () => {
  assert.deepEqual(parseEnvelope(chatEnvelope('abc_-1', 'hi')), { t: 'chat', id: 'abc_-1', text: 'hi' });
  assert.deepEqual(parseEnvelope(ackEnvelope('abc')), { t: 'chat-ack', id: 'abc' });
  // Extra fields are dropped.
  assert.deepEqual(parseEnvelope({ t: 'chat', id: 'a', text: 'x', html: '<b>' }), { t: 'chat', id: 'a', text: 'x' });
  for (const bad of [null, 1, 'chat', [], {}, { t: 'chat', id: 'a' }, { t: 'chat', id: '', text: 'x' },
    { t: 'chat', id: 'a b', text: 'x' }, { t: 'chat', id: 'x'.repeat(33), text: 'x' }, { t: 'chat', id: 'a', text: 5 },
    { t: 'chat', id: 'a', text: '   ' }, { t: 'chat', id: 'a', text: 'x'.repeat(CHAT_MAX_BYTES + 1) },
    { t: 'file', id: 'a' }, { t: 'chat-ack' }]) {
    assert.equal(parseEnvelope(bad), null, JSON.stringify(bad)?.slice(0, 60));
  }
});

test('length check counts UTF-8 bytes, 16 KiB at most', () => {
  assert.equal(CHAT_MAX_BYTES, 16384);
  assert.equal(utf8Bytes('é'), 2);
  assert.deepEqual(checkText('x'.repeat(CHAT_MAX_BYTES)), { ok: true, text: 'x'.repeat(CHAT_MAX_BYTES) });
  const long = checkText('x'.repeat(CHAT_MAX_BYTES + 1));
  assert.equal(long.ok, false);
  assert.equal(long.ok === false && long.reason, 'too-long');
  // 8192 two-byte characters are exactly the limit; one more is over.
  assert.equal(checkText('é'.repeat(8192)).ok, true);
  assert.equal(checkText('é'.repeat(8193)).ok, false);
  assert.equal(checkText('  \n ').ok, false);
  assert.match(tooLongText(20000), /too long.*20 KiB.*16 KiB.*not sent/);
});

test('links: only http(s), trailing punctuation stays text', () => {
  assert.deepEqual(splitLinks('see https://example.org/a?b=1, then'), [
    { text: 'see ' }, { text: 'https://example.org/a?b=1', href: 'https://example.org/a?b=1' }, { text: ', then' },
  ]);
  assert.deepEqual(splitLinks('(http://x.test/p)'), [{ text: '(' }, { text: 'http://x.test/p', href: 'http://x.test/p' }, { text: ')' }]);
  assert.deepEqual(splitLinks('https://en.wikipedia.org/wiki/A_(b).'),
    [{ text: 'https://en.wikipedia.org/wiki/A_(b)', href: 'https://en.wikipedia.org/wiki/A_(b)' }, { text: '.' }]);
  for (const plain of ['javascript:alert(1)', 'data:text/html,<b>x</b>', 'mailto:a@b.c', 'ftp://x.test/', 'no links here', 'http://']) {
    assert.ok(splitLinks(plain).every((p) => !p.href), plain);
    assert.equal(splitLinks(plain).map((p) => p.text).join(''), plain);
  }
  const mixed = 'a https://a.test b http://b.test/"><script> c';
  assert.equal(splitLinks(mixed).map((p) => p.text).join(''), mixed);
  assert.deepEqual(splitLinks(mixed).filter((p) => p.href).map((p) => p.href), ['https://a.test/', 'http://b.test/']);
});

test('delivery state from acknowledgements', () => {
  const m = (to, acked, done) => deliveryOf({ to: new Set(to), acked: new Set(acked), done });
  assert.equal(m([], [], true), 'none');
  assert.equal(m(['a', 'b'], [], false), 'sending');
  assert.equal(m(['a', 'b'], ['a'], false), 'sending');
  assert.equal(m(['a', 'b'], ['a', 'b'], false), 'all');
  assert.equal(m(['a', 'b'], ['a'], true), 'some');
  assert.equal(m(['a', 'b'], [], true), 'none');
});

/** Two fake channels wired back to back. */
function pipe() {
  const mk = () => {
    const l = { message: [], open: [] };
    return {
      readyState: 'open', binaryType: 'blob', sent: [], peer: null,
      addEventListener(type, fn) { l[type].push(fn); },
      send(bytes) { this.sent.push(bytes); const data = new Uint8Array(bytes).slice().buffer; setTimeout(() => { for (const fn of this.peer.l.message) fn({ data }); }); },
      l,
    };
  };
  const a = mk();
  const b = mk();
  a.peer = b;
  b.peer = a;
  return [a, b];
}

test('chat over sealed channels: delivered, acknowledged, replays and other keys refused', async () => {
  const [alice, bob, carol] = await sealedTabs(3);
  const [{ tab: tA, sealer: sa }, { tab: tB, sealer: sb }] = [alice, bob];
  const box = (s) => ({ seal: (t, c, v) => s.sealJSON(t, c, v), open: (t, c, b) => s.openJSON(t, c, b) });
  const [ca, cb] = pipe();
  const la = new DataLink(box(sa));
  const lb = new DataLink(box(sb));
  la.attach(tB, ca);
  lb.attach(tA, cb);
  const chatA = new Chat(la, tA);
  const chatB = new Chat(lb, tB);
  const got = [];
  chatB.on('message', ({ message }) => got.push(message));
  const delivered = new Promise((res) => chatA.on('delivery', ({ message }) => { if (deliveryOf(message) === 'all') res(message); }));
  const r = chatA.send('hello https://example.org');
  assert.ok(r.ok);
  await delivered;
  assert.equal(got.length, 1);
  assert.equal(got[0].text, 'hello https://example.org');
  assert.equal(got[0].from, tA);
  // What crossed the channel is sealed: the text is not in it.
  assert.ok(!Buffer.from(ca.sent[0]).toString('latin1').includes('hello'));
  // Replayed: refused by the sealer, no second message.
  const before = sb.rejected;
  for (const fn of cb.l.message) fn({ data: new Uint8Array(ca.sent[0]).slice().buffer });
  await new Promise((r2) => setTimeout(r2, 50));
  assert.equal(sb.rejected, before + 1);
  assert.equal(got.length, 1);
  // Too long: refused, nothing sent.
  const n = ca.sent.length;
  const long = chatA.send('x'.repeat(CHAT_MAX_BYTES + 1));
  assert.equal(long.ok, false);
  assert.equal(ca.sent.length, n);
  // Carol, in the room, seals with her key with B and claims to be A; A
  // seals with her key with B of another room (another salt): refused.
  const forger = new DataSealer((t) => carol.sealer.keyFor(t), tA);
  const otherRoom = (await sealedTabs(2, { identities: [alice.identity, bob.identity] }))[0].sealer;
  for (const s of [forger, otherRoom]) {
    const bytes = await s.sealJSON(tB, SEAL_CHANNEL, chatEnvelope('zz', 'evil')).catch(() => null);
    if (bytes) for (const fn of cb.l.message) fn({ data: new Uint8Array(bytes).slice().buffer });
  }
  await new Promise((r2) => setTimeout(r2, 50));
  assert.equal(got.length, 1);
  chatA.close();
  chatB.close();
});

test('nobody to send to: not delivered at once', () => {
  const link = new DataLink({ seal: async () => new Uint8Array(), open: async () => undefined });
  const chat = new Chat(link, 'AAAAAAAAAAAAAAAA');
  const r = chat.send('anyone?');
  assert.ok(r.ok && deliveryOf(r.message) === 'none');
});

test('a peer whose channel opens while a message awaits its acknowledgements still gets it', async () => {
  const [{ tab: tA, sealer: sa }, { tab: tB, sealer: sb }] = await sealedTabs(2);
  const box = (s) => ({ seal: (t, c, v) => s.sealJSON(t, c, v), open: (t, c, b) => s.openJSON(t, c, b) });
  const [ca, cb] = pipe();
  ca.readyState = 'connecting';
  const la = new DataLink(box(sa));
  const lb = new DataLink(box(sb));
  la.attach(tB, ca);
  lb.attach(tA, cb);
  const chatA = new Chat(la, tA);
  const chatB = new Chat(lb, tB);
  const got = [];
  chatB.on('message', ({ message }) => got.push(message.text));
  const r = chatA.send('early');
  assert.ok(r.ok);
  assert.equal(deliveryOf(r.message), 'sending', 'counted, not sent yet');
  assert.equal(ca.sent.length, 0);
  const delivered = new Promise((res) => chatA.on('delivery', ({ message }) => { if (deliveryOf(message) === 'all') res(); }));
  ca.readyState = 'open';
  for (const fn of ca.l.open) fn({});
  await Promise.race([delivered, new Promise((_, rej) => setTimeout(() => rej(new Error('never delivered')), 3000))]);
  assert.deepEqual(got, ['early']);
  chatA.close();
  chatB.close();
});
