// The mesh's decisions without a browser (web/js/call/): which side is
// polite, glare (colliding offers) on both sides, where a signal goes (a
// new connection, a rebuild, a stale one), how a hello is answered, the
// operations chain of a Negotiation over a fake RTCPeerConnection, what a
// getStats report says and the badge it gives, and the seal check.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Negotiation, answerHello, collides, ignoresOffer, isPolite, routeSignal } from '../../web/js/call/negotiation.js';
import { FAILED_AFTER, connectedBadge, emptyStats, readStats, restartDone, retryBadge, ufragOf, unreachableBadge } from '../../web/js/call/stats.js';
import { SEAL_CHECK_MS, sealVerdict } from '../../web/js/call/seal-check.js';
import { OPEN_CHECK_MS, OpenCheck } from '../../web/js/call/open-check.js';

const A = 'AAAAAAAAAAAAAAAA';
const B = 'BBBBBBBBBBBBBBBB';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

test('exactly one side of a pair is polite, whichever computes it', () => {
  assert.equal(isPolite(A, B), !isPolite(B, A));
  assert.equal(isPolite(B, A), true, 'the higher id');
});

test('glare: an offer collides while we make one or are not stable; only the impolite side ignores it', () => {
  assert.ok(collides('offer', true, 'stable'));
  assert.ok(collides('offer', false, 'have-local-offer'));
  assert.ok(!collides('offer', false, 'stable'));
  assert.ok(!collides('answer', true, 'have-local-offer'), 'an answer never collides');
  assert.ok(ignoresOffer(false, 'offer', true, 'stable'));
  assert.ok(!ignoresOffer(true, 'offer', true, 'stable'), 'the polite side takes it');
  assert.ok(!ignoresOffer(false, 'offer', false, 'stable'));
});

const msg = (kind, gen, extra = {}) => ({ tab: B, gen, kind, ...extra });

test('where a signal goes: a new connection, a rebuild, delivery, or nowhere', () => {
  // A tab we do not know.
  assert.deepEqual(routeSignal(undefined, msg('hello', 3, { ack: false })), { act: 'greet', gen: 4 }, 'greeted: we greet back past its generation; its offer makes the connection');
  assert.deepEqual(routeSignal(undefined, msg('hello', 3, { ack: true })), { act: 'add', gen: 3, expectOffer: false }, 'answered: we offer');
  assert.deepEqual(routeSignal(undefined, msg('sdp', 2, { description: { type: 'offer', sdp: '' } })), { act: 'add', gen: 2, expectOffer: false });
  for (const m of [msg('sdp', 2, { description: { type: 'answer', sdp: '' } }), msg('ice', 0, { candidate: {} }), msg('state', 0)]) {
    assert.deepEqual(routeSignal(undefined, m), { act: 'drop' }, m.kind);
  }
  // A tab we know, in generation 5.
  const p = { gen: 5 };
  assert.deepEqual(routeSignal(p, msg('hello', 6, { ack: true })), { act: 'rebuild', gen: 6, expectOffer: false });
  assert.deepEqual(routeSignal(p, msg('hello', 6, { ack: false })), { act: 'rebuild', gen: 6, expectOffer: true });
  assert.deepEqual(routeSignal(p, msg('sdp', 7, { description: { type: 'offer', sdp: '' } })), { act: 'rebuild', gen: 7, expectOffer: true });
  assert.deepEqual(routeSignal(p, msg('ice', 4, { candidate: {} })), { act: 'drop' }, 'from a replaced connection');
  assert.deepEqual(routeSignal(p, msg('hello', 4, { ack: false })), { act: 'deliver' }, 'an older hello still counts');
  assert.deepEqual(routeSignal(p, msg('sdp', 5, { description: { type: 'answer', sdp: '' } })), { act: 'deliver' });
});

test('a hello is greeted back, or opens the negotiation we were waiting for', () => {
  const we = { gen: 2, reachable: true, expectOffer: false, hasRemote: false };
  assert.equal(answerHello({ ack: false, gen: 2 }, we), 'greet');
  assert.equal(answerHello({ ack: true, gen: 1 }, we), 'greet', 'it knows an older generation');
  assert.equal(answerHello({ ack: false, gen: 2 }, { ...we, reachable: false }), 'none');
  assert.equal(answerHello({ ack: true, gen: 2 }, { ...we, expectOffer: true }), 'offer');
  assert.equal(answerHello({ ack: true, gen: 2 }, { ...we, expectOffer: true, hasRemote: true }), 'none');
  assert.equal(answerHello({ ack: true, gen: 2 }, we), 'none');
});

/** A fake RTCPeerConnection: enough of the signaling state machine for perfect negotiation. */
function fakePc() {
  const l = {};
  return {
    signalingState: 'stable', localDescription: null, remoteDescription: null, currentRemoteDescription: null,
    calls: [], failIce: false, refuseAnswer: false,
    addEventListener(type, fn) { (l[type] ??= []).push(fn); },
    fire(type) { for (const fn of l[type] ?? []) fn({}); },
    async setLocalDescription() {
      await sleep(1);
      this.calls.push('local');
      if (this.signalingState === 'stable') {
        this.signalingState = 'have-local-offer';
        this.localDescription = { type: 'offer', sdp: 'offer' };
      } else {
        this.signalingState = 'stable';
        this.localDescription = { type: 'answer', sdp: 'answer' };
      }
    },
    async setRemoteDescription(d) {
      this.calls.push(`remote-${d.type}`);
      if (d.type === 'answer' && this.refuseAnswer) throw new Error('Failed to set SSL role');
      // An offer in have-local-offer: the implicit rollback.
      this.signalingState = d.type === 'offer' ? 'have-remote-offer' : 'stable';
      this.remoteDescription = d;
      this.currentRemoteDescription = d;
    },
    async addIceCandidate() {
      this.calls.push('ice');
      if (this.failIce) throw new Error('no such m-line');
    },
  };
}

function host(pc, polite) {
  return {
    tab: B, polite, pc, closed: false, canSignal: true, sent: [], renewed: 0, negotiations: 0,
    send(body) { this.sent.push(body); return true; },
    renew() { this.renewed += 1; },
    async adoptSenders() { pc.calls.push('adopt'); },
    negotiated() { this.negotiations += 1; },
  };
}
const settle = (n) => { n.enqueue(() => {}); return n.ops; };

test('glare on the impolite side: its own offer stands, the other is ignored, and so are that offer\'s candidates', async () => {
  const pc = fakePc();
  const h = host(pc, false);
  const n = new Negotiation(pc, h, false);
  pc.fire('negotiationneeded');
  await settle(n);
  assert.equal(pc.signalingState, 'have-local-offer');
  assert.deepEqual(h.sent.map((b) => b.description.type), ['offer']);
  n.enqueue(() => n.onDescription({ type: 'offer', sdp: 'theirs' }));
  pc.failIce = true;
  n.enqueue(() => n.onCandidate({ candidate: 'x' }));
  const warn = console.warn;
  let warned = 0;
  console.warn = () => { warned += 1; };
  try { await settle(n); } finally { console.warn = warn; }
  assert.ok(n.ignoreOffer);
  assert.ok(!pc.calls.includes('remote-offer'), 'their offer was not applied');
  assert.equal(warned, 0, 'a candidate of an ignored offer fails quietly');
  assert.equal(pc.signalingState, 'have-local-offer');
  n.enqueue(() => n.onDescription({ type: 'answer', sdp: 'their answer' }));
  await settle(n);
  assert.equal(pc.signalingState, 'stable');
  assert.equal(h.negotiations, 1);
});

test('glare on the polite side: it rolls back, takes the offer, sends on the new transceivers, answers', async () => {
  const pc = fakePc();
  const h = host(pc, true);
  const n = new Negotiation(pc, h, false);
  pc.fire('negotiationneeded');
  await settle(n);
  n.enqueue(() => n.onDescription({ type: 'offer', sdp: 'theirs' }));
  await settle(n);
  assert.ok(!n.ignoreOffer);
  assert.deepEqual(pc.calls, ['local', 'remote-offer', 'adopt', 'local']);
  assert.deepEqual(h.sent.map((b) => b.description.type), ['offer', 'answer']);
  assert.equal(pc.signalingState, 'stable');
  assert.equal(h.negotiations, 1);
  // Its stale offer's answer, arriving now, is dropped.
  n.enqueue(() => n.onDescription({ type: 'answer', sdp: 'late' }));
  await settle(n);
  assert.equal(pc.calls.filter((c) => c === 'remote-answer').length, 0);
});

test('the side that expects the first offer does not make one; an unreachable peer gets it on resync', async () => {
  const pc = fakePc();
  const h = host(pc, true);
  const n = new Negotiation(pc, h, true);
  pc.fire('negotiationneeded');
  await settle(n);
  assert.deepEqual(h.sent, [], 'waits for the other side');
  n.expectOffer = false;
  h.canSignal = false;
  n.enqueue(() => n.offer());
  await settle(n);
  assert.ok(n.pendingNegotiation);
  assert.deepEqual(h.sent, []);
  h.canSignal = true;
  n.resync();
  await settle(n);
  assert.ok(!n.pendingNegotiation);
  assert.deepEqual(h.sent.map((b) => b.description.type), ['offer']);
});

test('an answer that cannot be applied to a running connection renews it; a closed or replaced one runs nothing', async () => {
  const pc = fakePc();
  const h = host(pc, false);
  const n = new Negotiation(pc, h, false);
  pc.currentRemoteDescription = { type: 'answer', sdp: 'before' };
  n.enqueue(() => n.offer());
  pc.refuseAnswer = true;
  n.enqueue(() => n.onDescription({ type: 'answer', sdp: 'role change' }));
  const warn = console.warn;
  console.warn = () => {};
  try { await settle(n); } finally { console.warn = warn; }
  assert.equal(h.renewed, 1);
  pc.signalingState = 'closed';
  let ran = false;
  n.enqueue(() => { ran = true; });
  await n.ops;
  assert.equal(h.renewed, 2, 'found closed: renewed');
  assert.ok(!ran);
  pc.signalingState = 'stable';
  h.pc = fakePc();
  n.enqueue(() => { ran = true; });
  await n.ops;
  assert.ok(!ran, 'replaced: nothing runs on the old one');
});

/** A getStats report as a map by id. */
function report(relay) {
  const entries = [
    { id: 'iv', type: 'inbound-rtp', kind: 'video', mid: '1', framesDecoded: 90, framesReceived: 95, frameWidth: 640, frameHeight: 360 },
    { id: 'iv2', type: 'inbound-rtp', kind: 'video', mid: '3', framesDecoded: 5 },
    { id: 'ia', type: 'inbound-rtp', kind: 'audio', mid: '0', bytesReceived: 1000, packetsReceived: 50, totalAudioEnergy: 0.5 },
    { id: 'oa', type: 'outbound-rtp', kind: 'audio', packetsSent: 70 },
    { id: 'ov', type: 'outbound-rtp', kind: 'video', bytesSent: 9000, framesEncoded: 80, frameHeight: 540, qualityLimitationReason: 'cpu' },
    { id: 't', type: 'transport', selectedCandidatePairId: 'p', localCertificateId: 'cl', remoteCertificateId: 'cr', iceLocalUsernameFragment: 'old' },
    { id: 'cl', type: 'certificate', fingerprintAlgorithm: 'SHA-256', fingerprint: 'ab:cd' },
    { id: 'cr', type: 'certificate', fingerprintAlgorithm: 'sha-256', fingerprint: '01:02' },
    { id: 'p', type: 'candidate-pair', localCandidateId: 'l', remoteCandidateId: 'r' },
    { id: 'l', type: 'local-candidate', candidateType: relay === 'local' ? 'relay' : 'host', usernameFragment: 'new' },
    { id: 'r', type: 'remote-candidate', candidateType: relay === 'remote' ? 'relay' : 'srflx' },
  ];
  return new Map(entries.map((e) => [e.id, e]));
}

test('a stats report: what we receive on our own receivers, what we send, DTLS, the route', () => {
  const st = emptyStats();
  const { sent, received } = readStats(report(''), { audio: '0', video: '1' }, st);
  assert.deepEqual(sent, [['audio', 70], ['video', 80]], 'in the report\'s order');
  assert.deepEqual(received, [['video', 95], ['audio', 50]], 'our two receivers only, in the report\'s order');
  assert.equal(st.framesDecoded, 90, 'our receiver\'s mid, not another');
  assert.deepEqual([st.frameWidth, st.frameHeight, st.audioBytes, st.audioPackets, st.audioEnergy], [640, 360, 1000, 50, 0.5]);
  assert.deepEqual([st.videoBytesSent, st.framesEncoded, st.sentFrameHeight, st.qualityLimitation], [9000, 80, 540, 'cpu']);
  assert.deepEqual(st.dtls, { local: 'sha-256 AB:CD', remote: 'sha-256 01:02' });
  assert.equal(st.route, 'direct');
  assert.equal(st.localUfrag, 'new', 'the selected pair\'s local candidate wins');
  for (const side of ['local', 'remote']) {
    const s = emptyStats();
    readStats(report(side), { audio: '0', video: '1' }, s);
    assert.equal(s.route, 'relayed', side);
  }
  const none = emptyStats();
  assert.deepEqual(readStats(new Map(), { audio: null, video: null }, none), { sent: [], received: [] }, 'a new connection: nothing yet');
  assert.equal(none.route, '', 'no pair yet: no route');
});

test('badges: connected by route, retrying, failed after FAILED_AFTER attempts or with nobody to ask', () => {
  assert.equal(connectedBadge(''), 'direct');
  assert.equal(connectedBadge('relayed'), 'relayed');
  assert.equal(retryBadge(1), 'reconnecting');
  assert.equal(retryBadge(FAILED_AFTER), 'reconnecting');
  assert.equal(retryBadge(FAILED_AFTER + 1), 'failed');
  assert.equal(unreachableBadge('failed', true), 'failed');
  assert.equal(unreachableBadge('disconnected', false), 'failed', 'never connected');
  assert.equal(unreachableBadge('disconnected', true), 'reconnecting');
});

test('an ICE restart is done once negotiated and the new generation carries media, or after three polls', () => {
  assert.equal(ufragOf('v=0\r\na=ice-ufrag:Ab+1\r\na=ice-pwd:x'), 'Ab+1');
  assert.equal(ufragOf(undefined), '');
  assert.ok(!restartDone({ negotiated: false, pairUfrag: 'n', ufrag: 'n', settling: 9 }));
  assert.ok(restartDone({ negotiated: true, pairUfrag: 'n', ufrag: 'n', settling: 1 }));
  assert.ok(!restartDone({ negotiated: true, pairUfrag: 'o', ufrag: 'n', settling: 2 }));
  assert.ok(restartDone({ negotiated: true, pairUfrag: 'o', ufrag: 'n', settling: 3 }));
});

test('the seal check: a sender that sends for SEAL_CHECK_MS with nothing sealed bypasses its transform', () => {
  const w = { since: 0, base: 10 };
  assert.equal(sealVerdict(w, 0, 10, 1000), 'wait', 'not sending yet');
  assert.equal(sealVerdict(w, 5, 10, 1000), 'start');
  w.since = 1000;
  assert.equal(sealVerdict(w, 50, 10, 1000 + SEAL_CHECK_MS - 1), 'wait', 'too soon to say');
  assert.equal(sealVerdict(w, 90, 11, 1000 + SEAL_CHECK_MS), 'wait', 'frames are being sealed');
  assert.equal(sealVerdict(w, 90, 10, 1000 + SEAL_CHECK_MS), 'bypass');
});

test('the seal check silences a sender only on the worker\'s count of now, never on a stale one', async () => {
  const { Senders } = await import('../../web/js/call/senders.js');
  let fresh = 0;
  const told = [];
  const guard = {
    sealedCount: () => 0, // the last count the page has: stale, from before the sender started
    freshSealedCount: async () => fresh,
    sendingUnsealed: (tab, kinds) => told.push(kinds),
  };
  const senders = new Senders(B, /** @type {any} */ (guard), /** @type {any} */ ({ track: () => null }));
  const realNow = performance.now.bind(performance);
  let clock = 1000;
  performance.now = () => clock;
  try {
    assert.equal(await senders.check('video', 5), false, 'started');
    clock += SEAL_CHECK_MS + 1;
    fresh = 40; // the worker has been sealing all along
    assert.equal(await senders.check('video', 60), false);
    assert.deepEqual(told, [], 'nothing silenced');
    fresh = 0; // it really has sealed nothing
    assert.equal(await senders.check('video', 90), true, 'silenced; the connection is to be rebuilt');
    assert.deepEqual(told, [['video']]);
    assert.equal(await senders.check('video', 120), false, 'already silenced');
  } finally {
    performance.now = realNow;
  }
});

test('a connection that does not come up gets 12 s, then 24 s for each further try in a row', async () => {
  const { connectTimeout, CONNECT_TIMEOUT_MS, CONNECT_TIMEOUT_CAP_MS } = await import('../../web/js/call/peer.js');
  assert.deepEqual([0, 1, 2, 3, 50].map(connectTimeout), [12000, 24000, 24000, 24000, 24000]);
  assert.equal(CONNECT_TIMEOUT_MS, 12000);
  assert.equal(CONNECT_TIMEOUT_CAP_MS, 24000);
  // The badge turns "failed" on the fifth try: about 84 s of trying.
  let t = 0;
  for (let a = 0; a <= FAILED_AFTER - 1; a++) t += connectTimeout(a);
  assert.equal(t, 84000);
});

test('a description with two DTLS fingerprints is refused before it is applied', async () => {
  const pc = fakePc();
  const h = host(pc, true);
  const n = new Negotiation(pc, h, true);
  const two = 'v=0\r\na=fingerprint:sha-256 AB:CD\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=fingerprint:sha-256 EF:01\r\n';
  const error = console.error;
  const said = [];
  console.error = (m) => { said.push(String(m)); };
  try {
    n.enqueue(() => n.onDescription({ type: 'offer', sdp: two }));
    await settle(n);
  } finally { console.error = error; }
  assert.ok(!pc.calls.includes('remote-offer'), 'not applied');
  assert.deepEqual(h.sent, [], 'not answered');
  assert.match(said.join(' '), /more than one DTLS fingerprint/);
  // The same fingerprint twice (session and media level) is one.
  n.enqueue(() => n.onDescription({ type: 'offer', sdp: two.replace('EF:01', 'AB:CD') }));
  await settle(n);
  assert.ok(pc.calls.includes('remote-offer'));
});

test('the roster: admitted but not connected, after a grace period; rejoins start over', async () => {
  const { CONNECT_GRACE_MS, Roster, unconnectedText } = await import('../../web/js/call/roster.js');
  const r = new Roster();
  r.welcome(['a', 'b'], 0);
  r.joined('c', 5000);
  assert.equal(r.unconnected(new Set(['a']), CONNECT_GRACE_MS - 1), 0, 'still in the grace period');
  assert.equal(r.unconnected(new Set(['a']), CONNECT_GRACE_MS), 1, 'b never connected');
  assert.equal(r.unconnected(new Set(['a']), CONNECT_GRACE_MS + 5000), 2, 'nor c');
  r.left('b');
  r.joined('c', 99_999); // already known: keeps its time
  assert.equal(r.unconnected(new Set(['a']), CONNECT_GRACE_MS + 5000), 1);
  r.welcome(['x'], 100_000);
  assert.equal(r.unconnected(new Set(), 100_000 + CONNECT_GRACE_MS), 1, 'a rejoin lists who is there now');
  assert.equal(unconnectedText(0), '');
  assert.equal(unconnectedText(1), '· 1 person joined but has not connected');
  assert.equal(unconnectedText(3), '· 3 people joined but have not connected');
});

test('a peer is gone once its connection, up before, has been down GONE_PEER_MS, whatever the daemon says', async () => {
  const { GONE_PEER_MS, isGone } = await import('../../web/js/call/peer.js');
  assert.equal(isGone(false, 1, 1 + GONE_PEER_MS * 10), false, 'never up: the connect timeouts handle it');
  assert.equal(isGone(true, 0, GONE_PEER_MS * 10), false, 'up');
  assert.equal(isGone(true, 1000, 1000 + GONE_PEER_MS - 1), false);
  assert.equal(isGone(true, 1000, 1000 + GONE_PEER_MS), true);
});

test('a sender gets its track only once its transform runs in the worker', async () => {
  const { Senders } = await import('../../web/js/call/senders.js');
  const order = [];
  const waiting = [];
  const running = () => { order.push('running'); for (const r of waiting) r(); };
  const guard = {
    protectSender: (tab, sender, kind) => { order.push(`protect ${kind}`); return true; },
    transformRunning: () => new Promise((resolve) => { waiting.push(resolve); }),
    sealedCount: () => 0,
  };
  const transceiver = (kind, mid) => ({
    mid, currentDirection: null, direction: 'recvonly', receiver: { track: { kind } },
    sender: { track: null, async replaceTrack(t) { order.push(`track ${kind}`); this.track = t; } },
  });
  const ts = [transceiver('audio', '0'), transceiver('video', '1')];
  const local = { track: (kind) => ({ kind, label: `fake ${kind}` }), source: () => 'camera' };
  const senders = new Senders(B, /** @type {any} */ (guard), /** @type {any} */ (local));
  const adopted = senders.adopt(/** @type {any} */ ({ getTransceivers: () => ts }), []);
  await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(order, ['protect audio', 'protect video'], 'transforms set, no track yet');
  assert.deepEqual(ts.map((t) => t.direction), ['sendonly', 'sendonly']);
  running();
  await adopted;
  assert.deepEqual(order.slice(2), ['running', 'track audio', 'track video']);
});

test('the open check: a receiver whose packets arrive while the worker sees none of its frames rebuilds, twice at most', async () => {
  const realNow = performance.now;
  let now = 1000;
  performance.now = () => now;
  const errors = [];
  const realError = console.error;
  console.error = (m) => errors.push(m);
  try {
    let seen = 0;
    let fresh = 0;
    const guard = { openedCount: () => seen, freshOpenedCount: async () => fresh };
    const c = new OpenCheck('T', guard);
    c.reset();
    assert.equal(await c.check('audio', 0), false, 'nothing received yet');
    assert.equal(await c.check('audio', 10), false, 'receiving starts: noted');
    now += OPEN_CHECK_MS - 1;
    assert.equal(await c.check('audio', 200), false, 'too soon to say');
    now += 1;
    seen = 0;
    fresh = 3;
    assert.equal(await c.check('audio', 250), false, 'the stale count says bypass, the worker\'s count of now says frames arrive');
    fresh = 0;
    assert.equal(await c.check('audio', 260), true, 'both say nothing reached the transform: rebuild');
    assert.equal(await c.check('audio', 300), false, 'said once per connection');
    assert.match(errors[0], /audio from T does not reach the decryption transform; rebuilding/);

    // A connection whose frames do reach the worker never rebuilds.
    c.reset();
    now += 1000;
    await c.check('video', 5);
    seen = 40;
    now += 10 * OPEN_CHECK_MS;
    assert.equal(await c.check('video', 500), false, 'frames reach the worker');

    // Two more rebuilds at most, then it says so and stops.
    for (const expect of [true, false]) {
      seen = 40;
      fresh = 40;
      c.reset();
      await c.check('audio', 1);
      now += OPEN_CHECK_MS;
      assert.equal(await c.check('audio', 100), expect);
    }
    assert.equal(c.bypasses, 3);
    assert.match(errors.at(-1), /giving up after 2 rebuilds/);
  } finally {
    performance.now = realNow;
    console.error = realError;
  }
});
